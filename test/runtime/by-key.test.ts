/**
 * By-key segments (segments.ts, worker-pool.ts, chain.ts `notOwned`): a `'by-key'` node joins the
 * chain whose records it reads; every copy is given every batch, the by-key node of each keeps its
 * share of the keys, the nodes beside it run on the batches a copy owns. Against one thread:
 * file → proxy-log → {ioc-sweep, key-tally (test/fixtures/plugins/key-tally.mjs)} → sinks gives the
 * same alerts, tallies, first records per key and rejects, and the same count on every node and
 * port, metrics included: each record counted once, though every copy parsed it.
 */
import { describe, it, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadSpec } from '../../src/spec/validate.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { chooseWorkers } from '../../src/runtime/workers.js';
import type { RunSummary } from '../../src/runtime/summary.js';
import { tempDir } from '../helpers/tmp.js';
import { nodeOf, runTestSpec } from '../helpers/run-spec.js';
import { squidLog as squidLogOf } from '../helpers/squid-log.js';
import { linesWithoutTime } from '../helpers/jsonl.js';

const TALLY = resolve(import.meta.dirname, '../fixtures/plugins/key-tally.mjs');
const HOSTS = ['www.example.com', 'bad.example.net', 'cdn.example.org', 'x.evil.example.io', 'files.example.com', 'a.example.com', 'b.example.com'];

/** `n` squid lines, every 89th broken (a reject), hosts from HOSTS (some in the feed). */
const squidLog = (n: number): string => squidLogOf(n, HOSTS, 89);

function setup(): { dir: string; file: string } {
  const dir = tempDir('by-key-');
  writeFileSync(join(dir, 'a.log'), squidLog(5000));
  writeFileSync(join(dir, 'b.log'), squidLog(3000));
  writeFileSync(join(dir, 'bad.txt'), 'bad.example.net\nevil.example.io\n');
  const file = join(dir, 'spec.yaml');
  writeFileSync(
    file,
    `version: 1
name: by-key
plugins: [${JSON.stringify(TALLY)}]
nodes:
  logs: { source: file, with: { paths: ["${dir}/a.log", "${dir}/b.log"], batch_size: 300 } }
  parse: { transform: proxy-log, from: logs, with: { format: auto } }
  sweep:
    analyse: ioc-sweep
    from: parse
    with: { feeds: [{ name: bad, path: "${dir}/bad.txt", format: list }] }
  tally: { analyse: key-tally, from: parse, with: { key: url.full } }
  alerts: { sink: file, from: sweep.alerts, with: { path: "\${OUT}/alerts.jsonl" } }
  firsts: { sink: file, from: tally.firsts, with: { path: "\${OUT}/firsts.jsonl" } }
  tallies: { sink: file, from: tally.tallies, with: { path: "\${OUT}/tallies.jsonl" } }
  rejects: { sink: file, from: [logs.invalid, parse.invalid], with: { path: "\${OUT}/rejects.jsonl" } }
`,
  );
  return { dir, file };
}

const run = runTestSpec;

/** A file's lines, each without `@timestamp` (rejects carry the time they were made), sorted. */
const lines_ = (f: string) => linesWithoutTime(f).sort();
const node = nodeOf;

describe('by-key segments', () => {
  it('every copy runs every batch; outputs and counts are one thread’s', async () => {
    const { dir, file } = setup();
    const one = await run(file, join(dir, 'one'), { workers: 1 });
    const keyed = await run(file, join(dir, 'keyed'), { workers: 2, byKey: true });
    expect(keyed.workers?.reason).toContain("'tally' in the worker copies, each with a share of the keys");
    for (const f of ['alerts', 'firsts', 'tallies', 'rejects']) {
      const want = lines_(join(dir, 'one', `${f}.jsonl`));
      expect(want.length, f).toBeGreaterThan(f === 'tallies' ? 5 : 50);
      expect(lines_(join(dir, 'keyed', `${f}.jsonl`)), f).toEqual(want);
    }
    for (const name of ['logs', 'parse', 'sweep', 'tally', 'alerts', 'firsts', 'tallies', 'rejects']) {
      expect(node(keyed, name).in, name).toBe(node(one, name).in);
      expect(node(keyed, name).out, name).toEqual(node(one, name).out);
      expect(node(keyed, name).metrics, name).toEqual(node(one, name).metrics);
    }
  });

  it('the window as by-key copies: one thread’s windows, alerts, samples and late records', async () => {
    const { dir } = setup();
    // times out of order now and then: late records, some windows closed already
    const lines = squidLog(6000)
      .split('\n')
      .map((l, i) => (i % 97 === 40 && /^\d/.test(l) ? l.replace(/^(\d+)/, (t) => String(Number(t) - 400)) : l));
    writeFileSync(join(dir, 'a.log'), lines.join('\n'));
    const file = join(dir, 'window.yaml');
    writeFileSync(
      file,
      `version: 1
name: by-key-window
nodes:
  logs: { source: file, with: { paths: ["${dir}/a.log", "${dir}/b.log"], batch_size: 300 } }
  parse: { transform: proxy-log, from: logs, with: { format: squid, keep_original: true } }
  sweep:
    analyse: ioc-sweep
    from: parse
    with: { feeds: [{ name: bad, path: "${dir}/bad.txt", format: list }] }
  volume:
    analyse: window
    from: parse
    with:
      key: [url.domain]
      size: 2m
      slide: 1m
      allowed_lateness: 3m
      aggregate: { requests: count, bytes_in: { sum: http.response.bytes }, clients: { distinct: source.ip } }
      alert_when: { ">": [{ var: requests }, 30] }
      samples: 2
      alert: { name: busy-host, severity: low }
  alerts: { sink: file, from: [sweep.alerts, volume.alerts], with: { path: "\${OUT}/alerts.jsonl" } }
  windows: { sink: file, from: volume.windows, with: { path: "\${OUT}/windows.jsonl" } }
  late: { sink: file, from: volume.late, with: { path: "\${OUT}/late.jsonl" } }
  rejects: { sink: file, from: [logs.invalid, parse.invalid], with: { path: "\${OUT}/rejects.jsonl" } }
`,
    );
    const one = await run(file, join(dir, 'one'), { workers: 1 });
    const keyed = await run(file, join(dir, 'keyed'), { workers: 2, byKey: true });
    expect(keyed.workers?.reason).toContain("'volume' in the worker copies");
    for (const f of ['alerts', 'windows', 'late', 'rejects']) {
      const want = lines_(join(dir, 'one', `${f}.jsonl`));
      expect(want.length, f).toBeGreaterThan(20);
      expect(lines_(join(dir, 'keyed', `${f}.jsonl`)), f).toEqual(want);
    }
    for (const name of ['logs', 'parse', 'sweep', 'volume', 'alerts', 'windows', 'late', 'rejects']) {
      expect(node(keyed, name).in, name).toBe(node(one, name).in);
      expect(node(keyed, name).out, name).toEqual(node(one, name).out);
    }
    // counters add up over the copies; the gauges (keys, partitions, watermark) are each copy's own
    const counters = (s: RunSummary) =>
      Object.fromEntries(Object.entries(node(s, 'volume').metrics).filter(([k]) => !['keys', 'partitions', 'watermark_ms'].includes(k)));
    expect(counters(keyed)).toEqual(counters(one));
  });

  it('auto: the by-key node joins the chain with file input when SLUICE_BY_KEY=1; not by default', async () => {
    const { dir, file } = setup();
    const { spec } = await loadSpec(file, { registry: builtinRegistry(), vars: { OUT: dir } });
    const before = process.env.SLUICE_BY_KEY;
    delete process.env.SLUICE_BY_KEY;
    try {
      // the tally on the main thread: every parsed record would leave the chain for it
      expect(await chooseWorkers(spec!, { cores: 2, minBytes: 1 })).toMatchObject({ count: 1, reason: expect.stringContaining("'parse' leaves") });
      process.env.SLUICE_BY_KEY = '1';
      expect(await chooseWorkers(spec!, { cores: 2, minBytes: 1 })).toMatchObject({ count: 2, byKey: true });
    } finally {
      if (before === undefined) delete process.env.SLUICE_BY_KEY;
      else process.env.SLUICE_BY_KEY = before;
    }
    // pinned: as before unless asked
    expect((await chooseWorkers(spec!, { cores: 2, override: 2 })).byKey).toBeUndefined();
    expect(await chooseWorkers(spec!, { cores: 2, override: 2, byKey: true })).toMatchObject({ count: 2, byKey: true });
  });
});
