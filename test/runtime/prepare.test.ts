/**
 * `prepare`: built once in the main thread, shared by every copy of the node (SharedArrayBuffer
 * memory really shared), replaced with `publish` between batches, cleaned up at the end of the run
 * and at SIGTERM; a failing prepare fails the run and names the node. Uses a third-party test
 * plugin loaded by path (test/fixtures/plugins/shared.mjs).
 */
import { describe, it, expect } from 'vitest';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCli, startCli } from '../helpers/cli.js';
import { createProcessor } from '../helpers/harness.js';
import { tempDir } from '../helpers/tmp.js';

const plugin = resolve(import.meta.dirname, '../fixtures/plugins/shared.mjs');
const readJsonLines = (f: string) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.endsWith('}'))
    .map((l) => JSON.parse(l));

function setup(n: number, workers: number, stamp: string, pad = 0): { dir: string; spec: string } {
  const dir = tempDir('prepare-');
  writeFileSync(join(dir, 'in.log'), Array.from({ length: n }, (_, i) => `line ${i + 1}${' '.repeat(pad)}.`).join('\n') + '\n');
  const spec = join(dir, 'spec.yaml');
  writeFileSync(
    spec,
    `version: 1
name: prep
plugins: [${JSON.stringify(plugin)}]
settings: { workers: ${workers}, flush_interval: 50ms }
nodes:
  src: { source: file, with: { paths: ["${dir}/in.log"], batch_size: 100 } }
  stamp: { transform: shared-stamp, from: src, with: ${stamp.replaceAll('DIR', dir)} }
  out: { sink: file, from: [stamp, src.invalid], with: { path: "${dir}/out.jsonl", mode: overwrite } }
`,
  );
  return { dir, spec };
}

describe('prepare: one value per node, shared by every copy', () => {
  for (const workers of [1, 2]) {
    it(`workers: ${workers} — every copy shares the memory; publish reaches each copy between batches`, async () => {
      const n = 20_000;
      const { dir, spec } = setup(n, workers, '{ report: "DIR/report.json", publish_after: 1000, ms_per_batch: 3 }');
      const res = await runCli(['run', spec, '--summary-json', join(dir, 's.json'), '--log-level', 'warn']);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      const all = readJsonLines(join(dir, 'out.jsonl'));
      const finals = all.filter((r) => r.final).map((r) => r.final);
      const recs = all.filter((r) => !r.final);
      expect(recs).toHaveLength(n);

      // One instance per copy; main-thread instances get prepare's own object, worker copies a clone.
      expect(finals).toHaveLength(workers);
      for (const f of finals) expect(f.same_object).toBe(workers === 1);

      // Shared memory both ways: the copies counted every record in it, and the main thread read it...
      const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
      expect(report).toEqual({ counted: n, aborted: true, published: true });
      // ...and what the main thread wrote there after publishing is what each copy reads at the end.
      for (const f of finals) expect(f).toMatchObject({ gen: 2, main_gen: 2, updates: 1 });

      // The update came between batches: per copy, generation 1 then generation 2, never back;
      // ctx.shared agrees with what update() received; both generations were seen.
      const byCopy = new Map<string, { seq: number; gen: number; ctx_gen: number }[]>();
      for (const r of recs) {
        if (!byCopy.has(r.stamp.copy)) byCopy.set(r.stamp.copy, []);
        byCopy.get(r.stamp.copy)!.push(r.stamp);
      }
      for (const stamps of byCopy.values()) {
        stamps.sort((a, b) => a.seq - b.seq);
        const gens = stamps.map((s) => s.gen);
        const firstTwo = gens.indexOf(2);
        if (firstTwo !== -1) expect(gens.slice(firstTwo).every((g) => g === 2)).toBe(true);
        expect(stamps.every((s) => s.ctx_gen === s.gen)).toBe(true);
        // Batches are whole: a generation changes on a batch boundary (100 records per batch).
        if (firstTwo > 0) expect(firstTwo % 100).toBe(0);
      }
      const gens = new Set(recs.map((r) => r.stamp.gen));
      expect([...gens].sort()).toEqual([1, 2]);
      const s = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8'));
      expect(s.nodes.find((x: any) => x.node === 'stamp').metrics.prepared_gen).toBe(2); // prepare's metrics are the node's
    });
  }

  it('clean-ups run at SIGTERM (with workers), after the drain', async () => {
    const { dir, spec } = setup(50_000, 2, '{ report: "DIR/report.json", ms_per_batch: 20 }', 100);
    const run = startCli(['run', spec, '--log-level', 'warn']);
    const t0 = Date.now();
    while (Date.now() - t0 < 30_000) {
      await new Promise((r) => setTimeout(r, 50));
      if (existsSync(join(dir, 'out.jsonl')) && readFileSync(join(dir, 'out.jsonl'), 'utf8').length > 100_000) break;
    }
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('stopped by signal');
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    const delivered = readJsonLines(join(dir, 'out.jsonl')).filter((x) => !x.final).length;
    expect(report.aborted).toBe(true);
    expect(report.counted).toBeLessThan(50_000); // it really was interrupted
    expect(report.counted).toBe(delivered); // every processed batch was drained to the sink
  });

  it('a failing prepare fails the run, naming the node; clean-ups already registered still run', async () => {
    const dir = tempDir('prepare-fail-');
    writeFileSync(join(dir, 'in.log'), 'a\nb\n');
    const spec = join(dir, 'spec.yaml');
    writeFileSync(
      spec,
      `version: 1
name: prep-fail
plugins: [${JSON.stringify(plugin)}]
settings: { workers: 2 }
nodes:
  src: { source: file, with: { paths: ["${dir}/in.log"] } }
  first: { transform: shared-stamp, from: src, with: { report: "${dir}/first.json" } }
  second: { transform: shared-stamp, from: first, with: { report: "${dir}/second.json", fail: true } }
  out: { sink: file, from: second, with: { path: "${dir}/out.jsonl" } }
`,
    );
    const r = await runCli(['run', spec, '--log-level', 'silent']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("node 'second': prepare failed: feed unreachable (test)");
    expect(existsSync(join(dir, 'first.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'first.json'), 'utf8')).counted).toBe(0);
    expect(existsSync(join(dir, 'out.jsonl'))).toBe(false);
  });

  it('a prepared value that cannot cross to a worker thread fails the run, naming the node (workers: 1 takes it as it is)', async () => {
    for (const workers of [2, 1]) {
      const { dir, spec } = setup(10, workers, '{ report: "DIR/report.json", uncloneable: true }');
      const r = await runCli(['run', spec, '--log-level', 'silent']);
      if (workers === 2) {
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("node 'stamp': the shared value of 'stamp' cannot be sent to worker threads");
      } else {
        expect(r.code).toBe(0);
      }
      expect(existsSync(join(dir, 'report.json'))).toBe(true); // cleaned up either way
    }
  });

  it('the plugin test harness runs prepare as the runtime does: ctx.shared, publish → update, clean-ups on close', async () => {
    const def = (await import(plugin)).default;
    const dir = tempDir('prepare-harness-');
    const inst = await createProcessor(def, { report: join(dir, 'report.json'), publish_after: 2 });
    const first = (await inst.process([{ message: 'a' }, { message: 'b' }])) as { out: any[] };
    expect(first.out.map((r) => r.stamp.gen)).toEqual([1, 1]);
    expect(first.out[0].stamp.same_object).toBe(true);
    const t0 = Date.now();
    let gen = 1;
    while (gen === 1 && Date.now() - t0 < 10_000) {
      await new Promise((r) => setTimeout(r, 5));
      gen = ((await inst.process([{ message: 'c' }])) as { out: any[] }).out[0].stamp.gen;
    }
    expect(gen).toBe(2);
    await inst.close!();
    expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'))).toMatchObject({ published: true });
  });
});
