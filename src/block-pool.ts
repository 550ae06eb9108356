/**
 * Memory for blocks of lines, used again instead of allocated per block. `cutLines` takes each
 * block's bytes from the pool (`lineBlocks.take`); the copy that read the block hands its buffer
 * back. A new ArrayBuffer per block lives outside the JS heap and is freed only when a collection
 * finds its owner dead: in a thread that seldom scavenges (the main thread as a copy), a full
 * collection, started by the external memory the buffers add up to (bench/RESULTS.md, "Line blocks
 * from a pool").
 *
 * Who may read a pooled buffer: the one block that views it, from the buffer's start, until that
 * block is given back. It comes back only from where the block was read to its end:
 * - sent to a worker thread (runtime/wire.ts `encodeForWorker`): its bytes are copied into a
 *   SharedArrayBuffer from `sharedBlocks` and it comes back at once; the worker copies them out
 *   into its own pool's memory, runs its copy, and sends the shared buffer back with the batch's
 *   result (runtime/worker.ts, `free`: shared, not transferred). Transferring the block itself
 *   detached it in the main thread and again in the worker on its way back (see below), which cost
 *   both threads ≈ 9% of their CPU on the 5M sweep; and a block read straight from shared memory
 *   was slower than from an ArrayBuffer (bench/RESULTS.md, session 18). The worker's own pool takes
 *   its copy back after the run, unless it holds the block to make its records again (projection.ts);
 * - the main thread's copy or processor, after running it (`release`). The buffer is not detached
 *   there: detaching any ArrayBuffer in an isolate ends V8's assumption that none ever is (its
 *   "ArrayBufferDetaching" protector), which throws away all the optimised code that reads typed
 *   arrays (the parsers, the line gate, the sweep) and makes every later read check — ≈ 10% of a
 *   one-thread sweep's CPU (bench/RESULTS.md, "A detached buffer costs the whole thread"). A pool
 *   made with `detachOnRelease` (the tests' pipelines: `lineBlocks.detachOnRelease`) does detach
 *   it, by moving it to a new ArrayBuffer object: anything that still held the block then reads
 *   nothing, and the outputs differ from a run without a pool.
 * Anything else (a block dropped, a batch lost with a failed worker, a copy made for fan-out) is
 * collected as before. The pool holds only buffers nothing can read; when it has none that fits, a
 * new one is allocated (a block never waits for memory), and it keeps at most `limit` buffers.
 *
 * Records made from a block hold no view into it: `lineChunks` (record.ts) copies each line into a
 * string of its own.
 */
import type { Block } from './record.js';

/** Buffers a pool keeps when `SLUICE_BLOCK_POOL` does not say (0 turns pooling off). */
const DEFAULT_LIMIT = 16;
/** Bytes a pool keeps at most; a larger buffer given back is left to the collector. */
const MAX_POOLED_BYTES = 64 << 20;
/** A new buffer's size is rounded up to this, with room for a block somewhat larger than the one that asked. */
const GRAIN = 64 << 10;

/** Buffers taken from a pool and not given back: each belongs wholly to the block that views its start. */
const taken = new WeakSet<ArrayBufferLike>();

/** The buffer size for a block of `n` bytes: an eighth more, rounded up to the grain. */
function capacityFor(n: number): number {
  return Math.ceil((n + (n >> 3)) / GRAIN) * GRAIN;
}

export class BlockPool {
  private readonly free: ArrayBufferLike[] = [];
  private freeBytes = 0;
  /** Blocks given memory from the pool (`reused`) or new memory (`allocated`); buffers given back and kept. */
  readonly counts = { reused: 0, allocated: 0, returned: 0 };

  /**
   * `limit`: buffers kept at most (0: every block gets memory of its own, nothing is kept).
   * `detachOnRelease`: detach a block's view when the main thread gives it back (a check for tests,
   * at a cost to the whole thread; see above). `shared`: the buffers are SharedArrayBuffers (for
   * blocks crossing to worker threads), given back with `give` only.
   */
  constructor(
    private limit = DEFAULT_LIMIT,
    public detachOnRelease = false,
    readonly shared = false,
  ) {}

  /** A buffer of this pool's kind: an ArrayBuffer, or a SharedArrayBuffer for a `shared` pool. */
  private ours(ab: unknown): ab is ArrayBufferLike {
    return this.shared ? ab instanceof SharedArrayBuffer : ab instanceof ArrayBuffer;
  }

  get size(): number {
    return this.free.length;
  }

  /** Keep at most `limit` buffers from now on; those kept so far are dropped. */
  reset(limit: number): void {
    this.limit = limit;
    this.free.length = 0;
    this.freeBytes = 0;
    this.counts.reused = this.counts.allocated = this.counts.returned = 0;
  }

  /**
   * `n` bytes for a new block: a view at the start of a kept buffer large enough, else of a new one.
   * The contents are not cleared: the caller writes all `n` bytes.
   */
  take(n: number): Uint8Array {
    if (this.limit <= 0) return new Uint8Array(this.shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
    const free = this.free;
    for (let i = free.length - 1; i >= 0; i--) {
      const ab = free[i]!;
      if (ab.byteLength < n) continue;
      free[i] = free[free.length - 1]!;
      free.pop();
      this.freeBytes -= ab.byteLength;
      this.counts.reused++;
      if (!this.shared) taken.add(ab);
      return new Uint8Array(ab, 0, n);
    }
    // None fits: the oldest kept buffer goes, so that the pool follows the size blocks have now.
    if (free.length) this.freeBytes -= free.shift()!.byteLength;
    const ab = this.shared ? new SharedArrayBuffer(capacityFor(n)) : new ArrayBuffer(capacityFor(n));
    this.counts.allocated++;
    if (!this.shared) taken.add(ab);
    return new Uint8Array(ab, 0, n);
  }

  /** A buffer nothing reads any more (a worker sent it back), kept when there is room. */
  give(ab: ArrayBufferLike): void {
    if (!this.ours(ab) || ab.byteLength === 0) return;
    taken.delete(ab);
    if (this.free.length >= this.limit || this.freeBytes + ab.byteLength > MAX_POOLED_BYTES) return;
    this.free.push(ab);
    this.freeBytes += ab.byteLength;
    this.counts.returned++;
  }

  /**
   * A block the main thread has read to its end: its buffer back to the pool when the pool gave it
   * (nothing else may view it then); detached from the block on the way with `detachOnRelease`.
   */
  release(block: Block): void {
    if (block.kind !== 'lines') return;
    const ab = block.bytes.buffer;
    if (this.shared || !ownedByBlock(ab) || ab.byteLength === 0) return; // not the pool's, or sent to a thread
    taken.delete(ab);
    this.give(this.detachOnRelease ? structuredClone(ab, { transfer: [ab] }) : ab);
  }
}

/**
 * Whether `ab` belongs wholly to the block whose bytes view its start: taken from a main-thread pool
 * and not given back yet (what `release` checks before taking a buffer back).
 */
export function ownedByBlock(ab: ArrayBufferLike): ab is ArrayBuffer {
  return ab instanceof ArrayBuffer && taken.has(ab);
}

/** `SLUICE_BLOCK_POOL`: buffers kept (0 turns the pool off), else the default. */
export function blockPoolLimit(): number {
  const v = process.env.SLUICE_BLOCK_POOL;
  if (v === undefined || v === '') return DEFAULT_LIMIT;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : DEFAULT_LIMIT;
}

/**
 * The thread's pool: line sources take from it, the runtime gives back to it; a worker thread keeps
 * the blocks it copies out of shared memory in its own.
 */
export const lineBlocks = new BlockPool(blockPoolLimit());

/** Shared memory for blocks of lines on their way to a worker thread (see above; main thread). */
export const sharedBlocks = new BlockPool(blockPoolLimit(), false, true);

/** A buffer a worker sent back (`free`): to the pool of its kind. */
export function giveBack(ab: ArrayBufferLike): void {
  if (ab instanceof SharedArrayBuffer) sharedBlocks.give(ab);
  else lineBlocks.give(ab);
}
