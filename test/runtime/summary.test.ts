/**
 * Batch summaries (API 1.8, projection.ts `SummaryRoute`, chain.ts `runSummary`): a main-thread
 * processor whose plugin summarises batches in the worker copies gets summaries in place of the
 * parsed records, and the whole records of the batches it refuses. With the test plugin
 * test/fixtures/plugins/summed-tally.mjs (it refuses summaries holding a new key, and every Nth):
 * file → proxy-log → {ioc-sweep, summed-tally} with worker copies gives one thread's alerts, first
 * records per key (whole, from refused batches), keyless records, tallies and rejects, and the same
 * count on every node and port; both paths ran (`merged`, `refused`). With the window: a batch late
 * as a whole against the batch before it (no copy can see that in its own batch) is refused by the
 * main thread, its records made again by the copy from the batch's input (`Copy.replay`), and its
 * late records reach the late sink whole, as on one thread.
 */
import { describe, it, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chooseWorkers } from '../../src/runtime/workers.js';
import { projectedRoutes } from '../../src/runtime/projection.js';
import { findSegments } from '../../src/runtime/segments.js';
import { encodes } from '../../src/runtime/sink-encode.js';
import { tempDir } from '../helpers/tmp.js';
import { loadTestSpec, nodeOf, runTestSpec } from '../helpers/run-spec.js';
import { squidLog as squidLogOf } from '../helpers/squid-log.js';
import { linesWithoutTime } from '../helpers/jsonl.js';

const TALLY = resolve(import.meta.dirname, '../fixtures/plugins/summed-tally.mjs');
const HOSTS = ['www.example.com', 'bad.example.net', 'cdn.example.org', 'x.evil.example.io', 'files.example.com', 'a.example.com', 'b.example.com'];

function setup(refuseEvery: number, extra = ''): { dir: string; file: string } {
  const dir = tempDir('summary-');
  writeFileSync(join(dir, 'a.log'), squidLogOf(6000, HOSTS, 89));
  // every 211th line a CONNECT, which has no url.full: keyless for the tally
  const b = squidLogOf(3000, HOSTS, 97)
    .split('\n')
    .map((l, i) => (i % 211 === 100 ? `${1715690000 + i}.000 5 10.0.0.1 TCP_TUNNEL/200 100 CONNECT app.example.com:443 - HIER_DIRECT/192.0.2.1 -` : l));
  writeFileSync(join(dir, 'b.log'), b.join('\n'));
  writeFileSync(join(dir, 'bad.txt'), 'bad.example.net\nevil.example.io\n');
  const file = join(dir, 'spec.yaml');
  writeFileSync(
    file,
    `version: 1
name: summary
plugins: [${JSON.stringify(TALLY)}]
nodes:
  logs: { source: file, with: { paths: ["${dir}/a.log", "${dir}/b.log"], batch_size: 250 } }
  parse: { transform: proxy-log, from: logs, with: { format: auto } }
  sweep:
    analyse: ioc-sweep
    from: parse
    with: { feeds: [{ name: bad, path: "${dir}/bad.txt", format: list }] }
  tally: { analyse: summed-tally, from: parse, with: { key: url.full, refuse_every: ${refuseEvery} } }
  alerts: { sink: file, from: sweep.alerts, with: { path: "\${OUT}/alerts.jsonl" } }
  firsts: { sink: file, from: tally.firsts, with: { path: "\${OUT}/firsts.jsonl" } }
  keyless: { sink: file, from: tally.keyless, with: { path: "\${OUT}/keyless.jsonl" } }
  tallies: { sink: file, from: tally.tallies, with: { path: "\${OUT}/tallies.jsonl" } }
  rejects: { sink: file, from: [logs.invalid, parse.invalid], with: { path: "\${OUT}/rejects.jsonl" } }
${extra}`,
  );
  return { dir, file };
}

const load = loadTestSpec;
const run = runTestSpec;

const lines_ = (f: string) => linesWithoutTime(f).sort();
const node = nodeOf;
const without = (m: Record<string, number> | undefined, ...names: string[]) => Object.fromEntries(Object.entries(m ?? {}).filter(([k]) => !names.includes(k)));

describe('batch summaries', () => {
  it('summaries merged, refused batches processed whole: one thread’s outputs and counts', async () => {
    const { dir, file } = setup(5);
    const one = await run(file, join(dir, 'one'), { workers: 1 });
    const two = await run(file, join(dir, 'two'), { workers: 2 });
    for (const f of ['alerts', 'firsts', 'keyless', 'tallies', 'rejects']) {
      const want = lines_(join(dir, 'one', `${f}.jsonl`));
      expect(want.length, f).toBeGreaterThan(f === 'keyless' ? 0 : 5);
      expect(lines_(join(dir, 'two', `${f}.jsonl`)), f).toEqual(want);
    }
    // the first records are whole (fetched back from the copies), not projections of url.full
    const first = JSON.parse(linesWithoutTime(join(dir, 'two', 'firsts.jsonl'))[0]!);
    expect(first.url.full).toBeTypeOf('string');
    expect(first.source.ip).toBeTypeOf('string');
    for (const name of ['logs', 'parse', 'sweep', 'tally', 'alerts', 'firsts', 'keyless', 'tallies', 'rejects']) {
      expect(node(two, name).in, name).toBe(node(one, name).in);
      expect(node(two, name).out, name).toEqual(node(one, name).out);
      const runtime = ['merged', 'refused', 'summaries_merged', 'summaries_refused'];
      expect(without(node(two, name).metrics, ...runtime), name).toEqual(without(node(one, name).metrics, ...runtime));
    }
    const m = node(two, 'tally').metrics ?? {};
    expect(m.merged).toBeGreaterThan(0);
    expect(m.refused).toBeGreaterThan(0);
    // the runtime's count of the same (summaries the plugin's summariser gave up on are neither)
    expect(m.summaries_merged).toBe(m.merged);
    expect(m.summaries_refused).toBe(m.refused);
    expect(node(one, 'tally').metrics?.merged).toBeUndefined();
  });

  it('the window: a batch late as a whole against an earlier batch is refused, made again from its input, its records late and whole', async () => {
    const dir = tempDir('summary-late-');
    // blocks of 100 lines: the second 100 an hour older than the first (each block in order, so no
    // copy sees a late record in its own batch), the third back in time order
    const line = (i: number, at: number) =>
      `${at}.000 ${i} 10.0.0.${i % 5} TCP_MISS/200 ${100 + i} GET http://h${i % 3}.example.com/p${i} - HIER_DIRECT/192.0.2.1 text/html`;
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) lines.push(line(i, 1_715_680_800 + (i < 100 ? 3600 + i : i < 200 ? i : 3600 + i)));
    writeFileSync(join(dir, 'a.log'), `${lines.join('\n')}\n`);
    const file = join(dir, 'spec.yaml');
    writeFileSync(
      file,
      `version: 1
name: summary-late
nodes:
  logs: { source: file, with: { paths: ["${dir}/a.log"], batch_size: 100 } }
  parse: { transform: proxy-log, from: logs, with: { format: auto } }
  volume:
    analyse: window
    from: parse
    with: { key: [source.ip], size: 1m, allowed_lateness: 1m, aggregate: { requests: count, hosts: { distinct: url.domain } } }
  windows: { sink: file, from: volume.windows, with: { path: "\${OUT}/windows.jsonl" } }
  late: { sink: file, from: volume.late, with: { path: "\${OUT}/late.jsonl" } }
`,
    );
    const one = await run(file, join(dir, 'one'), { workers: 1 });
    const two = await run(file, join(dir, 'two'), { workers: 2 });
    for (const f of ['windows', 'late']) expect(lines_(join(dir, 'two', `${f}.jsonl`)), f).toEqual(lines_(join(dir, 'one', `${f}.jsonl`)));
    const late = linesWithoutTime(join(dir, 'two', 'late.jsonl')).map((l) => JSON.parse(l));
    expect(late).toHaveLength(100);
    // whole: fields the window does not read came back with them
    expect(late.every((r) => r.window?.reason === 'LATE' && r.http?.response?.status_code === 200 && r.url?.path !== undefined)).toBe(true);
    const m = node(two, 'volume').metrics;
    expect(m.summaries_refused).toBeGreaterThanOrEqual(1);
    expect(m.summaries_merged).toBeGreaterThanOrEqual(1);
    expect(node(one, 'volume').metrics.summaries_merged).toBeUndefined();
  });

  it('auto: a summarised output is no reason to stay on one thread from three cores; a read `passes` port is', async () => {
    const { dir, file } = setup(0);
    const spec = await load(file, join(dir, 'x'));
    const choice = await chooseWorkers(spec, { minBytes: 1, cores: 3 });
    expect(choice.count).toBe(3);
    // on two cores the main thread's merging made two threads slower than one (workers.ts MERGE_MIN_CORES)
    expect(await chooseWorkers(spec, { minBytes: 1, cores: 2 })).toMatchObject({
      count: 1,
      reason: expect.stringContaining('on 2 cores two threads were slower'),
    });
    const segs = findSegments(spec, 2);
    const routes = projectedRoutes(spec, segs[0]!, segs, (s) => encodes(spec, s));
    expect(routes.map((r) => [r.node, r.port, r.summary?.reader])).toEqual([['parse', 'out', 'tally']]);

    const read = setup(0, '  passed: { sink: file, from: tally.out, with: { path: "${OUT}/passed.jsonl" } }\n');
    const spec2 = await load(read.file, join(read.dir, 'x'));
    const segs2 = findSegments(spec2, 2);
    expect(projectedRoutes(spec2, segs2[0]!, segs2, (s) => encodes(spec2, s))[0]?.summary).toBeUndefined();
    expect((await chooseWorkers(spec2, { minBytes: 1, cores: 2 })).count).toBe(1);
  });
});
