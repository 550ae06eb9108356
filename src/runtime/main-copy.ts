/**
 * The main thread as one of a parallel segment's copies (a hybrid pool: N−1 worker threads and the
 * main thread; workers.ts decides when). The main thread creates its own instances of the segment's
 * nodes, as a worker does (copy.ts), over the same prepared values it already holds (a sweep's
 * indicator store is the same object, not a clone), and runs a batch through them when no worker
 * has room for it (runners/segment.ts). Its result has the shape of a worker's — records leaving
 * the segment, batches encoded for sinks that encode, the nodes' deltas — so the runner delivers
 * it in the same in-order window, with the same acks, statistics and metrics.
 *
 * Only for a segment whose copies may take any batch (`parallel: any`: no per-source state to
 * hand between copies) and whose outputs are not held for main-thread readers (projections).
 */
import type { PluginDef, SinkDef, SinkEncoder } from '../api.js';
import type { Batch } from '../record.js';
import { lineBlocks } from '../block-pool.js';
import type { CompiledSpec } from '../graph/build.js';
import { closeCopy, createCopy, encodeOutputs, joinOutputs, type Copy, type CopyOptions, type Encoders, type Leaving } from './copy.js';
import { asRunError } from './run-error.js';
import type { Segment } from './segments.js';
import { makeEncoder, type EncodedRoute } from './sink-encode.js';
import type { SegmentResult } from './worker-pool.js';

export class MainCopy {
  private busy = false;

  private constructor(
    readonly segment: Segment,
    private readonly copy: Copy,
    private readonly encoders: Encoders | undefined,
    private readonly observed: boolean,
  ) {
    this.created = copy.take();
  }

  /** Create the copy's instances over `shared` (the prepared values of the segment's nodes) and the encoders of `encoded`. */
  static async create(spec: CompiledSpec, seg: Segment, shared: Record<string, unknown>, encoded: readonly EncodedRoute[], o: CopyOptions): Promise<MainCopy> {
    let encoders: Encoders | undefined;
    for (const route of encoded) {
      const list: Array<[string, SinkEncoder]> = [];
      for (const s of route.sinks) {
        try {
          list.push([s.sink, makeEncoder(spec.nodes.get(s.sink)!.plugin.def as SinkDef, s.config)]);
        } catch (err) {
          throw asRunError(err, 'SLUICE_E_CREATE', s.sink);
        }
      }
      (encoders ??= new Map()).set(`${route.node}\u0000${route.port}`, { route, encoders: list });
    }
    const defs: PluginDef[] = seg.nodes.map((n) => spec.nodes.get(n)!.plugin.def);
    const configs = seg.nodes.map((n) => spec.nodes.get(n)!.config);
    const copy = await createCopy(seg, defs, configs, shared, o);
    return new MainCopy(seg, copy, encoders, o.observed);
  }

  /**
   * Statistics of the copy's creation (create-time metrics): the run's when the main thread is the
   * only copy; a worker's count them otherwise, and these are dropped.
   */
  readonly created: ReturnType<Copy['take']>;

  /** Whether the copy's chain has a line gate (chain.ts). */
  get gated(): boolean {
    return this.copy.driver.gated;
  }

  /** A new prepared value for one of the segment's nodes: applied before the copy's next batch. */
  offer(node: string, value: unknown): void {
    this.copy.holders.get(node)?.offer(value);
  }

  /**
   * Run one batch through the chain (one at a time): what leaves it, as a worker would have returned
   * it. A block's memory goes back to the pool once its records are made (block-pool.ts).
   */
  async run(records: Batch): Promise<SegmentResult> {
    if (this.busy) throw new Error('the main-thread copy was given a batch while running one');
    this.busy = true;
    try {
      const outputs: Leaving = [];
      await this.copy.driver.runBatch(records, outputs);
      if (!Array.isArray(records)) lineBlocks.release(records);
      if (this.observed) this.copy.driver.reportBusy();
      return this.result(outputs);
    } finally {
      this.busy = false;
    }
  }

  /** End of input: what the copy's nodes hold. */
  async finish(): Promise<SegmentResult> {
    const outputs: Leaving = [];
    await this.copy.driver.finish(outputs);
    return this.result(outputs);
  }

  async close(): Promise<void> {
    await closeCopy(this.segment, this.copy.instances);
  }

  private result(outputs: Leaving): SegmentResult {
    joinOutputs(outputs);
    const encoded = this.encoders && encodeOutputs(this.encoders, outputs, []);
    const r: { outputs: Leaving; stats: ReturnType<Copy['take']>; encoded?: typeof encoded } = { outputs, stats: this.copy.take() };
    if (encoded) r.encoded = encoded;
    return r;
  }
}
