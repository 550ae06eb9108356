/** The worker thread of `loadPlainSplit` (split.ts): parses chunks of a plain list and posts their records. */
import { parentPort, workerData } from 'node:worker_threads';
import { recordChunks, type SplitChunk, type SplitWorkerData } from './split.js';

recordChunks(workerData as SplitWorkerData, (c: SplitChunk) => parentPort!.postMessage(c, [c.ops.buffer as ArrayBuffer]));
