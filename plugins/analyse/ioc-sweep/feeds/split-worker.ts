/** The worker thread of `loadPlainSplit` (split.ts): parses its part of a plain list and posts the record in chunks. */
import { parentPort, workerData } from 'node:worker_threads';
import { recordChunks, type SplitChunk, type SplitWorkerData } from './split.js';

const { text, chunkChars } = workerData as SplitWorkerData;
recordChunks(text, chunkChars, (c: SplitChunk) => parentPort!.postMessage(c, [c.ops.buffer as ArrayBuffer]));
