/**
 * A pipeline made slow on purpose (a sink that waits per batch) over a generated log with bad
 * lines and indicator hits, run in this process with the run monitor and an HTTP server on a free
 * loopback port: for tests that watch a run from outside (metrics, tap, top, the status page).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadSpec } from '../../src/spec/validate.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { runPipeline } from '../../src/runtime/run.js';
import type { RunSummary } from '../../src/runtime/summary.js';
import type { CompiledSpec } from '../../src/graph/build.js';
import { observe, type Observing } from '../../src/observe/index.js';
import { testContext } from './harness.js';
import { tempDir } from './tmp.js';

export const ROOT = resolve(import.meta.dirname, '../..');

/** Write `copies` copies of the bundled squid sample (it has bad lines and hits) and a spec over it. */
export function slowSpecText(opts: { copies: number; msPerBatch: number; batchSize?: number; workers?: number }): { dir: string; file: string; text: string } {
  const dir = tempDir('observe-');
  const sample = readFileSync(join(ROOT, 'examples/logs/squid-access.log'), 'utf8');
  writeFileSync(join(dir, 'in.log'), sample.repeat(opts.copies));
  const slow = resolve(ROOT, 'test/fixtures/plugins/slow.mjs');
  const text = `version: 1
name: observed
plugins: [${JSON.stringify(slow)}]
settings: { queue_batches: 4, workers: ${opts.workers ?? 1} }
nodes:
  logs: { source: file, with: { paths: ["${dir}/in.log"], batch_size: ${opts.batchSize ?? 100} } }
  parse: { transform: proxy-log, from: logs, with: { format: squid } }
  sweep:
    analyse: ioc-sweep
    from: parse
    with:
      feeds:
        - { name: bad-ips, path: ${JSON.stringify(join(ROOT, 'examples/feeds/bad-ips.txt'))}, format: list }
        - { name: feodo, path: ${JSON.stringify(join(ROOT, 'examples/feeds/feodo.csv'))}, format: csv }
  records: { sink: slow-sink, from: sweep, with: { ms_per_batch: ${opts.msPerBatch} } }
  alerts: { sink: file, from: sweep.alerts, with: { path: "${dir}/alerts.jsonl" } }
  rejects: { sink: file, from: [logs.invalid, parse.invalid], with: { path: "${dir}/rejects.jsonl" } }
`;
  const file = join(dir, 'spec.yaml');
  writeFileSync(file, text);
  return { dir, file, text };
}

export async function compileSlow(opts: {
  copies: number;
  msPerBatch: number;
  batchSize?: number;
  workers?: number;
}): Promise<{ spec: CompiledSpec; dir: string; file: string }> {
  const { dir, file, text } = slowSpecText(opts);
  const { spec, issues } = await loadSpec(file, { text, registry: builtinRegistry() });
  if (!spec) throw new Error(issues.map((i) => i.message).join('\n'));
  return { spec, dir, file };
}

/** Start the run (not awaited) with metrics and the status page on one free port. */
export async function startObservedRun(spec: CompiledSpec, dir: string): Promise<{ obs: Observing; base: string; run: Promise<RunSummary> }> {
  const obs = await observe(spec, { metrics: '127.0.0.1:0', ui: '127.0.0.1:0' });
  const base = obs.listening[0]!.url;
  const run = runPipeline(spec, { stateDir: join(dir, 'state'), logger: testContext().logger, observer: obs.monitor });
  return { obs, base, run };
}

/** Prometheus text → series (`name{a="b",c="d"}` with labels sorted) → value. */
export function parseProm(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!] as const).filter(([k]) => k !== 'pipeline');
    labels.sort((a, b) => a[0].localeCompare(b[0]));
    out.set(`${m[1]}{${labels.map(([k, v]) => `${k}="${v}"`).join(',')}}`, Number(m[3]));
  }
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
