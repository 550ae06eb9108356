/**
 * kafkajs's gzip codec, made cheaper for small batches: kafkajs runs every compression and
 * decompression through zlib's asynchronous stream API, whose set-up costs ≈ 3× the CPU of the
 * synchronous call for a batch of a few kB (the sinks send one such batch every `linger` while
 * alerts flow). Up to `SYNC_MAX` bytes the work is done synchronously (well under a millisecond);
 * larger buffers keep the asynchronous path, off the event loop. The bytes are the same gzip.
 */
import { gzip, gzipSync, unzip, unzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

const require = createRequire(import.meta.url);

const SYNC_MAX = 256 * 1024;
const gzipAsync = promisify(gzip);
const unzipAsync = promisify(unzip);

const codec = {
  async compress(encoder: { buffer: Buffer }): Promise<Buffer> {
    const b = encoder.buffer;
    return b.length <= SYNC_MAX ? gzipSync(b) : gzipAsync(b);
  },
  async decompress(buffer: Buffer): Promise<Buffer> {
    // `unzip`, as kafkajs: gzip or zlib, by the header. A compressed size: the output is larger.
    return buffer.length <= SYNC_MAX / 8 ? unzipSync(buffer) : unzipAsync(buffer);
  },
};

/**
 * Put the codec in kafkajs's table (process-wide: a kafka source in the same process decompresses
 * with it too; the table is not among the named exports an ES import of kafkajs sees, hence
 * `require`). False when kafkajs has no such table.
 */
export function installGzipCodec(): boolean {
  const kafkajs = require('kafkajs') as { CompressionTypes?: { GZIP: number }; CompressionCodecs?: Record<number, () => unknown> };
  if (!kafkajs.CompressionTypes || !kafkajs.CompressionCodecs) return false;
  kafkajs.CompressionCodecs[kafkajs.CompressionTypes.GZIP] = () => codec;
  return true;
}
