/**
 * ioc-sweep micro-benchmark, in-process, on one core: the cost per record of `IocSweep.process`
 * (atoms + lookups + alerts) on records as proxy-log builds them, against a large feed.
 *
 *   npm run build && node dist/bench/sweep-micro.js [--lines 200000] [--rounds 7] [--logs F] [--feed F]
 *
 * The first `--lines` lines of a generated squid log are read once; the feed is loaded once by the
 * plugin. Each round then goes batch by batch (1000 lines) as a pipeline does: the real
 * `ProxyLogParser` parses the batch (not timed), then the sweep and, in alternating order, a minimal
 * `Set`-based reference (exact IP string, each label suffix of `url.domain` sliced and looked up,
 * `url.original` looked up whole: no CIDRs, no normalisation) each run over the freshly parsed
 * records (timed separately), so both see records as warm as in a pipeline and the same machine
 * load. Best round counts (wall time, and the process's CPU time around the sweep's calls, which a
 * busy machine disturbs less). Almost every record is a miss (the generated traffic hits ~0.2%).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import proxyLog, { type ProxyLogParser } from '../plugins/transform/proxy-log/index.js';
import type { Rec } from '../src/api.js';
import { benchSweep, quietContext } from './lib/context.js';

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

const parser = proxyLog.create({ format: 'squid', keep_original: false }, quietContext('parse')) as ProxyLogParser;

function parse(lines: string[], from: number): Rec[] {
  const b: Rec[] = [];
  for (let k = from; k < Math.min(from + BATCH, lines.length); k++) b.push({ message: lines[k]!, origin: { file: 'bench.log', line: k + 1 } });
  return (parser.process(b) as { out: Rec[] }).out;
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
const tLoad = performance.now();
const sweep = await benchSweep(values.feed!);
const loadMs = performance.now() - tLoad;
const ref = reference(values.feed!);

let best = Infinity;
let bestRef = Infinity;
let bestCpu = Infinity;
let alerts = 0;
let refHits = 0;
let records = 0;
for (let r = 0; r < ROUNDS; r++) {
  let a = 0;
  let h = 0;
  let ns = 0;
  let nsRef = 0;
  let cpuUs = 0;
  records = 0;
  for (let i = 0; i < lines.length; i += BATCH) {
    const b = parse(lines, i);
    records += b.length;
    const refFirst = ((i / BATCH) & 1) === 1;
    if (refFirst) {
      const t = process.hrtime.bigint();
      h += ref(b);
      nsRef += Number(process.hrtime.bigint() - t);
    }
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    a += ((await sweep.process(b)) as { alerts: Rec[] }).alerts.length;
    ns += Number(process.hrtime.bigint() - t0);
    const c = process.cpuUsage(c0);
    cpuUs += c.user + c.system;
    if (!refFirst) {
      const t = process.hrtime.bigint();
      h += ref(b);
      nsRef += Number(process.hrtime.bigint() - t);
    }
  }
  best = Math.min(best, ns);
  bestCpu = Math.min(bestCpu, cpuUs * 1000);
  bestRef = Math.min(bestRef, nsRef);
  alerts = a;
  refHits = h;
}
await sweep.close?.();
console.log(
  `ioc-sweep micro-benchmark: ${records.toLocaleString('en-US')} squid records parsed batch by batch, feed ${values.feed} (loaded in ${Math.round(loadMs)} ms), best of ${ROUNDS} rounds, node ${process.version}`,
);
console.log(`  sweep (IocSweep.process)   ${(best / records).toFixed(0).padStart(6)} ns/record   ${alerts} alerts`);
// CPU time of the process (all threads; µs resolution per batch): steadier than wall time on a shared machine
console.log(`  sweep, CPU time             ${(bestCpu / records).toFixed(0).padStart(6)} ns/record`);
console.log(`  Set reference (exact only) ${(bestRef / records).toFixed(0).padStart(6)} ns/record   ${refHits} hits`);
console.log(`  ratio sweep / reference    ${(best / bestRef).toFixed(2)}x`);
