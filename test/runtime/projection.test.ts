/**
 * Projections (API 1.5, `ProcessorDef.reads`, src/runtime/projection.ts): a record's projection
 * reads like the record on every listed path; the window declares every field it reads (the same
 * outputs from projections as from whole records, its late records made whole again); the default
 * pipelines' parsed records cross as projections; and a run with worker copies gives whole late
 * records to the `late` sink.
 */
import { describe, it, expect } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import windowPlugin from '../../plugins/analyse/window/index.js';
import { getPath, type Rec } from '../../src/api.js';
import { configFor, createProcessor, processAll } from '../helpers/harness.js';
import {
  decodeProjected,
  encodeProjected,
  hold,
  overlay,
  projectLoop,
  projector,
  projectedRoutes,
  readsOf,
  released,
  restore,
} from '../../src/runtime/projection.js';
import type { CompiledSpec } from '../../src/graph/build.js';
import { findSegments } from '../../src/runtime/segments.js';
import { encodes } from '../../src/runtime/sink-encode.js';
import { loadSpec } from '../../src/spec/validate.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { runPipeline } from '../../src/runtime/run.js';
import { testContext } from '../helpers/harness.js';
import { tempDir } from '../helpers/tmp.js';

const ROOT = resolve(import.meta.dirname, '../..');

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('projector', () => {
  const fields = [
    '@timestamp',
    'source.ip',
    'http.request.bytes',
    'http.response.bytes',
    'url.domain',
    'event.original',
    'origin',
    'toString',
    'a.constructor',
  ];
  const records: Rec[] = [
    {
      '@timestamp': 't',
      source: { ip: '10.0.0.1', port: 3 },
      http: { request: { bytes: 5, method: 'GET' } },
      url: { domain: 'x' },
      event: { original: 'l' },
      origin: { file: 'f', line: 1 },
    },
    { source: 'not an object', http: { request: null }, url: ['array'], origin: { topic: 't', partition: 0, offset: '1' } },
    { 'source.ip': 'dotted key', source: { ip: 'nested' }, event: { original: undefined }, toString: 'own' },
    { a: { constructor: 'own constructor' }, http: { response: { bytes: 0 } } },
    {},
  ];
  it('reads like the record on every listed path (generated and loop)', () => {
    const gen = projector(fields);
    for (const r of records) {
      for (const p of [
        gen(r),
        projectLoop(
          fields,
          fields.filter((f) => f.includes('.')),
          r,
        ),
      ]) {
        for (const f of fields) expect(getPath(p, f), f).toEqual(getPath(r, f));
        // nothing else
        expect(getPath(p, 'source.port')).toBeUndefined();
        expect(getPath(p, 'http.request.method')).toBeUndefined();
      }
    }
  });
  it('the projected wire form reads alike, records that do not fit its layout included', () => {
    const wire = encodeProjected(records, fields)!;
    // through a structured clone, as between threads
    const back = decodeProjected(structuredClone(wire));
    expect(back).toHaveLength(records.length);
    expect(wire.irregular.map(([i]) => i)).toEqual([1, 2]); // a string where source.ip goes on; a 'source.ip' key
    records.forEach((r, i) => {
      for (const f of fields) expect(getPath(back[i]!, f), `${i} ${f}`).toEqual(getPath(r, f));
    });
    // strings repeated record to record are sent once
    const many = Array.from({ length: 50 }, (_, i) => ({ '@timestamp': 'same', source: { ip: `10.0.0.${i}` }, origin: { file: 'f', line: i } }));
    const w2 = encodeProjected(many, ['@timestamp', 'source.ip', 'origin'])!;
    expect(w2.strings.length).toBe(52);
    expect(decodeProjected(w2)).toEqual(many);
  });
  it('a path under one copied whole adds nothing', () => {
    expect(projector(['source', 'source.ip'])({ source: { ip: 1, port: 2 } })).toEqual({ source: { ip: 1, port: 2 } });
  });
  it('overlay: the whole record, with what the reader added or replaced on top', () => {
    const whole: Rec = { a: 1, b: { c: 2, d: 3 }, e: 'x' };
    const proj = projector(['b.c'])(whole);
    expect(overlay(proj, proj, { ...whole })).toEqual(whole);
    expect(overlay({ ...proj, w: { late: true } }, proj, { ...whole })).toEqual({ ...whole, w: { late: true } });
    expect(overlay({ ...proj, b: 'replaced' }, proj, { ...whole })).toEqual({ ...whole, b: 'replaced' });
  });
});

describe('held batches, with a fake copy', () => {
  it('records emitted on a whole port come back whole, fetched by index; a released batch refuses', async () => {
    const whole: Rec[] = [0, 1, 2, 3].map((i) => ({ a: i, b: { c: i, d: `d${i}` }, origin: { file: 'f', line: i } }));
    const project = projector(['b.c', 'origin']);
    const projections = whole.map(project);
    const asked: number[][] = [];
    let releases = 0;
    hold(
      projections,
      2,
      {},
      async (idx) => (asked.push(idx), idx.map((i) => structuredClone(whole[i]!))),
      () => releases++,
    );
    const late = [{ ...projections[3]!, window: { late: true } }, projections[1]!];
    const back = restore(late, 'n');
    expect(asked).toEqual([[3, 1]]); // posted before restore returns
    expect(await back).toEqual([{ ...whole[3]!, window: { late: true } }, whole[1]]);
    released(projections);
    expect(releases).toBe(0); // two readers
    released(projections.slice());
    expect(releases).toBe(1);
    await expect(restore([projections[0]!], 'n')).rejects.toThrow(/after the batch that held it was processed/);
    // records without a handle pass as they are
    expect(await restore([{ x: 1 }], 'n')).toEqual([{ x: 1 }]);
  });
  it('reads() that lists a field or port it cannot have fails the run at start, naming the node', () => {
    const specWith = (reads: unknown) =>
      ({
        nodes: new Map([
          [
            'n',
            { name: 'n', kind: 'analyse', config: {}, inputs: [], plugin: { def: { name: 'p', kind: 'analyse', ports: ['out', 'late'], reads: () => reads } } },
          ],
        ]),
      }) as unknown as CompiledSpec;
    expect(readsOf(specWith({ fields: ['a.b'], whole: ['late'] }), 'n')).toEqual({ fields: ['a.b'], whole: ['late'] });
    expect(readsOf(specWith(undefined), 'n')).toBeUndefined();
    expect(() => readsOf(specWith({ fields: ['a.__proto__'] }), 'n')).toThrow(/'a.__proto__'/);
    expect(() => readsOf(specWith({ fields: ['a'], whole: ['nope'] }), 'n')).toThrow(/'nope' in whole/);
    expect(() => readsOf(specWith({}), 'n')).toThrow(/no \{ fields/);
  });
});

/** Parsed-looking records: several clients and files, out of order, too late, without key or time. */
function records(n: number, seed: number): Rec[] {
  const rnd = lcg(seed);
  const out: Rec[] = [];
  let t = Date.parse('2024-05-14T10:00:00Z');
  for (let i = 0; i < n; i++) {
    t += Math.floor(rnd() * 2000);
    let at = t;
    const r = rnd();
    if (r < 0.05) at -= Math.floor(rnd() * 90_000);
    else if (r < 0.08) at -= 600_000 + Math.floor(rnd() * 600_000);
    const rec: Rec = {
      '@timestamp': rnd() < 0.01 ? 'not a time' : new Date(at).toISOString(),
      event: { dataset: 'squid.access', original: `line ${i}`, duration: at },
      source: rnd() < 0.02 ? {} : { ip: `10.0.0.${Math.floor(rnd() * 5)}`, port: 1000 + i },
      user: { name: `u${Math.floor(rnd() * 3)}` },
      url: { domain: `h${Math.floor(rnd() * 7)}.example`, path: '/p' },
      http: {
        request: { method: 'GET', bytes: Math.floor(rnd() * 1000) },
        response: { bytes: rnd() < 0.1 ? undefined : Math.floor(rnd() * 5000), status_code: 200 },
      },
      origin: { file: rnd() < 0.3 ? 'b.log' : 'a.log', line: i },
    };
    out.push(rec);
  }
  return out;
}

describe('the window reads only what it declares', () => {
  const configs = [
    {
      key: ['source.ip'],
      size: '5m',
      slide: '1m',
      allowed_lateness: '2m',
      aggregate: {
        requests: 'count',
        out: { sum: 'http.request.bytes' },
        inb: { avg: 'http.response.bytes' },
        hosts: { distinct: 'url.domain' },
        big: { max: 'http.request.bytes' },
      },
      alert_when: { '>': [{ var: 'requests' }, 20] },
      samples: 2,
    },
    {
      key: ['source.ip', 'user.name'],
      size: '2m',
      allowed_lateness: '30s',
      aggregate: { n: { count: 'http.response.bytes' }, lo: { min: 'http.response.bytes' } },
      alert_when: { '>': [{ var: 'n' }, 3] },
      max_keys: 4,
    },
    { size: '1m', aggregate: { n: 'count' }, time_field: 'event.duration', allowed_lateness: '10s' },
  ];
  for (const [i, cfg] of configs.entries()) {
    it(`config ${i}: projections give the same windows, alerts and late records as whole records`, async () => {
      const reads = windowPlugin.reads!(configFor(windowPlugin, cfg));
      expect(reads?.whole).toEqual(['out', 'late']);
      const project = projector([...reads!.fields, 'origin']);
      const input = records(3000, i + 1);
      const batches = (recs: Rec[]) => Array.from({ length: Math.ceil(recs.length / 100) }, (_, b) => recs.slice(b * 100, b * 100 + 100));
      const whole = await processAll(await createProcessor(windowPlugin, cfg, testContext('volume')), batches(input));
      const projections = input.map(project);
      const proj = await processAll(await createProcessor(windowPlugin, cfg, testContext('volume')), batches(projections));
      expect(proj.windows).toEqual(whole.windows);
      expect(proj.alerts).toEqual(whole.alerts);
      expect((whole.late ?? []).length).toBeGreaterThan(0);
      // late records made whole as the runtime does: by the projection each came from
      const byProj = new Map(projections.map((p, k) => [p, k]));
      const restored = (proj.late ?? []).map((l) => {
        const k = [...byProj.entries()].find(([p]) => l.source === p.source && l['@timestamp'] === p['@timestamp'] && l.origin === p.origin)![1];
        return overlay(l, projections[k]!, structuredClone(input[k]!));
      });
      expect(restored).toEqual(whole.late);
      expect(proj.out).toEqual(projections);
    });
  }
});

describe('which outputs cross as projections', () => {
  it("the default pipelines' parsed records, read only by the window (which summarises them, API 1.8)", async () => {
    for (const p of ['proxy-ioc-sweep.yaml', 'proxy-ioc-sweep.kafka.yaml']) {
      const { spec } = await loadSpec(resolve(ROOT, 'pipelines', p), { registry: builtinRegistry() });
      const segs = findSegments(spec!, 2);
      const routes = projectedRoutes(spec!, segs[0]!, segs, (s) => encodes(spec!, s));
      const volume = spec!.nodes.get('volume')!;
      expect(routes, p).toEqual([
        {
          node: 'parse',
          port: 'out',
          readers: 1,
          fields: ['origin', '@timestamp', 'source.ip', 'http.request.bytes', 'http.response.bytes', 'url.domain', 'event.original'],
          summary: { reader: 'volume', kind: 'analyse', plugin: 'window', from: 'built-in', config: volume.config },
        },
      ]);
      // an observer reading them keeps them whole
      expect(
        projectedRoutes(
          spec!,
          segs[0]!,
          segs,
          (s) => encodes(spec!, s),
          (n, port) => n === 'parse' && port === 'out',
        ),
      ).toEqual([]);
    }
  });
  it('not when a node that reads everything reads them too', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 's.yaml'),
      `version: 1
nodes:
  src: { source: file, with: { paths: ["${dir}/a.log"] } }
  parse: { transform: proxy-log, from: src, with: { format: squid } }
  sweep: { analyse: ioc-sweep, from: parse, with: { feeds: [{ name: b, path: "${dir}/b.txt", format: list }] } }
  w: { analyse: window, from: parse, with: { size: 1m, aggregate: { n: count } } }
  raw: { sink: stdout, from: parse }
  out: { sink: file, from: [sweep.alerts, w.windows], with: { path: "${dir}/out.jsonl" } }
`,
    );
    writeFileSync(join(dir, 'b.txt'), 'x\n');
    const { spec } = await loadSpec(join(dir, 's.yaml'), { registry: builtinRegistry() });
    const segs = findSegments(spec!, 2);
    expect(projectedRoutes(spec!, segs[0]!, segs, (s) => encodes(spec!, s))).toEqual([]);
  });
});

describe('a run with worker copies', () => {
  it('late records reach their sink whole, as with one thread', async () => {
    const dir = tempDir('proj-');
    mkdirSync(join(dir, 'logs'));
    const rnd = lcg(7);
    const lines: string[] = [];
    let t = 1_715_680_800;
    for (let i = 0; i < 4000; i++) {
      t += rnd() * 2;
      const at = rnd() < 0.05 ? t - 900 : t; // 5% later than the lateness
      lines.push(
        `${at.toFixed(3)} ${i} 10.0.0.${Math.floor(rnd() * 4)} TCP_MISS/200 ${i} GET http://h${Math.floor(rnd() * 3)}.example/p${i} - HIER_DIRECT/192.0.2.1 text/html`,
      );
    }
    writeFileSync(join(dir, 'logs', 'a.log'), `${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'bad.txt'), 'h1.example\n');
    const specText = (w: number) => `version: 1
name: proj
nodes:
  proxy: { source: file, with: { paths: ["${dir}/logs/*.log"], batch_size: 50 } }
  parse: { transform: proxy-log, from: proxy, with: { format: auto, keep_original: true } }
  sweep: { analyse: ioc-sweep, from: parse, with: { feeds: [{ name: bad, path: "${dir}/bad.txt", format: list }] } }
  volume:
    analyse: window
    from: parse
    with: { key: [source.ip], size: 1m, allowed_lateness: 1m, aggregate: { n: count, hosts: { distinct: url.domain } }, samples: 1, alert_when: { ">": [{ var: n }, 10] } }
  alerts: { sink: file, from: [sweep.alerts, volume.alerts], with: { path: "${dir}/out-${w}/alerts.jsonl", mode: overwrite } }
  late: { sink: file, from: volume.late, with: { path: "${dir}/out-${w}/late.jsonl", mode: overwrite } }
`;
    const read = (w: number, f: string) =>
      readFileSync(join(dir, `out-${w}`, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .sort();
    for (const w of [1, 2]) {
      writeFileSync(join(dir, `s${w}.yaml`), specText(w));
      const { spec } = await loadSpec(join(dir, `s${w}.yaml`), { registry: builtinRegistry() });
      const summary = await runPipeline(spec!, { stateDir: join(dir, `state-${w}`), logger: testContext().logger, workers: w, once: true });
      expect(summary.workers?.count).toBe(w);
    }
    const late = read(2, 'late.jsonl');
    expect(late.length).toBeGreaterThan(100);
    // whole: fields the window does not read are there
    for (const l of late)
      expect(JSON.parse(l)).toMatchObject({ destination: expect.anything(), http: { request: { method: 'GET' } }, window: { reason: 'LATE' } });
    expect(late).toEqual(read(1, 'late.jsonl'));
    expect(read(2, 'alerts.jsonl')).toEqual(read(1, 'alerts.jsonl'));
  }, 60_000);
});
