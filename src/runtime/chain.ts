/**
 * The one chain driver: how a batch goes through a processor, or a chain of processors, in both
 * places processors run — a main-thread processor node (a chain of one) and a worker thread's copy
 * of a parallel segment.
 *
 * - Shared values published since the last batch are handed to `update` first, between batches.
 * - The batch is given `CHUNK` records at a time (`chunksOf`; a block of lines becomes records
 *   chunk by chunk), and each chunk goes through the whole chain before the next is made.
 * - Each step's outputs are counted; the port that feeds the next step is passed on, and the ports
 *   read outside the chain are handed to the caller's `out` with the batch's `tag` (the main
 *   thread dispatches them to queues with the batch's ack; a worker collects them for its reply).
 *   A chain may be a tree (one port read by several steps, `branches`): steps are in depth-first
 *   order, each step's subtree runs before its next branch, so one chunk goes through every step.
 * - `finish` finishes the steps in order; what a step emits at the end goes through the steps
 *   after it before they finish in turn.
 * - `tick` (wall-clock time passing on a quiet input) calls each step's `tick` in order, feeding
 *   what it emits through the steps after it, like `finish`. Only the main-thread processor runner
 *   ticks; a worker's chain never does (steps without `tick` are skipped).
 * - A copy's chain may have a line gate (line-gate.ts): the lines of a block that its first two
 *   steps would turn into nothing anyone reads are counted and never made into records.
 * - In a by-key segment's copy, a batch another copy owns runs each step as its `notOwned` says.
 * A plugin that throws fails with a RunError naming its node.
 */
import type { Outputs, ProcessorInstance, Rec } from '../api.js';
import { recordChunks, type Batch } from '../record.js';
import { CHUNK, chunksOf } from './chunks.js';
import { lineGateOf, type LineGate } from './line-gate.js';
import type { SharedHolder } from './prepare.js';
import { asRunError } from './run-error.js';

/** Where a step's counts go: a node's live statistics, or a worker's deltas. */
export interface StepCounter {
  received(n: number): void;
  emitted(port: string, n: number): void;
  /** While muted, the step's plugin metrics are dropped (a by-key copy's batch it does not own). */
  mute?(on: boolean): void;
  /** Present to be told, once per batch, the milliseconds the step spent in `process` for it. */
  busy?(ms: number): void;
}

export interface ChainStep {
  name: string;
  inst: ProcessorInstance;
  /** Present when the node has a prepared value: pending values are applied between batches. */
  holder?: SharedHolder;
  counter: StepCounter;
  /** The port whose records the next step processes (none for the last step, or a leaf of a tree). */
  feed?: string;
  /**
   * Further steps fed by this step (a segment that is a tree, segments.ts): `[port, step index]`,
   * each after the step's own subtree in step order. Run after the `feed` step and its subtree.
   */
  branches?: ReadonlyArray<readonly [string, number]>;
  /** The ports whose records are handed to `out`; `'all'` for a chain of one. */
  leaving: readonly string[] | 'all';
  /**
   * In a by-key segment's copy (segments.ts, `byKey`), what the step does on a batch the copy does
   * not own: `'skip'` it; `'mute'` run it, counting nothing and handing nothing to `out`; `'keyed'`
   * run it without counting its input; `'run'` as usual. Absent: every batch is owned.
   */
  notOwned?: 'skip' | 'mute' | 'keyed' | 'run';
}

/** Receives the records leaving the chain; a returned promise is awaited (a queue's backpressure). */
export type ChainOut<T> = (tag: T, step: number, port: string, records: Rec[]) => void | Promise<void>;

const isPromise = <V>(x: unknown): x is Promise<V> => !!x && typeof (x as Promise<V>).then === 'function';

export class ChainDriver<T> {
  private readonly holders: boolean;
  /** Milliseconds each step spent in `process` for the current batch, when any step is timed. */
  private readonly busyMs: Float64Array | undefined;

  /** Lines whose records are never made (line-gate.ts), when the chain's first steps offer it. */
  private readonly gate: LineGate | undefined;
  /** Whether the batch being run is this copy's own (by-key segments; see `ChainStep.notOwned`). */
  private owned = true;

  /** `gated`: look for a line gate (chains of a parallel segment's copy). */
  constructor(
    private readonly steps: readonly ChainStep[],
    private readonly out: ChainOut<T>,
    gated = false,
  ) {
    this.holders = steps.some((s) => s.holder !== undefined);
    this.busyMs = steps.some((s) => s.counter.busy) ? new Float64Array(steps.length) : undefined;
    this.gate = gated ? lineGateOf(steps) : undefined;
  }

  /** Whether the chain has a line gate (some lines of a block never become records). */
  get gated(): boolean {
    return this.gate !== undefined;
  }

  /**
   * Run one batch through the chain; records leaving it go to `out` with `tag`. `owned` false: a
   * batch of a by-key segment that another copy owns (see `ChainStep.notOwned`).
   */
  runBatch(batch: Batch, tag: T, owned = true): Promise<void> {
    this.owned = owned;
    // Observed runs: the previous batch's times go out now (synchronously: no extra turn).
    if (this.busyMs) this.reportBusy();
    if (this.holders && this.updatePending()) return this.applyUpdates().then(() => this.runChunks(batch, tag));
    // A batch of one chunk (what a main-thread processor receives from another) runs without
    // the chunk loop's extra await: a consumer must not take more turns of the microtask queue
    // per chunk than its producer, or the producer runs ahead and its queue stays full, keeping
    // parsed records alive through young-generation collections.
    if (Array.isArray(batch) && batch.length <= CHUNK) return this.runFrom(0, batch, tag);
    return this.runChunks(batch, tag);
  }

  private async runChunks(batch: Batch, tag: T): Promise<void> {
    const gate = this.gate;
    if (gate !== undefined && !Array.isArray(batch)) {
      gate.begin(batch);
      for (const records of recordChunks(batch, CHUNK, gate)) await this.runFrom(0, records, tag);
      gate.settle();
      return;
    }
    for (const records of chunksOf(batch)) await this.runFrom(0, records, tag);
  }

  /**
   * Hand each timed step the milliseconds it spent in `process` since the last report (one batch:
   * `runBatch` reports the previous batch's as it starts the next; a worker calls this before it
   * replies, `finish` for the last batch).
   */
  reportBusy(): void {
    const busy = this.busyMs;
    if (!busy) return;
    for (let k = 0; k < busy.length; k++) {
      if (busy[k]! > 0) this.steps[k]!.counter.busy?.(busy[k]!);
      busy[k] = 0;
    }
  }

  /**
   * End of input: apply pending updates, then finish each step, feeding what it emits onward.
   * `owned` false: a by-key copy other than the first, whose muted steps' held records (all of them
   * seen by every copy) are counted and sent out by the first copy only.
   */
  async finish(tag: T, owned = true): Promise<void> {
    this.owned = owned;
    this.reportBusy();
    if (!this.steps.some((s) => s.inst.finish)) return; // nothing held: no late `update` either
    if (this.holders && this.updatePending()) await this.applyUpdates();
    for (let k = 0; k < this.steps.length; k++) {
      const step = this.steps[k]!;
      if (!step.inst.finish) continue;
      let held: Outputs;
      try {
        const r = step.inst.finish();
        held = isPromise<Outputs>(r) ? await r : r;
      } catch (err) {
        throw asRunError(err, 'SLUICE_E_RUNTIME', step.name, 'finish failed');
      }
      await this.route(k, held, tag);
    }
  }

  /**
   * A chain of one given a batch summary of `count` records (API 1.8, projection.ts) in place of
   * the records: `merge` is called between batches, like `process`; what it returns is counted and
   * handed on as `process`'s outputs would be, and the records are counted as received and as
   * emitted on the `passes` ports. False, with nothing counted, when `merge` refused the summary.
   */
  async runSummary(summary: unknown, count: number, passes: readonly string[], tag: T): Promise<boolean> {
    if (this.holders && this.updatePending()) await this.applyUpdates();
    if (this.busyMs) this.reportBusy();
    const step = this.steps[0]!;
    if (step.inst.merge === undefined) return false;
    let produced: Outputs | undefined;
    const t0 = this.busyMs ? performance.now() : 0;
    try {
      produced = step.inst.merge(summary, count);
    } catch (err) {
      throw asRunError(err, 'SLUICE_E_RUNTIME', step.name, 'merge failed');
    }
    if (this.busyMs) this.busyMs[0]! += performance.now() - t0;
    if (produced === undefined) return false;
    step.counter.received(count);
    for (const p of passes) step.counter.emitted(p, count);
    await this.route(0, produced, tag);
    return true;
  }

  /** True when some step has a `tick` (the processor runner then waits on its queue with a timeout). */
  get ticks(): boolean {
    return this.steps.some((s) => s.inst.tick !== undefined);
  }

  /**
   * Wall-clock time passed with no input (between batches, never during one): each step that has
   * a `tick` is called in order, and what it emits goes through the steps after it, as for `finish`.
   * Pending updates are applied first, as before a batch.
   */
  async tick(nowMs: number, tag: T): Promise<void> {
    if (this.holders && this.updatePending()) await this.applyUpdates();
    for (let k = 0; k < this.steps.length; k++) {
      const step = this.steps[k]!;
      if (!step.inst.tick) continue;
      let produced: Outputs;
      try {
        const r = step.inst.tick(nowMs);
        produced = isPromise<Outputs>(r) ? await r : r;
      } catch (err) {
        throw asRunError(err, 'SLUICE_E_RUNTIME', step.name, 'tick failed');
      }
      await this.route(k, produced, tag);
    }
  }

  private updatePending(): boolean {
    for (const step of this.steps) if (step.holder?.pending) return true;
    return false;
  }

  /** Hand every value published since the last batch to its step's `update`. */
  private async applyUpdates(): Promise<void> {
    for (const step of this.steps) {
      if (!step.holder?.take() || !step.inst.update) continue;
      try {
        const r = step.inst.update(step.holder.current);
        if (isPromise(r)) await r;
      } catch (err) {
        throw asRunError(err, 'SLUICE_E_RUNTIME', step.name, 'update failed');
      }
    }
  }

  /** Process `records` in step `first` and every step after it that their outputs feed. */
  private async runFrom(first: number, records: Rec[], tag: T): Promise<void> {
    let input = records;
    let k = first;
    // Branches waiting for the current subtree to finish, as [step, records] pairs (last first).
    let waiting: Array<number | Rec[]> | undefined;
    for (;;) {
      let next: Rec[] | undefined;
      const step = this.steps[k]!;
      const role = this.owned ? undefined : step.notOwned;
      if (input.length > 0 && role !== 'skip') {
        const mute = role === 'mute';
        if (role === undefined || role === 'run') step.counter.received(input.length);
        let produced: Outputs;
        const t0 = this.busyMs ? performance.now() : 0;
        if (mute) step.counter.mute?.(true);
        try {
          const r = step.inst.process(input);
          produced = isPromise<Outputs>(r) ? await r : r;
        } catch (err) {
          throw asRunError(err, 'SLUICE_E_RUNTIME', step.name);
        } finally {
          if (mute) step.counter.mute?.(false);
        }
        if (this.busyMs) this.busyMs[k]! += performance.now() - t0;
        // What `route` does, inline: this is the per-chunk path, and an async call per chunk more
        // is a turn of the microtask queue more (see runBatch).
        for (const port in produced) {
          const out = produced[port];
          if (!out || out.length === 0) continue;
          if (!mute) step.counter.emitted(port, out.length);
          if (!mute && (step.leaving === 'all' || step.leaving.includes(port))) {
            const w = this.out(tag, k, port, out);
            if (w !== undefined) await w;
          }
          if (port === step.feed) next = out;
        }
        const br = step.branches;
        if (br !== undefined) {
          for (let b = br.length - 1; b >= 0; b--) {
            const out = produced[br[b]![0]];
            // each reader its own array (the records are shared), as the main thread's fan-out does
            if (out && out.length > 0) (waiting ??= []).push(br[b]![1], out.slice());
          }
        }
      }
      if (next !== undefined && k + 1 < this.steps.length) {
        k++;
        input = next;
        continue;
      }
      if (waiting === undefined || waiting.length === 0) return;
      input = waiting.pop() as Rec[];
      k = waiting.pop() as number;
    }
  }

  /**
   * Count step k's outputs (what it emitted at the end, or on a tick), hand the leaving ports to
   * `out`, and run the steps they feed: the next step's subtree, then each branch's.
   */
  private async route(k: number, produced: Outputs, tag: T): Promise<void> {
    const step = this.steps[k]!;
    const mute = !this.owned && step.notOwned === 'mute';
    let next: Rec[] | undefined;
    for (const port in produced) {
      const records = produced[port];
      if (!records || records.length === 0) continue;
      if (!mute) step.counter.emitted(port, records.length);
      if (!mute && (step.leaving === 'all' || step.leaving.includes(port))) {
        const w = this.out(tag, k, port, records);
        if (w !== undefined) await w;
      }
      if (port === step.feed) next = records;
    }
    // each branch its own array (the records are shared), taken before the next step runs
    const forks = step.branches?.map(([port, b]) => [b, produced[port]?.slice()] as const);
    if (next !== undefined && k + 1 < this.steps.length) for (const chunk of chunksOf(next)) await this.runFrom(k + 1, chunk, tag);
    if (forks !== undefined)
      for (const [b, records] of forks) if (records && records.length > 0) for (const chunk of chunksOf(records)) await this.runFrom(b, chunk, tag);
  }
}
