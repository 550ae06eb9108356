import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadSpec } from '../../src/spec/validate.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { findSegments } from '../../src/runtime/segments.js';
import { WorkerPool } from '../../src/runtime/worker-pool.js';
import { encodeBatch, decodeBatch, encodeForWorker, originKey } from '../../src/runtime/wire.js';
import { linesToRecords, type LineBlock } from '../../src/record.js';
import { runCli, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const DEFAULT = resolve(ROOT, 'pipelines/proxy-ioc-sweep.yaml');
const lines = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean);

describe('parallel segments', () => {
  it('group parallel-safe chains and send back only what leaves them', async () => {
    const { spec } = await loadSpec(DEFAULT, { registry: builtinRegistry(), vars: { WORKERS: '2' } });
    const segs = findSegments(spec!);
    // one tree: the rules read the parsed records in the copy that parsed them
    expect(segs.map((s) => s.nodes)).toEqual([['parse', 'sweep', 'detect']]);
    expect(segs[0]!.mode).toBe('by-origin'); // format: auto keeps state per source
    expect(segs[0]!.feeds).toEqual({ parse: 'out' });
    expect(segs[0]!.branches).toEqual({ parse: [['out', 'detect']] });
    // the parsed records still leave: the window (not parallel-safe) reads them
    expect(segs[0]!.leaving).toEqual({ parse: ['out', 'invalid'], sweep: ['alerts'], detect: ['alerts'] });
    const { spec: serial } = await loadSpec(DEFAULT, { registry: builtinRegistry(), vars: { WORKERS: '1' } });
    expect(findSegments(serial!)).toEqual([]);
  });

  it('line batches cross threads as one string and come back identical', () => {
    const recs = [
      { message: 'a b c', origin: { file: 'f.log', line: 7 } },
      { message: 'd\uFFFD', origin: { file: 'f.log', line: 8 }, raw_base64: 'ZP8=' },
    ];
    const wire = encodeBatch(recs);
    expect(wire.kind).toBe('lines');
    expect(decodeBatch(structuredClone(wire))).toEqual(recs);
    const odd = [
      { message: 'x', origin: { file: 'f.log', line: 1 } },
      { message: 'y', origin: { file: 'f.log', line: 3 } },
    ];
    expect(encodeBatch(odd).kind).toBe('shaped');
    expect(decodeBatch(encodeBatch(odd))).toEqual(odd);
  });

  it('kafka records of one partition cross threads as one string, first offset and timestamp runs, and come back identical', () => {
    const rec = (offset: string, message: string, timestamp?: string) => ({
      message,
      origin: { topic: 'web.proxy', partition: 3, offset },
      ...(timestamp === undefined ? {} : { timestamp }),
    });
    const recs = [
      rec('41', 'a b', '2026-12-06T04:00:00.001Z'),
      rec('42', 'c\u00e9', '2026-12-06T04:00:00.001Z'),
      rec('43', '', '2026-12-06T04:00:00.002Z'),
      rec('44', 'd', '2026-12-06T04:00:00.001Z'),
    ];
    const wire = encodeBatch(recs);
    expect(wire).toMatchObject({
      kind: 'kafka',
      first: 41,
      tsRuns: ['2026-12-06T04:00:00.001Z', '2026-12-06T04:00:00.002Z', '2026-12-06T04:00:00.001Z'],
      tsCounts: [2, 1, 1],
    });
    const back = decodeBatch(structuredClone(wire));
    expect(back).toEqual(recs);
    expect(JSON.stringify(back)).toBe(JSON.stringify(recs)); // same keys in the same order
    const untimed = [rec('9', 'x'), rec('10', 'y')];
    expect(encodeBatch(untimed).kind).toBe('kafka');
    expect(decodeBatch(structuredClone(encodeBatch(untimed)))).toEqual(untimed);
    // What the compact form cannot carry goes in the shaped form (test/runtime/worker-wire.test.ts), unchanged.
    for (const odd of [
      [rec('1', 'x', 't'), rec('3', 'y', 't')], // a gap in the offsets
      [rec('1', 'x\ny', 't')], // a newline in a message
      [rec('1', 'x', 't'), rec('2', 'y')], // a timestamp on some only
      [{ ...rec('1', 'x', 't'), key: 'k' }], // a key
      [rec('1', 'x', 't'), { ...rec('2', 'y', 't'), origin: { topic: 'web.proxy', partition: 4, offset: '2' } }], // two partitions
    ]) {
      expect(encodeBatch(odd).kind).toBe('shaped');
      expect(decodeBatch(encodeBatch(odd))).toEqual(odd);
    }
  });

  it('blocks of lines cross threads as their bytes, copied into shared memory (nothing transferred)', () => {
    const text = Buffer.concat([Buffer.from('a b\r\n\n\r\nd '), Buffer.from([0xff]), Buffer.from('\nlast')]);
    const own = new Uint8Array(text.length);
    own.set(text);
    const block: LineBlock = { kind: 'lines', file: 'f.log', firstLine: 7, bytes: own, records: 3 };
    const expected = [
      { message: 'a b', origin: { file: 'f.log', line: 7 } },
      { message: 'd \uFFFD', origin: { file: 'f.log', line: 10 }, raw_base64: Buffer.from([0x64, 0x20, 0xff]).toString('base64') },
      { message: 'last', origin: { file: 'f.log', line: 11 } },
    ];
    expect(linesToRecords(block)).toEqual(expected);
    expect(originKey(block)).toBe('f.log');
    const { wire, transfer } = encodeForWorker(block);
    expect(transfer).toEqual([]);
    expect((wire as { block: LineBlock }).block.bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    const arrived = structuredClone(wire, { transfer });
    expect(own.byteLength).toBe(text.length); // copied, not moved: nothing detached here
    expect(decodeBatch(arrived)).toEqual(expected);
    // A view into a larger buffer, the same.
    const big = Buffer.alloc(text.length + 10);
    text.copy(big, 5);
    const view = { ...block, bytes: big.subarray(5, 5 + text.length) };
    const sent = encodeForWorker(view);
    expect(sent.transfer).toEqual([]);
    expect(decodeBatch(structuredClone(sent.wire))).toEqual(expected);
  });

  it('a by-origin segment starts a copy only when a source is first given to it', async () => {
    const spec = (await loadSpec(resolve(ROOT, 'test/fixtures/proxy-log/specs/parse.yaml'), { registry: builtinRegistry(), vars: { LOGS: 'x.log' } })).spec!;
    const [seg] = findSegments(spec, 2);
    expect(seg!.mode).toBe('by-origin'); // format: auto
    const failures: Error[] = [];
    const pool = WorkerPool.launch(spec, seg!, 2, { stateDir: tempDir('pool-'), logLevel: 'warn', once: true }, (e) => failures.push(e));
    try {
      expect(pool.started).toBe(1);
      await pool.init({});
      const line = '1699948800.007 12 10.0.0.1 TCP_MISS/200 500 GET http://a.example/x - HIER_DIRECT/1.2.3.4 text/html';
      const batch = (file: string) => [{ message: line, origin: { file, line: 1 } }];
      // one source: every batch goes to the same copy, and no other copy starts
      for (let i = 0; i < 3; i++) expect((await pool.submit(batch('a.log'))).outputs.find(([, port]) => port === 'out')![2]).toHaveLength(1);
      expect(pool.started).toBe(1);
      // sources spread over both copies: the second starts on demand (given the prepared values) and parses alike
      const files = Array.from({ length: 8 }, (_, i) => `f${i}.log`);
      const outs = await Promise.all(files.map((f) => pool.submit(batch(f))));
      expect(pool.started).toBe(2);
      for (const [i, r] of outs.entries()) {
        const out = r.outputs.find(([, port]) => port === 'out')![2];
        expect(out).toHaveLength(1);
        expect((out[0] as { origin: { file: string } }).origin.file).toBe(files[i]);
      }
      await pool.finish();
      expect(failures).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('the default pipeline gives the same results with two workers as with none', async () => {
    const results: Record<string, { alerts: string[]; windows: string[]; rejects: string[]; summary: any }> = {};
    for (const w of ['1', '2']) {
      const out = tempDir(`par${w}-`);
      const r = await runCli(['run', DEFAULT, '--var', `OUT=${out}`, '--var', `WORKERS=${w}`, '--summary-json', join(out, 's.json'), '--log-level', 'warn']);
      expect(r.code).toBe(0);
      results[w] = {
        alerts: lines(join(out, 'alerts.jsonl')).sort(),
        windows: lines(join(out, 'windows.jsonl')).sort(),
        rejects: lines(join(out, 'rejects.jsonl'))
          .map((l) => {
            const j = JSON.parse(l);
            delete j['@timestamp'];
            return JSON.stringify(j);
          })
          .sort(),
        summary: JSON.parse(readFileSync(join(out, 's.json'), 'utf8')),
      };
    }
    expect(results['2']!.alerts).toEqual(results['1']!.alerts);
    expect(results['2']!.windows).toEqual(results['1']!.windows);
    expect(results['2']!.rejects).toEqual(results['1']!.rejects);
    const counts = (s: any) => s.nodes.map((n: any) => [n.node, n.in, n.out, n.metrics.indicators_loaded ?? null]);
    expect(counts(results['2']!.summary)).toEqual(counts(results['1']!.summary));
  });

  it('keeps at-least-once delivery: SIGTERM mid-run with workers drains and commits exactly what was delivered', async () => {
    const dir = tempDir('par-stop-');
    const n = 40_000;
    const logLines = Array.from(
      { length: n },
      (_, i) =>
        `1715680800.${String(i % 1000).padStart(3, '0')}    120 10.1.1.${i % 200} TCP_MISS/200 512 GET http://h${i % 50}.example/p${i} - DIRECT/192.0.2.${i % 250} text/html`,
    );
    writeFileSync(join(dir, 'a.log'), logLines.join('\n') + '\n');
    const slow = resolve(import.meta.dirname, '../fixtures/plugins/slow.mjs');
    writeFileSync(
      join(dir, 'spec.yaml'),
      `version: 1
name: par-stop
plugins: [${JSON.stringify(slow)}]
settings: { workers: 2, flush_interval: 50ms }
nodes:
  src: { source: file, with: { paths: ["${dir}/a.log"], batch_size: 200, checkpoint: true } }
  parse: { transform: proxy-log, from: src, with: { format: squid } }
  keep: { transform: filter, from: parse, with: { when: true } }
  slow: { transform: slow-pass, from: keep, with: { ms_per_batch: 25 } }
  out: { sink: file, from: [slow, src.invalid, parse.invalid], with: { path: "${dir}/out.jsonl" } }
`,
    );
    const { startCli } = await import('../helpers/cli.js');
    const run = startCli(['run', join(dir, 'spec.yaml'), '--state-dir', join(dir, 'state'), '--log-level', 'warn']);
    const t0 = Date.now();
    while (Date.now() - t0 < 30_000) {
      await new Promise((r) => setTimeout(r, 100));
      let have = 0;
      try {
        have = lines(join(dir, 'out.jsonl')).length;
      } catch {
        /* not yet */
      }
      if (have > 4000) break;
    }
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code).toBe(0);
    const delivered = lines(join(dir, 'out.jsonl')).map((l) => JSON.parse(l).origin.line as number);
    expect(delivered.length).toBeLessThan(n);
    const cp = JSON.parse(readFileSync(join(dir, 'state/par-stop/src/checkpoints.json'), 'utf8'));
    const committed = (Object.values(cp.files)[0] as { line: number }).line;
    const got = new Set(delivered);
    for (let i = 1; i <= committed; i++) expect(got.has(i)).toBe(true);
    const again = await runCli(['run', join(dir, 'spec.yaml'), '--state-dir', join(dir, 'state'), '--log-level', 'warn']);
    expect(again.code).toBe(0);
    const all = new Set(lines(join(dir, 'out.jsonl')).map((l) => JSON.parse(l).origin.line as number));
    expect(all.size).toBe(n);
  });
});
