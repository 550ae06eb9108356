/**
 * Line-gate micro-benchmark, in-process, on one core: the CPU per line of asking the gate about a
 * squid line (src/runtime/line-gate.ts), the two ways a probe and a gate can speak — objects
 * (`LineProbe.probe` + `RecordGate.mayEmit`, API 1.6) and spans of the line's bytes (`LineProbe.spans`
 * + `RecordGate.mayEmitSpans`, API 1.10) — alternated round by round in one process.
 *
 *   npm run build && node dist/bench/gate-micro.js [--lines 200000] [--rounds 8] [--logs F] [--feed F] [--way objects|spans]
 *
 * Each way pays what the runtime pays for it: objects make each line's latin1 string from the bytes
 * first (as the file source's blocks are read), spans read the bytes in place.
 * Each round asks the gate about every line (both ways say the same of every line: checked) and
 * counts the process's CPU time around it; the best and the median round of each way are printed.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import proxyLog from '../plugins/transform/proxy-log/index.js';
import type { Origin, ProcessorInstance } from '../src/api.js';
import { benchSweep, quietContext } from './lib/context.js';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '8' },
    logs: { type: 'string', default: 'bench/data/logs-squid-s42-n1000000-g1.log' },
    feed: { type: 'string', default: 'bench/data/feed-s42-m1000000-g1.txt' },
    way: { type: 'string' },
  },
});
const N = Number(values.lines);
const ROUNDS = Number(values.rounds);

/** The first `n` non-empty lines of the file: its bytes, and where each line starts and ends in them. */
function readLines(path: string, n: number): { bytes: Uint8Array; starts: Int32Array; ends: Int32Array } {
  const buf = readFileSync(path);
  const starts: number[] = [];
  const ends: number[] = [];
  let start = 0;
  while (starts.length < n && start < buf.length) {
    let nl = buf.indexOf(10, start);
    if (nl === -1) nl = buf.length;
    if (nl > start) {
      starts.push(start);
      ends.push(nl);
    }
    start = nl + 1;
  }
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, start);
  return { bytes, starts: Int32Array.from(starts), ends: Int32Array.from(ends) };
}

const { bytes, starts, ends } = readLines(values.logs!, N);
const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const count = starts.length;
const parser = proxyLog.create({ format: 'squid', keep_original: false }, quietContext('parse')) as ProcessorInstance;
const sweep = await benchSweep(values.feed!);
const gate = sweep.recordGate!()!;
const probe = parser.lineProbe!(gate.paths, gate.hashPaths ?? [])!;
const origin: Origin = { file: 'bench.log' };
const sp = { start: new Int32Array(gate.paths.length).fill(-1), end: new Int32Array(gate.paths.length), hash: new Int32Array(gate.paths.length) };

function objects(): number {
  let kept = 0;
  for (let i = 0; i < count; i++) {
    const p = probe.probe(buf.toString('latin1', starts[i]!, ends[i]!), origin);
    if (p === undefined || gate.mayEmit(p)) kept++;
  }
  return kept;
}

function spans(): number {
  let kept = 0;
  for (let i = 0; i < count; i++) {
    if (!probe.spans!(bytes, starts[i]!, ends[i]!, origin, sp) || gate.mayEmitSpans!(bytes, sp)) kept++;
  }
  return kept;
}

const cpu = (f: () => number): [number, number] => {
  const c0 = process.cpuUsage();
  const kept = f();
  const c = process.cpuUsage(c0);
  return [(c.user + c.system) * 1000, kept];
};

const ways: Array<[string, () => number, number[]]> = [];
if (values.way !== 'spans') ways.push(['objects (API 1.6)', objects, []]);
// (a build whose plugins do not speak spans — an older one, for comparisons — measures the objects only)
if (values.way !== 'objects' && probe.spans !== undefined && gate.mayEmitSpans !== undefined) ways.push(['spans (API 1.10)', spans, []]);
let kept = -1;
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? ways : [...ways].reverse();
  for (const [name, f, ns] of order) {
    const [t, k] = cpu(f);
    if (kept !== -1 && k !== kept) throw new Error(`${name} kept ${k} lines, the other way ${kept}`);
    kept = k;
    ns.push(t / count);
  }
}
console.log(`${count} lines, ${kept} kept (made into records), ${ROUNDS} rounds; CPU ns per line:`);
for (const [name, , ns] of ways) {
  const s = [...ns].sort((a, b) => a - b);
  console.log(`  ${name.padEnd(18)} best ${s[0]!.toFixed(0)}  median ${s[s.length >> 1]!.toFixed(0)}  (${ns.map((x) => x.toFixed(0)).join(' ')})`);
}
await sweep.close?.();
