/**
 * What a by-key copy of the window costs (API 1.7, `ctx.share`), in-process, on one core:
 *   node --expose-gc dist/bench/window-share.js [log=bench/data/logs-squid-s42-n1000000-g1.log] [rounds=3] [copies=2] [fresh|held]
 *
 * The log is parsed by the proxy-log transform as the default pipeline has it (`format: auto`,
 * `keep_original: true`), in the file source's blocks of 1000 lines and the runtime's chunks; each
 * block's parsed records make one batch. `held`: parsed once, before anything is measured, every
 * batch kept; `fresh` (the default): parsed again for each pass, each batch given to the window just
 * after it is parsed, as in a pipeline (its records still in the caches; the parse not measured).
 * Round by round, each of these is fed every batch and its `finish`, a fresh instance each time,
 * with the volume window of `pipelines/proxy-ioc-sweep.yaml` (key `source.ip`, 5m sliding by 1m,
 * samples 3):
 *   - `one`: the window as it runs today (no share);
 *   - `copy i/N`: copy i of N (`ctx.share`): it reads every record's time, counts its own keys.
 * The order of the variants rotates from round to round. Measured around each of the window's calls
 * only: CPU (`process.cpuUsage`, user + system, all threads: GC helpers included) and wall time; a
 * full GC before each variant. Prints each variant's figures, the windows and alerts it emitted (the
 * copies' must add up to `one`'s), and the best round's CPU per record.
 */
import windowPlugin from '../plugins/analyse/window/index.js';
import type { ProcessorInstance, Rec } from '../src/api.js';
import { quietContext } from './lib/context.js';
import { configure, parseBlocks, volumeWindow } from './lib/default-window.js';

const LOG = process.argv[2] ?? 'bench/data/logs-squid-s42-n1000000-g1.log';
const ROUNDS = Number(process.argv[3] ?? 3);
const COPIES = Number(process.argv[4] ?? 2);
const BLOCK = 1000;

const VOLUME = volumeWindow();

/** Parse the log, giving `onBatch` the parsed records of each block of lines. */
const parse = (path: string, onBatch: (batch: Rec[]) => void): Promise<void> => parseBlocks(path, BLOCK, onBatch);

interface Result {
  cpu: number;
  wall: number;
  windows: number;
  alerts: number;
  out: number;
  late: number;
  /** `fresh`: the CPU of the pass outside the window's calls (reading and parsing the log). */
  parseCpu: number;
}

/**
 * One pass of a variant: over the batches parsed ahead (`held`), or (`fresh`) over each batch just
 * after it is parsed, as a pipeline's window reads it (its records still in the caches); only the
 * window's calls are measured.
 */
async function run(mode: 'held' | 'fresh', share: { index: number; count: number } | undefined, def = windowPlugin): Promise<Result> {
  const ctx = { ...quietContext('volume'), ...(share ? { share } : {}) };
  const w = (await def.create(configure(def, VOLUME), ctx)) as ProcessorInstance;
  (globalThis as { gc?: () => void }).gc?.();
  let windows = 0;
  let alerts = 0;
  let out = 0;
  let late = 0;
  const count = (o: Record<string, Rec[] | undefined>) => {
    windows += o.windows?.length ?? 0;
    alerts += o.alerts?.length ?? 0;
    out += o.out?.length ?? 0;
    late += o.late?.length ?? 0;
  };
  let cpu = 0;
  let wall = 0;
  const timed = (f: () => Record<string, Rec[] | undefined>) => {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const o = f();
    wall += Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    cpu += (c.user + c.system) / 1e6;
    count(o);
  };
  const feed = (b: Rec[]) => timed(() => w.process(b) as Record<string, Rec[]>);
  const p0 = process.cpuUsage();
  if (mode === 'held') for (const b of held) feed(b);
  else await parse(LOG, feed);
  const p = process.cpuUsage(p0);
  const parseCpu = (p.user + p.system) / 1e6 - cpu;
  timed(() => w.finish!() as Record<string, Rec[]>);
  return { cpu, wall, windows, alerts, out, late, parseCpu };
}

const MODE = (process.argv[5] ?? 'fresh') as 'held' | 'fresh';
if (MODE !== 'held' && MODE !== 'fresh') throw new Error(`mode: held or fresh, not ${MODE}`);
const tp0 = process.hrtime.bigint();
const held: Rec[][] = [];
await parse(LOG, (b) => void held.push(b));
const records = held.reduce((a, b) => a + b.length, 0);
console.log(
  `${LOG}: ${records.toLocaleString('en-US')} parsed records in ${held.length} batches (parsed in ${(Number(process.hrtime.bigint() - tp0) / 1e9).toFixed(1)} s); mode ${MODE}`,
);
if (MODE === 'fresh') held.length = 0;

// SLUICE_BENCH_WINDOW_REF=/path/to/dist/plugins/analyse/window/index.js: another build's window
// (e.g. main's), measured as `ref` beside `one`, to compare the unshared path.
const REF = process.env.SLUICE_BENCH_WINDOW_REF;
const refDef = REF ? ((await import(REF)) as { default: typeof windowPlugin }).default : undefined;
const variants: Array<{ name: string; share?: { index: number; count: number }; def?: typeof windowPlugin }> = [
  { name: 'one' },
  ...(refDef ? [{ name: 'ref', def: refDef }] : []),
  ...Array.from({ length: COPIES }, (_, index) => ({ name: `copy ${index}/${COPIES}`, share: { index, count: COPIES } })),
];
const best = new Map<string, Result>();
for (let r = 0; r < ROUNDS; r++) {
  const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
  const line: string[] = [];
  const round = new Map<string, Result>();
  for (const v of order) {
    const res = await run(MODE, v.share, v.def);
    round.set(v.name, res);
    const b = best.get(v.name);
    if (!b || res.cpu < b.cpu) best.set(v.name, res);
    line.push(`${v.name}: ${res.cpu.toFixed(2)} CPU s, ${res.wall.toFixed(2)} wall s${MODE === 'fresh' ? ` (parse ${res.parseCpu.toFixed(2)})` : ''}`);
  }
  const one = round.get('one')!;
  const copies = variants.filter((v) => v.share).map((v) => round.get(v.name)!);
  const sum = (f: keyof Result) => copies.reduce((a, c) => a + c[f], 0);
  const same = sum('windows') === one.windows && sum('alerts') === one.alerts && sum('out') === one.out && sum('late') === one.late;
  console.log(`round ${r + 1}: ${line.join('; ')}; copies' CPU summed ${sum('cpu').toFixed(2)} s`);
  const ref = round.get('ref');
  if (ref && (ref.windows !== one.windows || ref.alerts !== one.alerts || ref.out !== one.out)) {
    console.log('  ref: MISMATCH');
    process.exitCode = 1;
  }
  console.log(
    `  one: ${one.windows} windows, ${one.alerts} alerts, ${one.late} late; copies: ${copies.map((c) => `${c.windows}/${c.alerts}/${c.late}/${c.out}`).join(', ')} (windows/alerts/late/out)${same ? '' : '  MISMATCH'}`,
  );
  if (!same) process.exitCode = 1;
}
console.log('best round per variant (CPU s, ns/record):');
for (const v of variants) {
  const b = best.get(v.name)!;
  console.log(`  ${v.name}: ${b.cpu.toFixed(2)} s, ${Math.round((b.cpu * 1e9) / records)} ns/record`);
}
