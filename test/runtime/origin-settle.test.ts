import { describe, it, expect } from 'vitest';
import { resolve } from 'node:path';
import { loadSpec } from '../../src/spec/validate.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { findSegments } from '../../src/runtime/segments.js';
import { WorkerPool, type SegmentResult } from '../../src/runtime/worker-pool.js';
import type { Rec } from '../../src/record.js';
import { ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const FAKE_SPEC = resolve(import.meta.dirname, '../fixtures/plugins/settle-spec.yaml');

async function pool(specFile: string, vars: Record<string, string>) {
  const loaded = await loadSpec(specFile, { registry: builtinRegistry(), vars });
  expect(loaded.issues?.filter((i) => i.severity === 'error') ?? []).toEqual([]);
  const spec = loaded.spec!;
  const [seg] = findSegments(spec, 2);
  expect(seg!.mode).toBe('by-origin');
  const failures: Error[] = [];
  const p = WorkerPool.launch(spec, seg!, 2, { stateDir: tempDir('settle-'), logLevel: 'warn', once: true }, (e) => failures.push(e));
  await p.init({});
  return { pool: p, failures };
}

const port = (r: SegmentResult, name: string): Rec[] => r.outputs.find(([, p]) => p === name)?.[2] ?? [];

/**
 * One source's batches: the first alone (it settles the source, or not), then the rest submitted
 * together, as the runner does when copies have room.
 */
async function oneSource(p: WorkerPool, batches: Rec[][]): Promise<SegmentResult[]> {
  const first = await p.submit(batches[0]!);
  const rest = await Promise.all(batches.slice(1).map((b) => p.submit(b)));
  return [first, ...rest];
}

describe('settled sources of by-origin chains', () => {
  const lines = (file: string, from: number, n: number, first?: string): Rec[] => {
    const recs: Rec[] = Array.from({ length: n }, (_, i) => ({ message: `line ${from + i}`, origin: { file, line: from + i + (first ? 1 : 0) } }));
    if (first) recs.unshift({ message: first, origin: { file, line: 1 } });
    return recs;
  };
  const batches = (file: string) => [lines(file, 1, 10, 'tag red'), ...Array.from({ length: 8 }, (_, b) => lines(file, 11 + b * 10, 10))];

  it('fake plugin: a settled source spreads over both copies, which tag its lines alike', async () => {
    const { pool: p, failures } = await pool(FAKE_SPEC, { IN: 'x.log', OUT: 'y.jsonl', STATE: 'settles' });
    try {
      expect(p.started).toBe(1);
      const results = await oneSource(p, batches('a.log'));
      const out = results.flatMap((r) => port(r, 'out'));
      expect(out.map((r) => r.message)).toEqual(Array.from({ length: 90 }, (_, i) => `line ${i + 1}`));
      expect(new Set(out.map((r) => r.tag))).toEqual(new Set(['red']));
      expect(p.started).toBe(2);
      expect(new Set(out.map((r) => r.thread)).size).toBe(2);
      // the first batch settled the source: only it carried the state back
      expect(results.map((r) => r.settled !== undefined)).toEqual([true, false, false, false, false, false, false, false, false]);
      await p.finish();
      expect(failures).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it('fake plugin: a source that never settles stays with one copy', async () => {
    const { pool: p, failures } = await pool(FAKE_SPEC, { IN: 'x.log', OUT: 'y.jsonl', STATE: 'never' });
    try {
      const results = await oneSource(p, batches('a.log'));
      const out = results.flatMap((r) => port(r, 'out'));
      expect(out).toHaveLength(90);
      expect(new Set(out.map((r) => r.tag))).toEqual(new Set(['red']));
      expect(new Set(out.map((r) => r.thread)).size).toBe(1);
      expect(p.started).toBe(1);
      expect(results.every((r) => r.settled === undefined)).toBe(true);
      await p.finish();
      expect(failures).toEqual([]);
    } finally {
      await p.close();
    }
  });

  const PARSE = resolve(ROOT, 'test/fixtures/proxy-log/specs/parse.yaml');
  const squid = (i: number) =>
    `1699948800.${String(i % 1000).padStart(3, '0')} 12 10.0.0.${i % 250} TCP_MISS/200 500 GET http://h${i % 7}.example/p${i} - HIER_DIRECT/1.2.3.4 text/html`;

  it('proxy-log auto: a squid file settles and spreads over both copies; an ELFF file stays with one', async () => {
    const { pool: p, failures } = await pool(PARSE, { LOGS: 'x.log' });
    try {
      const file = (name: string, make: (i: number) => string) =>
        Array.from({ length: 6 }, (_, b) =>
          Array.from({ length: 50 }, (_, i) => ({ message: make(b * 50 + i), origin: { file: name, line: b * 50 + i + 1 } })),
        );
      // a first line auto cannot read is a FORMAT reject, before the format is known
      const sq = file('a.log', (i) => (i === 0 ? 'garbage' : squid(i)));
      const res = await oneSource(p, sq);
      expect(res[0]!.settled).toEqual([{ format: 'squid' }]);
      expect(res.flatMap((r) => port(r, 'out'))).toHaveLength(299);
      expect(res.flatMap((r) => port(r, 'invalid')).map((r) => (r as any).error.code)).toEqual(['PARSE_FORMAT']);
      expect(p.started).toBe(2);
      await p.finish();
      expect(failures).toEqual([]);
    } finally {
      await p.close();
    }
    const { pool: q, failures: f2 } = await pool(PARSE, { LOGS: 'x.log' });
    try {
      const elff = (i: number) =>
        i === 0
          ? '#Fields: date time c-ip sc-status cs-method cs-uri'
          : `2024-03-22 10:00:${String(i % 60).padStart(2, '0')} 10.0.0.1 200 GET http://e.example/${i}`;
      const batchesOf = Array.from({ length: 6 }, (_, b) =>
        Array.from({ length: 50 }, (_, i) => ({ message: elff(b * 50 + i), origin: { file: 'e.log', line: b * 50 + i + 1 } })),
      );
      const res = await oneSource(q, batchesOf);
      expect(res.every((r) => r.settled === undefined)).toBe(true);
      expect(res.flatMap((r) => port(r, 'out'))).toHaveLength(299);
      expect(q.started).toBe(1);
      await q.finish();
      expect(f2).toEqual([]);
    } finally {
      await q.close();
    }
  });
});
