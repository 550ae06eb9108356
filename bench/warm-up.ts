/**
 * What V8's warm-up costs the cold sweep: the bench's default sweep (bench/pipelines/sweep.yaml, one
 * thread) run several times in one process through the runtime (`loadSpec` + `runPipeline`, as
 * `sluice run` calls them), over the generated squid log and over an empty log, with the CPU of each
 * run (`process.cpuUsage`: every thread of the process, V8's compiler threads included). Each run
 * has a fresh state directory, so each loads the feed from its file and writes its snapshot, as the
 * cold `sweep squid` row does. The first run pays for compiling the feed loader and the line path
 * (and for the memory the process maps the first time); the later ones find both done.
 *
 *   npm run build && node dist/bench/warm-up.js [--lines 1000000] [--indicators 1000000] [--runs 4]
 *
 * Start-up (the process, its modules, the CLI) is not in these figures: the bench's `startup` row
 * measures it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureFeed, ensureLog } from './generate/files.js';
import { HIT_POOL_SIZE } from './generate/feed.js';
import { PIPELINES_DIR } from './lib/paths.js';
import { loadSpec } from '../src/spec/validate.js';
import { declaredBuiltinRegistry } from '../src/plugins/declared-builtins.js';
import { runPipeline } from '../src/runtime/run.js';
import { createLogger } from '../src/log/logger.js';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    indicators: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '4' },
    seed: { type: 'string', default: '42' },
  },
});
const seed = Number(values.seed);
const runs = Math.max(2, Number(values.runs));
const feed = ensureFeed(seed, Number(values.indicators));
const logs = ensureLog('squid', seed, Number(values.lines));
const empty = ensureLog('squid', seed, 0);
const small = ensureFeed(seed, HIT_POOL_SIZE);
const dir = mkdtempSync(join(tmpdir(), 'sluice-warm-up-'));

/** One run of the sweep over `log` against `feedPath`; its CPU seconds and the alerts it wrote. */
async function once(log: string, k: number, feedPath = feed.path): Promise<{ cpu: number; alerts: number }> {
  const alerts = join(dir, `alerts-${k}.jsonl`);
  const vars = { LOGS: log, FEED: feedPath, FORMAT: 'squid', ALERTS: alerts, REJECTS: join(dir, `rejects-${k}.jsonl`) };
  const c0 = process.cpuUsage();
  const { spec, issues } = await loadSpec(join(PIPELINES_DIR, 'sweep.yaml'), { vars, registry: declaredBuiltinRegistry() });
  if (!spec) throw new Error(`bench/pipelines/sweep.yaml: ${issues.map((i) => i.message).join('; ')}`);
  await runPipeline(spec, { stateDir: join(dir, `state-${k}`), logger: createLogger('warn', spec.secrets), workers: 1 });
  const c = process.cpuUsage(c0);
  const n = readFileSync(alerts, 'utf8').split('\n').filter(Boolean).length;
  return { cpu: (c.user + c.system) / 1e6, alerts: n };
}

async function series(log: string, from: number): Promise<{ cpu: number; alerts: number }[]> {
  const out: { cpu: number; alerts: number }[] = [];
  for (let k = 0; k < runs; k++) out.push(await once(log, from + k));
  return out;
}

try {
  // first a run that loads next to nothing (the generator's thousand-indicator feed, an empty log): the
  // modules the runtime and the plugins import, and what a run sets up once, are then paid for (the
  // bench's `startup` row measures them); next the empty log with the feed, whose first run is the
  // loader's cold one; then the log, whose first run finds the loader compiled and pays for the line
  // path's warm-up
  const setUp = await once(empty.path, 2 * runs, small.path);
  const e = await series(empty.path, 0);
  const l = await series(logs.path, runs);
  const counts = new Set(l.map((r) => r.alerts));
  if (counts.size !== 1) throw new Error(`the runs wrote different numbers of alerts: ${l.map((r) => r.alerts).join(', ')}`);
  const fmt = (xs: { cpu: number }[]) => xs.map((x) => x.cpu.toFixed(2)).join(', ');
  const loadWarm = Math.min(...e.slice(1).map((x) => x.cpu));
  const sweepWarm = Math.min(...l.slice(1).map((x) => x.cpu));
  const loaderWarmUp = e[0]!.cpu - loadWarm;
  const lineWarmUp = l[0]!.cpu - sweepWarm;
  const lines = Number(values.lines);
  const s2 = (x: number) => x.toFixed(2);
  console.log(
    `sweep of ${lines.toLocaleString('en')} squid lines × ${feed.indicators.toLocaleString('en')} indicators, one thread, ${runs} runs of each in one process (CPU s, every thread):`,
  );
  console.log(`  empty log, ${small.indicators.toLocaleString('en')}-indicator feed (set-up, not counted below): ${setUp.cpu.toFixed(2)}`);
  console.log(`  empty log (the feed load):  ${fmt(e)}`);
  console.log(`  the log (load and lines):   ${fmt(l)}   (${l[0]!.alerts} alerts each run)`);
  console.log(`  warm: feed load ${s2(loadWarm)} s, lines ${(((sweepWarm - loadWarm) / lines) * 1e6).toFixed(2)} µs each beyond it`);
  console.log(`  warm-up of a cold process: ${s2(loaderWarmUp + lineWarmUp)} CPU s (the loader's ${s2(loaderWarmUp)}, the line path's ${s2(lineWarmUp)})`);
  console.log(`  a cold process's load + lines: ${s2(e[0]!.cpu + l[0]!.cpu - loadWarm)} s; warm: ${s2(sweepWarm)} s`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
