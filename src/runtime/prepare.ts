/**
 * Prepared, shared values (`PluginDef.prepare`). `prepare` runs once per node in the main thread,
 * before any instance exists; its value reaches every instance of the node as `ctx.shared` (the
 * same object in the main thread; a structured clone, sharing its SharedArrayBuffers, in each worker
 * copy). `publish` replaces it: main-thread instances take the new value before their next batch,
 * worker copies receive a message that their worker handles between two batches. Clean-ups
 * registered with `onClose` run when the run ends, whatever the reason, newest first.
 */
import type { Logger, PluginContext, PrepareContext, RunEnd } from '../api.js';
import type { CompiledSpec } from '../graph/build.js';
import { asRunError } from './run-error.js';

/** What one instance currently sees as `ctx.shared`, and a value waiting to be applied. */
export class SharedHolder {
  pending = false;
  next: unknown;
  constructor(public current: unknown) {}

  offer(value: unknown): void {
    this.next = value;
    this.pending = true;
  }

  /** Apply a waiting value; returns whether there was one. */
  take(): boolean {
    if (!this.pending) return false;
    this.pending = false;
    this.current = this.next;
    this.next = undefined;
    return true;
  }
}

/** Who wants a node's new values: main-thread holders, worker pools. */
export type Subscriber = (value: unknown) => void;

interface Slot {
  value: unknown;
  subscribers: Subscriber[];
}

export class Prepared {
  private readonly slots = new Map<string, Slot>();
  private readonly closers: Array<{ node: string; fn: (end: RunEnd) => void | Promise<void> }> = [];
  private readonly controller = new AbortController();
  private ended = false;

  /** The signal prepare contexts see: aborted with the run, or when clean-ups start. */
  constructor(
    runSignal: AbortSignal,
    private readonly onPublishError: (node: string, err: unknown) => void,
  ) {
    if (runSignal.aborted) this.controller.abort();
    else runSignal.addEventListener('abort', () => this.controller.abort(), { once: true });
  }

  /**
   * Run every node's `prepare`, in spec order. On the first failure the clean-ups registered so
   * far run, and the error, naming the node, is thrown.
   */
  async prepareAll(spec: CompiledSpec, contextFor: (node: string, signal: AbortSignal) => PluginContext, logger: Logger): Promise<void> {
    for (const name of spec.order) {
      const node = spec.nodes.get(name)!;
      const def = node.plugin.def;
      if (typeof def.prepare !== 'function') continue;
      const base = contextFor(name, this.controller.signal);
      const slot: Slot = { value: undefined, subscribers: [] };
      const ctx: PrepareContext = {
        node: base.node,
        pipeline: base.pipeline,
        logger: base.logger,
        metrics: base.metrics,
        signal: this.controller.signal,
        resolvePath: base.resolvePath,
        stateDir: base.stateDir,
        once: base.once,
        publish: (value) => this.publish(name, value),
        onClose: (fn) => {
          if (typeof fn !== 'function') throw new TypeError('onClose needs a function');
          this.closers.push({ node: name, fn });
        },
      };
      try {
        slot.value = await def.prepare(node.config, ctx);
      } catch (err) {
        await this.close(logger, { failed: true, stopped: false });
        throw asRunError(err, 'SLUICE_E_PREPARE', name, 'prepare failed');
      }
      // A publish during prepare (before the slot existed) is superseded by the returned value.
      this.slots.set(name, slot);
    }
  }

  has(node: string): boolean {
    return this.slots.has(node);
  }

  /** The node's current value (undefined for nodes without `prepare`). */
  value(node: string): unknown {
    return this.slots.get(node)?.value;
  }

  /** Values of the given nodes that have one, for worker start-up. */
  valuesOf(nodes: readonly string[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const n of nodes) if (this.slots.has(n)) out[n] = this.slots.get(n)!.value;
    return out;
  }

  subscribe(node: string, fn: Subscriber): void {
    this.slots.get(node)?.subscribers.push(fn);
  }

  private publish(node: string, value: unknown): void {
    if (this.ended) return;
    const slot = this.slots.get(node);
    if (!slot) return; // still preparing: the value prepare returns is the one that counts
    slot.value = value;
    for (const s of slot.subscribers) {
      try {
        s(value);
      } catch (err) {
        this.onPublishError(node, err);
      }
    }
  }

  /**
   * End of run: no more publishing, abort the prepare signal, run the clean-ups newest first, telling
   * them how the run ended.
   */
  async close(logger: Logger, end: RunEnd = { failed: false, stopped: false }): Promise<void> {
    if (this.ended && this.closers.length === 0) return;
    this.ended = true;
    this.controller.abort();
    while (this.closers.length) {
      const { node, fn } = this.closers.pop()!;
      try {
        await fn(end);
      } catch (err) {
        logger.error({ node, err: String(err) }, 'prepare clean-up failed');
      }
    }
    for (const slot of this.slots.values()) slot.subscribers.length = 0;
  }
}
