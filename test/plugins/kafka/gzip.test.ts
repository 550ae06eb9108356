/**
 * The gzip codec the kafka plugins put in kafkajs's table: the same bytes kafkajs's own makes and
 * reads, on the synchronous (small) and asynchronous (large) paths. No broker.
 */
import { createRequire } from 'node:module';
import { deflateSync, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { installGzipCodec } from '../../../plugins/sink/kafka/gzip.js';

const require = createRequire(import.meta.url);
type Codec = { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> };
const kafkajs = require('kafkajs') as { CompressionTypes: { GZIP: number }; CompressionCodecs: Record<number, () => Codec> };
const theirs = require('kafkajs/src/protocol/message/compression/gzip') as Codec;

const text = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `{"n":${i},"url":"http://a${i % 97}.example/x"}`).join('\n'));

describe('kafka gzip codec (kafkajs table, no broker)', () => {
  it('is installed in kafkajs and gives the same bytes as kafkajs, small and large', async () => {
    expect(installGzipCodec()).toBe(true);
    const ours = kafkajs.CompressionCodecs[kafkajs.CompressionTypes.GZIP]!();
    expect(ours).not.toBe(theirs);
    for (const n of [1, 50, 20_000]) {
      const b = text(n); // 20,000 lines: ≈ 800 kB, over the synchronous limit
      const z = await ours.compress({ buffer: b });
      expect(z.equals(await theirs.compress({ buffer: b }))).toBe(true);
      expect(gunzipSync(z).equals(b)).toBe(true);
      expect((await ours.decompress(z)).equals(b)).toBe(true);
    }
  });

  it('decompresses what kafkajs would (gzip or zlib, by the header)', async () => {
    const ours = kafkajs.CompressionCodecs[kafkajs.CompressionTypes.GZIP]!();
    const b = text(100);
    expect((await ours.decompress(gzipSync(b))).equals(b)).toBe(true);
    expect((await ours.decompress(deflateSync(b))).equals(await theirs.decompress(deflateSync(b)))).toBe(true);
    await expect(ours.decompress(Buffer.from('not gzip'))).rejects.toThrow();
  });
});
