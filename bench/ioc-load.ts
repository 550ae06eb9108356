/**
 * ioc-sweep micro-benchmark: load time and RSS growth for a feed of M mixed indicators (goal for
 * 1,000,000: ≤ 2 s, ≤ 200 MB), and lookups/s of the sweep over parsed-like records.
 *
 *   npm run build && node --expose-gc dist/bench/ioc-load.js [--indicators N] [--records N] [--seed S]
 *
 * `runIocLoad()` returns the figures, so `bench/run.ts` can fold them into `npm run bench`.
 * Each figure is measured in this process only; run it in a fresh process (RSS is process-wide).
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { ensureFeed } from './generate/files.js';
import { hitPool, makeIndicator, type Indicator } from './generate/feed.js';
import { mulberry32, subSeed, int } from './lib/prng.js';
import { loadFeed } from '../plugins/analyse/ioc-sweep/feeds/index.js';
import iocSweep from '../plugins/analyse/ioc-sweep/index.js';
import { benchInstance } from './lib/context.js';
import type { PluginContext, ProcessorInstance, Rec } from '../src/api.js';

export interface IocLoadResult {
  indicators: number;
  loaded: number;
  skipped: number;
  loadMs: number;
  /** CPU time of the load (user + system): less sensitive than wall time to other load on the machine. */
  loadCpuMs: number;
  rssDeltaMB: number;
  heapDeltaMB: number;
  records: number;
  hitRecords: number;
  alerts: number;
  lookupsPerSec: number;
  gcExposed: boolean;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

/** A parsed-like record (ECS names) whose destination is `ind` (a hit) or random (a miss). */
function recordFor(ind: Indicator, i: number): Rec {
  const host = ind.type === 'url' ? ind.url!.host : ind.type === 'domain' ? `www.${ind.value}` : (ind.host ?? ind.value);
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  const isIp = /^[\d.]+$/.test(bare) || bare.includes(':');
  const original = ind.type === 'url' ? ind.value : `http://${host}/index.html`;
  return {
    '@timestamp': new Date(1767225600000 + i * 10).toISOString(),
    source: { ip: `10.1.${(i >> 8) & 255}.${i & 255}` },
    destination: isIp ? { ip: bare } : { domain: bare },
    url: { original, domain: bare },
    event: { dataset: 'bench' },
  };
}

function silentContext(): PluginContext {
  const noop = () => {};
  return {
    node: 'bench',
    pipeline: 'bench',
    logger: { debug: noop, info: noop, warn: noop, error: noop },
    metrics: { add: noop, set: noop },
    signal: new AbortController().signal,
    resolvePath: (p) => p,
    stateDir: () => '/tmp',
    once: true,
  };
}

export async function runIocLoad(opts: { indicators: number; records: number; seed: number }): Promise<IocLoadResult> {
  const feedFile = ensureFeed(opts.seed, opts.indicators);
  const feed = { name: 'bench', path: feedFile.path, format: 'list' as const, exact: false, timeout: '30s', optional: false, confidence: 50, tags: ['bench'] };

  // The first load in a fresh process: what a pipeline start costs (cold JIT included).
  gc();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const l = await loadFeed(feed, { resolvePath: (p) => p });
  const loadMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const loadCpuMs = (cpu.user + cpu.system) / 1000;
  gc();
  const rssDeltaMB = (process.memoryUsage().rss - rss0) / 2 ** 20;
  const heapDeltaMB = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;

  // Lookups: 1 record in 20 goes to a pool indicator, the rest to fresh random (missing) ones.
  const pool = hitPool(opts.seed);
  const rng = mulberry32(subSeed(opts.seed, 'ioc-bench-records'));
  const records: Rec[] = [];
  let hitRecords = 0;
  for (let i = 0; i < opts.records; i++) {
    if (int(rng, 20) === 0) {
      records.push(recordFor(pool[int(rng, pool.length)]!, i));
      hitRecords++;
    } else records.push(recordFor(makeIndicator(rng, (['ipv4', 'domain', 'url', 'ipv6'] as const)[int(rng, 4)]!), i));
  }
  const p = (await benchInstance(
    iocSweep,
    {
      feeds: [feed],
      allowlist: [],
      rule_name: 'ioc-sweep',
      fields: { ip: ['destination.ip'], host: ['url.domain', 'destination.domain'], url: ['url.original'] },
    },
    silentContext(),
  )) as ProcessorInstance;
  const BATCH = 1000;
  const run = async () => {
    let alerts = 0;
    for (let i = 0; i < records.length; i += BATCH) alerts += ((await p.process(records.slice(i, i + BATCH))).alerts ?? []).length;
    return alerts;
  };
  await run(); // warm-up
  const t1 = performance.now();
  const alerts = await run();
  const sweepMs = performance.now() - t1;
  await p.close?.();
  if (l.store.size === 0) throw new Error('nothing loaded'); // keeps the measured store alive until here
  return {
    indicators: opts.indicators,
    loaded: l.store.size,
    skipped: l.tally.skipped,
    loadMs,
    loadCpuMs,
    rssDeltaMB,
    heapDeltaMB,
    records: records.length,
    hitRecords,
    alerts,
    lookupsPerSec: records.length / (sweepMs / 1000),
    gcExposed: typeof (globalThis as any).gc === 'function',
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { indicators: { type: 'string', default: '1000000' }, records: { type: 'string', default: '200000' }, seed: { type: 'string', default: '42' } },
  });
  const r = await runIocLoad({ indicators: Number(values.indicators), records: Number(values.records), seed: Number(values.seed) });
  console.log(JSON.stringify(r, null, 2));
  if (!r.gcExposed) console.error('note: run with node --expose-gc for a stable RSS figure');
  console.log(
    `load ${r.indicators} indicators: ${(r.loadMs / 1000).toFixed(2)} s wall, ${(r.loadCpuMs / 1000).toFixed(2)} s CPU (goal ≤ 2 s), RSS +${r.rssDeltaMB.toFixed(0)} MB (goal ≤ 200 MB); sweep ${Math.round(r.lookupsPerSec).toLocaleString('en')} records/s`,
  );
}
