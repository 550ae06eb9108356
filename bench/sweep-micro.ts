/**
 * ioc-sweep micro-benchmark, in-process, on one core: the cost per record of `IocSweep.process`
 * (atoms + lookups + alerts) on records as proxy-log builds them, against a large feed.
 *
 *   npm run build && node dist/bench/sweep-micro.js [--lines 200000] [--rounds 7] [--logs F] [--feed F]
 *
 * The first `--lines` lines of a generated squid log are parsed ONCE by the real `ProxyLogParser`
 * (not timed); the feed is loaded once by the plugin. Each round then sweeps every batch of 1000
 * records and, interleaved, runs a minimal `Set`-based reference over the same records (exact IP
 * string, each label suffix of `url.domain` sliced and looked up, `url.original` looked up whole: no
 * CIDRs, no normalisation), so that the ratio is stable on a noisy shared machine. Best round counts.
 * Almost every record is a miss (the generated traffic hits ~0.2% of the time).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import proxyLog, { type ProxyLogParser } from '../plugins/transform/proxy-log/index.js';
import iocSweep from '../plugins/analyse/ioc-sweep/index.js';
import type { ProcessorInstance, Rec } from '../src/api.js';
import { quietContext } from './lib/context.js';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '7' },
    logs: { type: 'string', default: 'bench/data/logs-squid-s42-n1000000-g1.log' },
    feed: { type: 'string', default: 'bench/data/feed-s42-m1000000-g1.txt' },
  },
});
const N = Number(values.lines);
const ROUNDS = Number(values.rounds);
const BATCH = 1000;

async function readLines(path: string, n: number): Promise<string[]> {
  const out: string[] = [];
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) {
    out.push(line);
    if (out.length >= n) break;
  }
  rl.close();
  return out;
}

function parse(lines: string[]): Rec[][] {
  const p = proxyLog.create({ format: 'squid', keep_original: false }, quietContext('parse')) as ProxyLogParser;
  const batches: Rec[][] = [];
  for (let i = 0; i < lines.length; i += BATCH) {
    const b: Rec[] = [];
    for (let k = i; k < Math.min(i + BATCH, lines.length); k++) b.push({ message: lines[k]!, origin: { file: 'bench.log', line: k + 1 } });
    const r = p.process(b) as { out: Rec[] };
    if (r.out.length > 0) batches.push(r.out);
  }
  return batches;
}

/** The minimal reference: exact-string Sets, as a quick script would hold a feed. */
function reference(feedPath: string): (recs: Rec[]) => number {
  const ips = new Set<string>();
  const domains = new Set<string>();
  const urls = new Set<string>();
  for (const raw of readFileSync(feedPath, 'utf8').split('\n')) {
    const v = raw.trim();
    if (v.length === 0 || v.charCodeAt(0) === 35) continue;
    if (v.includes('://')) urls.add(v);
    else if (/^[\d.]+$/.test(v) || v.includes(':')) ips.add(v);
    else if (!v.includes('/')) domains.add(v);
  }
  return (recs) => {
    let hits = 0;
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i] as { destination?: { ip?: string }; url?: { domain?: string; original?: string } };
      const ip = r.destination?.ip;
      if (ip !== undefined && ips.has(ip)) hits++;
      const d = r.url?.domain;
      if (d !== undefined) {
        if (domains.has(d)) hits++;
        for (let k = d.indexOf('.'); k >= 0; k = d.indexOf('.', k + 1)) if (domains.has(d.slice(k + 1))) hits++;
      }
      const u = r.url?.original;
      if (u !== undefined && urls.has(u)) hits++;
    }
    return hits;
  };
}

const lines = await readLines(values.logs!, N);
const batches = parse(lines);
const records = batches.reduce((n, b) => n + b.length, 0);
const tLoad = performance.now();
const sweep = (await iocSweep.create(
  { feeds: [{ name: 'bench', path: values.feed!, format: 'list', exact: false, timeout: '30s', optional: false }], allowlist: [], rule_name: 'ioc-sweep', fields: { ip: ['destination.ip'], host: ['url.domain', 'destination.domain'], url: ['url.original', 'url.full'] } },
  quietContext('sweep'),
)) as ProcessorInstance;
const loadMs = performance.now() - tLoad;
const ref = reference(values.feed!);

let best = Infinity;
let bestRef = Infinity;
let alerts = 0;
let refHits = 0;
for (let r = 0; r < ROUNDS; r++) {
  let a = 0;
  const t0 = process.hrtime.bigint();
  for (const b of batches) a += ((await sweep.process(b)) as { alerts: Rec[] }).alerts.length;
  best = Math.min(best, Number(process.hrtime.bigint() - t0));
  alerts = a;
  let h = 0;
  const t1 = process.hrtime.bigint();
  for (const b of batches) h += ref(b);
  bestRef = Math.min(bestRef, Number(process.hrtime.bigint() - t1));
  refHits = h;
}
await sweep.close?.();
console.log(`ioc-sweep micro-benchmark: ${records.toLocaleString('en-US')} parsed squid records, feed ${values.feed} (loaded in ${Math.round(loadMs)} ms), best of ${ROUNDS} rounds, node ${process.version}`);
console.log(`  sweep (IocSweep.process)   ${(best / records).toFixed(0).padStart(6)} ns/record   ${alerts} alerts`);
console.log(`  Set reference (exact only) ${(bestRef / records).toFixed(0).padStart(6)} ns/record   ${refHits} hits`);
console.log(`  ratio sweep / reference    ${(best / bestRef).toFixed(2)}x`);
