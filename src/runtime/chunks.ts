import { recordChunks, type Batch, type Rec } from '../record.js';

/**
 * Records a processor is given at a time, at most. A source batch (2,000 lines by default) is cut
 * into chunks that go through the processors one after another (a worker thread runs each chunk
 * through its whole chain), so that the records made from one chunk can die before the next chunk is
 * read: made from a whole batch at once, they outlive the young generation's collections and are
 * copied by each of them (the collector's cost grows with what survives). A block of lines is made
 * into records chunk by chunk (`chunksOf`), so a chunk's `{message, origin}` records are made just
 * before it is processed, too. (The measurements behind this: bench/RESULTS.md, "Figures behind
 * code comments".)
 * Batches stay large where their size pays: reads, messages to worker threads, acknowledgements.
 * Plugins see consecutive chunks in order, as they would see smaller batches.
 */
export const CHUNK = 256;

/**
 * The records of a batch, `CHUNK` at a time, in order: an array is sliced; a block of lines gives
 * its records chunk by chunk, each made when it is reached (`recordChunks`).
 */
export function* chunksOf(batch: Batch): Generator<Rec[]> {
  if (Array.isArray(batch)) {
    if (batch.length <= CHUNK) yield batch;
    else for (let i = 0; i < batch.length; i += CHUNK) yield batch.slice(i, i + CHUNK);
    return;
  }
  yield* recordChunks(batch, CHUNK);
}
