/**
 * How many worker threads a run's parallel segments get (`settings.workers`, `sluice run --workers`).
 *
 * A number pins it (1: everything on the main thread). `'auto'`, the default, uses one worker per
 * CPU core when the input is large enough to repay their start-up, and none otherwise:
 * - `--workers N` (RunOptions.workers) overrides the spec;
 * - no parallel-safe chain, or one core: one thread;
 * - a source that is a stream (`inputBytes` = Infinity: kafka), or whose size it cannot tell (no
 *   `inputBytes`: hdfs, a module's source), counts as large: every core;
 * - otherwise the sources' sizes, summed: every core from `AUTO_MIN_BYTES` on, one thread below;
 * - but one thread, whatever the input, when a chain's main output (`out`: every record it passes
 *   on) is read by a node outside the chain — a parse whose records go to a window beside the sweep
 *   (the default and the Kafka pipelines), or to a sink that does not encode. Every record then
 *   crosses back to the main thread (in the shaped wire form, wire.ts), and the main thread keeps the
 *   nodes that read them: the crossing costs more CPU than the second core gives, so two threads were
 *   slower than one on the default pipeline and the archive pipeline (bench/RESULTS.md, "Quiet runs
 *   after the merges" for the structured clone; "Records leaving worker chains" for the shaped form;
 *   "Rules inside the parse's worker copies" once the rules stopped reading them across).
 *   Parallel-safe readers (rules beside the sweep) are no reason: they join the chain (segments.ts).
 *   An `out` read only by sinks that encode (API 1.4, sink-encode.ts: the archive's `hdfs` and `file`
 *   sinks) is no reason either: its records are serialised in the workers and only bytes cross
 *   (bench/RESULTS.md, "Sinks encoding in the worker threads").
 *   An `out` read only by main-thread processors that declare the fields they read (API 1.5,
 *   projection.ts: the window) crosses as projections, far cheaper than the records; it still
 *   counts here: with `--workers 2` the copies hold every batch's whole records until the window is
 *   done with it (for its `late` records), and two copies with a window on the main thread measured
 *   1.5–1.7× the CPU of one thread on 1M lines, no clear wall-clock gain on two shared cores
 *   (bench/RESULTS.md, "The window reads projections"). `--workers 2` runs it that way.
 *   An `out` whose one reader summarises its batches in the copies is no reason (API 1.8,
 *   projection.ts `SummaryRoute`: the window): only the summaries cross, the main thread merges
 *   them, and the copies keep each batch's input (not its records) until the merge; on the default
 *   pipeline over 1M lines two threads took 0.79–1.03 of one thread's wall time (a gain when the host
 *   is slow, none when it is fast) for 1.15–1.45× its CPU (bench/RESULTS.md, "Batch summaries: the
 *   default pipeline on both cores"); the copies' share shrinks with more cores, nothing is done twice.
 *   On fewer than `MERGE_MIN_CORES` cores, though, one thread: measured again on a quiet host
 *   (session 17), two threads were slower than one at 1M and 3M lines (GC in three isolates, and a
 *   main thread busy merging while the worker waits for input). `--workers 2` runs it that way.
 * - but one thread for such a chain fed by a stream (the Kafka pipeline): its main thread also
 *   decodes the fetches, and two threads measured no faster than one there, for 1.5–1.8× the CPU
 *   (same section). `--workers 2` runs it so.
 * Where it is safe, one of the copies is the main thread itself (`mainCopy`): `count − 1` worker
 * threads, and the main thread runs a batch through its own copy of the chain whenever no worker
 * has room for it (runners/segment.ts, main-copy.ts). Safe: one parallel chain, whose copies may take
 * any batch (`parallel: any`), and no processor outside it on the main thread (a window, a main-thread
 * chain): the main thread then only reads the input and hands results to sinks, and is otherwise idle.
 * `auto` chooses it where every source has a known size (files): on the bench's sweep it was a
 * little faster and cheaper than two worker copies — one isolate fewer to start and warm up, and
 * the main thread's idle time used (bench/RESULTS.md, "The main thread as one of the copies" and the
 * lead's quiet pairs after it). Not for a stream (kafka): its main thread decodes the fetches and
 * keeps the consumer's heartbeats, and no gain was shown there. `SLUICE_MAIN_COPY=0` turns it off,
 * `=1` asks for it with a stream too; `--workers N` means N worker threads (`RunOptions.mainCopy`
 * forces either way).
 * `SLUICE_BY_KEY=1` lets `'by-key'` nodes (the window) join the chain whose records they read, with
 * file input (`byKey`, segments.ts): every copy is given every batch and parses it, each copy's
 * window keeps its share of the keys, the sweep and the rules run on the batches a copy owns; no
 * parsed record crosses, and the default pipeline runs on every core. Not the default: on this
 * 2-core machine it gave no wall-clock gain for 1.55× the CPU (every copy parses every line, and
 * two busy threads each ran the parse ≈ 40% slower than one alone: bench/RESULTS.md, "By-key
 * segments"). Not for a stream: worker copies are not ticked, and a window on a quiet stream
 * closes by ticks. `RunOptions.byKey` forces either way.
 * A worker costs ≈ 0.3–0.5 s of CPU to start (a V8 isolate, the plugin modules, creating the copies)
 * on cores the main thread needs at the same moment to load the feeds; below the threshold that was
 * more than the workers gave back (measurements: bench/RESULTS.md, "Figures behind code comments").
 * Above it, where the main thread is one of the copies and the input is files (`grow`, grow.ts), the
 * worker threads are not started before the run: the main thread runs the chain alone first and
 * starts them once, at the rate it measures, the rest of the input would keep it busy longer than
 * `GROW_AFTER_SECONDS`. The bytes alone cannot tell that: a sweep that gates its lines gets through
 * a byte several times faster than a chain that makes every line's record. `SLUICE_WORKERS_GROW=0`
 * starts them before the run, as with a stream (`ChooseOptions.grow` forces either way).
 */
import { availableParallelism } from 'node:os';
import type { CompiledSpec } from '../graph/build.js';
import { findSegments, type Segment } from './segments.js';
import { encodedRoutes, encodes } from './sink-encode.js';
import { projectedRoutes, type ProjectedRoute } from './projection.js';
import type { GrowRule } from './grow.js';

/** Input, in bytes, from which `workers: auto` starts worker threads (≈ 100k squid lines). */
export const AUTO_MIN_BYTES = 16 * 1024 * 1024;

/**
 * Cores from which `workers: auto` runs a chain whose records a main-thread node reads as batch
 * summaries (the default pipeline's window; API 1.8) on worker threads. The main thread then merges
 * every batch's summary beside reading and dealing the input, and three isolates collect garbage
 * (the summaries are cloned out of the workers and into the main thread): on two cores that was
 * slower than one thread at every size measured — 1M squid lines 0.86× the lines/s for 1.55× the CPU,
 * 3M the same wall time for 1.5× (bench/RESULTS.md, session 17). With more cores the main thread's
 * share (about two thirds of one thread's time per line on two) has workers enough beside it; not
 * measured here.
 */
export const MERGE_MIN_CORES = 3;

/**
 * Seconds of work the rest of the input must still hold, at the main thread's own measured rate,
 * for `workers: auto` to start its worker threads (`grow`, grow.ts). On the bench's sweep (two
 * cores) a worker started before the run gave no wall time back on 1M squid lines (≈ 0.8 s of the
 * main thread's work) for a third more CPU (bench/RESULTS.md, session 18).
 */
export const GROW_AFTER_SECONDS = 1;

/**
 * Whether `workers: auto` makes the main thread one of the copies where that is safe (see above):
 * `finiteInput` when every source has a known size.
 */
export function autoMainCopy(finiteInput: boolean): boolean {
  const env = process.env.SLUICE_MAIN_COPY;
  if (env === '0') return false;
  return env === '1' || finiteInput;
}

export interface WorkerChoice {
  /**
   * Copies of each parallel segment; 1 means none (everything on the main thread). Each is a worker
   * thread, but for the main thread's copy when `mainCopy`.
   */
  count: number;
  /**
   * One of the `count` copies is the main thread (`count − 1` worker threads); with `count` 1, the
   * main thread runs the one chain as one copy, no worker thread (`oneThread`).
   */
  mainCopy?: boolean;
  /** `'by-key'` nodes join parallel chains (see above; segments.ts `FindOptions`). */
  byKey?: boolean;
  /**
   * The worker threads start during the run, when the rest of the input would keep the main thread
   * (one of the copies) busy long enough (grow.ts); none may start.
   */
  grow?: GrowRule;
  /** Why, in words, for the log and the summary. */
  reason: string;
}

export interface ChooseOptions {
  /** `--workers N`: overrides the spec. */
  override?: number;
  /** Make the main thread one of the copies where safe (true), or never (false); default: `autoMainCopy()` for `auto`, never otherwise. */
  mainCopy?: boolean;
  /** Let `'by-key'` nodes join chains (true: also with a pinned count; false: never); default: `auto` with file input. */
  byKey?: boolean;
  /** The run is observed (metrics, status page): one thread then keeps each node on its own (`oneThread`). */
  observed?: boolean;
  /** Start `auto`'s worker threads during the run (`GrowRule`) where the main thread is a copy and the input is files; default: unless `SLUICE_WORKERS_GROW=0`. */
  grow?: boolean;
  /** For tests: the thresholds and the core count. */
  minBytes?: number;
  cores?: number;
  growAfterSeconds?: number;
}

/** Bytes in MiB for the reasons told: `142 MiB`, `3.5 MiB`. */
export const mib = (n: number): string => `${(n / (1024 * 1024)).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MiB`;

export async function chooseWorkers(spec: CompiledSpec, o: ChooseOptions = {}): Promise<WorkerChoice> {
  const { finiteInput, inputBytes, ...choice } = await chooseCount(spec, o);
  if (choice.count === 1) return oneThread(spec, choice, o, finiteInput);
  const auto = o.override === undefined && spec.settings.workers === 'auto';
  const wanted = o.mainCopy ?? (auto && autoMainCopy(finiteInput === true));
  if (!wanted || choice.count < 2) return choice;
  const unsafe = mainCopyUnsafe(spec, findSegments(spec, choice.count, { byKey: choice.byKey }));
  if (unsafe !== undefined) return o.mainCopy ? { ...choice, reason: `${choice.reason}; no main-thread copy: ${unsafe}` } : choice;
  const workers = choice.count - 1;
  const threads = `${workers} worker thread${workers === 1 ? '' : 's'}`;
  const grow = o.grow ?? process.env.SLUICE_WORKERS_GROW !== '0';
  if (grow && auto && finiteInput === true && inputBytes !== undefined) {
    const afterSeconds = o.growAfterSeconds ?? GROW_AFTER_SECONDS;
    return {
      count: choice.count,
      mainCopy: true,
      grow: { inputBytes, afterSeconds },
      reason: `${choice.reason}; the main thread is one of the ${choice.count} copies, and starts ${workers === 1 ? 'the' : 'its'} ${threads} once the rest of the input would keep it busy more than ${afterSeconds} s alone`,
    };
  }
  return { count: choice.count, mainCopy: true, reason: `${choice.reason}; the main thread is one of the ${choice.count} copies, beside ${threads}` };
}

/**
 * One thread: where the run's input is finite (files) and its one parallel-safe chain is all the main
 * thread would run beside the sources and sinks (`mainCopyUnsafe`), the main thread runs that chain as
 * one copy (main-copy.ts, no worker thread) instead of each node on its own: the chain's steps then
 * meet in one driver, and a chain that gates lines (chain.ts, line-gate.ts) skips the lines no one
 * would see before their records are made, as worker copies do. Not for a stream: a copy is not
 * ticked (a main-thread processor is), and a stream's quiet spells are told by ticks. Not for an
 * observed run: the status page samples records between the nodes, which a copy keeps to itself.
 * `SLUICE_MAIN_COPY=0` or `RunOptions.mainCopy` false keep each node on its own.
 */
async function oneThread(spec: CompiledSpec, one: WorkerChoice, o: ChooseOptions, finiteInput: boolean | undefined): Promise<WorkerChoice> {
  if (o.mainCopy === false || o.observed || process.env.SLUICE_MAIN_COPY === '0') return one;
  // the sources' sizes, when chooseCount did not read them already (a pinned count)
  if (!(finiteInput ?? (await allSourcesFinite(spec)))) return one;
  if (mainCopyUnsafe(spec, findSegments(spec, 2), true) !== undefined) return one;
  return { ...one, mainCopy: true, reason: `${one.reason}; the main thread runs the chain as one copy` };
}

/** Whether every source tells its size (files: no stream, nothing of unknown size). */
async function allSourcesFinite(spec: CompiledSpec): Promise<boolean> {
  const { streams, unknown } = await inputSizes(spec);
  return streams.length === 0 && unknown.length === 0;
}

/** The sources' input: bytes of those that tell their size, the names of streams and of those that cannot tell. */
async function inputSizes(spec: CompiledSpec): Promise<{ total: number; streams: string[]; unknown: string[] }> {
  let total = 0;
  const streams: string[] = [];
  const unknown: string[] = [];
  for (const name of spec.order) {
    const node = spec.nodes.get(name)!;
    const def = node.plugin.def;
    if (def.kind !== 'source') continue;
    let bytes: number | undefined;
    try {
      bytes = typeof def.inputBytes === 'function' ? await def.inputBytes(node.config) : undefined;
    } catch {
      bytes = undefined; // the run itself will report what is wrong with the source
    }
    if (bytes === undefined || Number.isNaN(bytes)) unknown.push(name);
    else if (bytes === Number.POSITIVE_INFINITY) streams.push(name);
    else total += bytes;
  }
  return { total, streams, unknown };
}

/**
 * Why the main thread may not run copies of the run's parallel chains (undefined: it may): it must
 * be the only chain, its copies must take any batch (unless the main thread's is the `only` copy:
 * then it sees every source's batches), and no processor may run on the main thread.
 */
export function mainCopyUnsafe(spec: CompiledSpec, segments: readonly Segment[], only = false): string | undefined {
  if (segments.length !== 1) return segments.length ? 'more than one parallel chain' : 'no parallel chain';
  const seg = segments[0]!;
  if (seg.mode === 'by-key') return `'${seg.nodes[0]}' heads a by-key chain (every copy runs every batch)`;
  if (seg.mode !== 'any' && !only) return `'${seg.nodes[0]}' keeps state per source`;
  const inside = new Set(seg.nodes);
  for (const name of spec.order) {
    const kind = spec.nodes.get(name)!.kind;
    if (!inside.has(name) && kind !== 'source' && kind !== 'sink') return `'${name}' runs on the main thread`;
  }
  return undefined;
}

/**
 * `finiteInput`: every source told its size (none is a stream or of unknown size); set wherever the
 * sizes were read, with their sum (`inputBytes`) where they are finite.
 */
async function chooseCount(spec: CompiledSpec, o: ChooseOptions): Promise<WorkerChoice & { finiteInput?: boolean; inputBytes?: number }> {
  const pinned = (count: number, reason: string): WorkerChoice => {
    if (o.byKey !== true || count < 2) return { count, reason };
    const segments = findSegments(spec, count, { byKey: true });
    return segments.some((s) => s.mode === 'by-key') ? { count, byKey: true, reason: `${reason}; ${keyedWords(segments)}` } : { count, reason };
  };
  if (o.override !== undefined) return pinned(o.override, `--workers ${o.override}`);
  const w = spec.settings.workers;
  if (w !== 'auto') return pinned(w, `settings.workers: ${w}`);
  const cores = o.cores ?? availableParallelism();
  if (cores < 2) return { count: 1, reason: 'auto: one CPU core' };
  const minBytes = o.minBytes ?? AUTO_MIN_BYTES;
  const { total, streams, unknown } = await inputSizes(spec);
  const finite = streams.length === 0 && unknown.length === 0;
  const byKey = o.byKey ?? (finite && process.env.SLUICE_BY_KEY === '1');
  const segments = findSegments(spec, cores, { byKey });
  if (segments.length === 0) return { count: 1, reason: 'auto: no chain of parallel-safe nodes', finiteInput: finite };
  const list = (names: string[]) => names.map((n) => `'${n}'`).join(', ');
  let many: WorkerChoice;
  if (streams.length) many = { count: cores, reason: `auto: ${list(streams)} ${streams.length > 1 ? 'are streams' : 'is a stream'}` };
  else if (unknown.length) many = { count: cores, reason: `auto: the input size of ${list(unknown)} is not known before reading` };
  else if (total >= minBytes) many = { count: cores, reason: `auto: ${mib(total)} of input, at least ${mib(minBytes)}` };
  else return { count: 1, reason: `auto: ${mib(total)} of input, below the ${mib(minBytes)} that repay starting workers`, finiteInput: finite };
  const summarised = summarisedRoutes(spec, segments);
  const passing = passThrough(spec, segments, summarised);
  if (passing)
    return {
      count: 1,
      reason: `auto: every record of '${passing}' leaves its parallel chain; moving them back from worker threads costs more than the threads save`,
      finiteInput: finite,
    };
  const merging = summarised.map((r) => r.summary!.reader);
  if (merging.length && streams.length)
    return {
      count: 1,
      reason: `auto: ${list(streams)} ${streams.length > 1 ? 'are streams' : 'is a stream'} whose records ${list(merging)} would merge as summaries on the main thread beside the stream's decoding; two threads were no faster than one`,
      finiteInput: finite,
    };
  if (merging.length && cores < MERGE_MIN_CORES)
    return {
      count: 1,
      reason: `auto: ${list(merging)} would merge the chain's batch summaries on the main thread beside reading and dealing the input; on ${cores} cores two threads were slower than one`,
      finiteInput: finite,
    };
  const keyed = byKey && segments.some((s) => s.mode === 'by-key');
  return {
    ...many,
    ...(keyed ? { byKey: true, reason: `${many.reason}; ${keyedWords(segments)}` } : {}),
    finiteInput: finite,
    ...(finite ? { inputBytes: total } : {}),
  };
}

/** How a by-key chain is told in the reason. */
function keyedWords(segments: readonly Segment[]): string {
  const keyed = segments.flatMap((s) => Object.entries(s.byKey ?? {}).flatMap(([n, r]) => (r === 'keyed' ? [`'${n}'`] : [])));
  return `${keyed.join(', ')} in the worker copies, each with a share of the keys`;
}

/** The chains' outputs that would cross as batch summaries (API 1.8; projection.ts `SummaryRoute`). */
function summarisedRoutes(spec: CompiledSpec, segments: readonly Segment[]): ProjectedRoute[] {
  return segments.flatMap((seg) => projectedRoutes(spec, seg, segments, (sink) => encodes(spec, sink)).filter((r) => r.summary !== undefined));
}

/**
 * The first node of a chain whose main output (`out`) is read outside the chain as records, if
 * any: not when only sinks that encode in the workers read it, or its one reader summarises it.
 */
function passThrough(spec: CompiledSpec, segments: readonly Segment[], summarised: readonly ProjectedRoute[]): string | undefined {
  const summaries = new Set(summarised.map((r) => `${r.node}\0${r.port}`));
  for (const seg of segments) {
    const encoded = new Set(encodedRoutes(spec, seg).flatMap((r) => (r.records ? [] : [`${r.node}\0${r.port}`])));
    for (const n of seg.nodes) if (seg.leaving[n]?.includes('out') && !encoded.has(`${n}\0out`) && !summaries.has(`${n}\0out`)) return n;
  }
  return undefined;
}
