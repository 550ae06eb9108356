/** The main thread's side of a parallel segment: N worker threads, batches in, results in order. */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve, dirname } from 'node:path';
import type { Batch, Rec } from '../record.js';
import type { CompiledSpec } from '../spec/validate.js';
import type { Segment } from './segments.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker.js';
import { encodeForWorker, originKey, type NodeDelta } from './wire.js';

export interface SegmentResult {
  outputs: Array<[string, string, Rec[]]>;
  stats: NodeDelta[];
}

/** The compiled worker script (tests run the TypeScript sources; workers always run the build). */
function workerScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = resolve(here, 'worker.js');
  if (existsSync(beside)) return beside;
  const built = resolve(here, '../../dist/src/runtime/worker.js');
  if (existsSync(built)) return built;
  throw new Error('worker script not found: run npm run build');
}

interface Pending {
  resolve(r: SegmentResult): void;
  reject(e: Error): void;
}

class SegmentWorker {
  readonly worker: Worker;
  outstanding = 0;
  private readonly waiting = new Map<number | string, Pending>();
  private failed: Error | undefined;

  constructor(init: WorkerInit, onFatal: (e: Error) => void) {
    this.worker = new Worker(workerScript(), { workerData: init });
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'error') {
        const e = new Error(m.message);
        e.stack = m.stack;
        if (m.node) (e as Error & { node?: string }).node = m.node;
        this.failAll(e);
        onFatal(e);
        return;
      }
      const key = m.type === 'result' ? m.seq : m.type;
      const p = this.waiting.get(key);
      if (!p) return;
      this.waiting.delete(key);
      if (m.type === 'result') this.outstanding--;
      p.resolve(m.type === 'result' || m.type === 'finished' || m.type === 'ready' ? { outputs: 'outputs' in m ? m.outputs : [], stats: m.stats } : { outputs: [], stats: [] });
    });
    this.worker.on('error', (e) => {
      this.failAll(e);
      onFatal(e);
    });
    this.worker.on('exit', (code) => {
      if (this.waiting.size) this.failAll(new Error(`worker thread exited (code ${code}) with work outstanding`));
    });
  }

  private failAll(e: Error): void {
    this.failed = e;
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
  }

  request(key: number | string, msg: ToWorker | null, transfer: ArrayBuffer[] = []): Promise<SegmentResult> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((res, rej) => {
      this.waiting.set(key, { resolve: res, reject: rej });
      if (msg) {
        if (msg.type === 'batch') this.outstanding++;
        this.worker.postMessage(msg, transfer);
      }
    });
  }
}

function cloneError(err: unknown, nodes: string[]): Error {
  const e = err as Error;
  if (e?.name !== 'DataCloneError') return e;
  const wrapped = new Error(`${nodes.length === 1 ? `node '${nodes[0]}': ` : ''}the shared value of ${nodes.map((n) => `'${n}'`).join(', ')} cannot be sent to worker threads (${e.message}); values given by prepare or publish must be structured-cloneable`);
  if (nodes.length === 1) (wrapped as Error & { node?: string }).node = nodes[0];
  return wrapped;
}

export class WorkerPool {
  private readonly workers: SegmentWorker[] = [];
  private seq = 0;

  private constructor(readonly segment: Segment) {}

  /** Start `n` workers; resolves with the statistics of the first (create-time counters such as feed sizes, once). */
  static async start(
    spec: CompiledSpec,
    segment: Segment,
    n: number,
    o: { stateDir: string; logLevel: string; once: boolean; shared: Record<string, unknown> },
    onFatal: (e: Error) => void,
  ): Promise<{ pool: WorkerPool; stats: NodeDelta[] }> {
    const pool = new WorkerPool(segment);
    for (let i = 0; i < n; i++) {
      const init: WorkerInit = { specFile: spec.file, text: spec.source.text, vars: spec.source.vars, segment, stateDir: o.stateDir, logLevel: o.logLevel, once: o.once, index: i, shared: o.shared };
      try {
        pool.workers.push(new SegmentWorker(init, onFatal));
      } catch (err) {
        await pool.terminate();
        throw cloneError(err, Object.keys(o.shared));
      }
    }
    const ready = await Promise.all(pool.workers.map((w) => w.request('ready', null)));
    return { pool, stats: ready[0]!.stats };
  }

  /** Send a batch to a copy: by source when state is kept per source, else the least busy. */
  submit(records: Batch): Promise<SegmentResult> {
    let w: SegmentWorker;
    if (this.segment.mode === 'by-origin') {
      const key = originKey(records);
      let h = 0;
      for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
      w = this.workers[Math.abs(h) % this.workers.length]!;
    } else {
      w = this.workers.reduce((a, b) => (b.outstanding < a.outstanding ? b : a));
    }
    const seq = this.seq++;
    const { wire, transfer } = encodeForWorker(records);
    return w.request(seq, { type: 'batch', seq, batch: wire }, transfer);
  }

  /**
   * A new shared value for one of the segment's nodes: each copy applies it between two batches
   * (its messages are handled in order, so batches submitted from now on see it). SharedArrayBuffers
   * in the value are shared with the copies; everything else is cloned.
   */
  publish(node: string, value: unknown): void {
    for (const w of this.workers) {
      try {
        w.worker.postMessage({ type: 'update', node, value } satisfies ToWorker);
      } catch (err) {
        throw cloneError(err, [node]);
      }
    }
  }

  /** End of input: every copy emits what it holds. */
  async finish(): Promise<SegmentResult[]> {
    return Promise.all(this.workers.map((w) => w.request('finished', { type: 'finish' })));
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        try {
          await w.request('closed', { type: 'close' });
        } catch {
          /* already failed */
        }
        await w.worker.terminate();
      }),
    );
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
