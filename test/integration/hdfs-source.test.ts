/**
 * The `hdfs` source on the real HDFS (no mocks): directories, globs and `**`, hidden and in-progress
 * files skipped, gzip by suffix and by magic, over-long lines and a truncated gzip rejected with
 * their reasons, and checkpoints that resume where the delivered batches end.
 */
import { beforeAll, afterAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describeWithServices, useServices, hdfsUp } from './services.js';
import { createSource, testContext } from '../helpers/harness.js';
import hdfsSource from '../../plugins/source/hdfs/index.js';
import { Hdfs } from '../../src/hdfs/webhdfs.js';
import type { Rec, SourceOutputs } from '../../src/api.js';
import { blockRecords } from '../../src/record.js';

// The cluster test/services/ starts (SLUICE_HDFS_HTTP_PORT moves it).
const URL_ = `http://127.0.0.1:${process.env.SLUICE_HDFS_HTTP_PORT ?? 9870}`;
const ROOT = `/sluice-src-${randomUUID().slice(0, 8)}`;

async function drain(
  config: object,
  ctx = testContext('src'),
  stopAfter = Infinity,
): Promise<{ out: Rec[]; invalid: Rec[]; ctx: ReturnType<typeof testContext> }> {
  const src = await createSource(hdfsSource, { url: URL_, user: 'sluice', ...config }, ctx);
  const out: Rec[] = [];
  const invalid: Rec[] = [];
  let batches = 0;
  await src.run(async (b: SourceOutputs, onDurable) => {
    if (b.out) out.push(...(Array.isArray(b.out) ? b.out : blockRecords(b.out)));
    if (b.invalid) invalid.push(...(b.invalid as Rec[]));
    if (++batches <= stopAfter) onDurable?.();
  });
  await src.close?.();
  return { out, invalid, ctx };
}

describeWithServices(['hdfs'], 'hdfs source on the real HDFS', () => {
  let h: Hdfs;
  const lines = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag} line ${i + 1}`).join('\n') + '\n';

  beforeAll(async () => {
    await useServices(['hdfs']);
    h = new Hdfs({ url: URL_, user: 'sluice', timeout_ms: 10000 });
    await h.mkdirs(`${ROOT}/dt=2026-12-01/hour=00`);
    await h.mkdirs(`${ROOT}/dt=2026-12-02`);
    await h.mkdirs(`${ROOT}/dt=2026-12-03`);
    await h.create(`${ROOT}/dt=2026-12-01/hour=00/a.log`, Buffer.from(lines('a', 3000)));
    await h.create(`${ROOT}/dt=2026-12-01/b.log.gz`, gzipSync(lines('b', 10)));
    await h.create(`${ROOT}/dt=2026-12-02/c-no-suffix`, gzipSync(lines('c', 5))); // gzip by magic
    await h.create(`${ROOT}/dt=2026-12-02/_tmp.part-x`, Buffer.from('hidden\n'));
    await h.create(`${ROOT}/dt=2026-12-02/.d.crc`, Buffer.from('hidden\n'));
    await h.create(`${ROOT}/dt=2026-12-02/e.inprogress`, Buffer.from('hidden\n'));
    await h.create(`${ROOT}/dt=2026-12-02/_SUCCESS`, Buffer.alloc(0));
    await h.create(`${ROOT}/dt=2026-12-03/long.log`, Buffer.from(`ok 1\r\n${'x'.repeat(5000)}\n\nok 4 no newline`));
    const gz = gzipSync(lines('t', 2000));
    await h.create(`${ROOT}/dt=2026-12-03/trunc.log.gz`, gz.subarray(0, gz.length - 300));
  });

  afterAll(async () => {
    if (h && (await hdfsUp())) await h.delete(ROOT, true).catch(() => {});
  });

  it('a directory is read recursively, in path order, hidden and in-progress files skipped; gzip by suffix and by magic', async () => {
    const { out, invalid } = await drain({ paths: [`${ROOT}/dt=2026-12-01`, `${ROOT}/dt=2026-12-02/`], batch_size: 700, read_chunk_bytes: 4096 });
    expect(invalid).toEqual([]);
    expect(out.length).toBe(3015);
    expect(out[0]).toEqual({ message: 'b line 1', origin: { file: `hdfs://127.0.0.1${ROOT}/dt=2026-12-01/b.log.gz`, line: 1 } });
    expect(out[10]).toEqual({ message: 'a line 1', origin: { file: `hdfs://127.0.0.1${ROOT}/dt=2026-12-01/hour=00/a.log`, line: 1 } });
    expect(out[3009]!.message).toBe('a line 3000');
    expect(out.slice(3010).map((r) => r.message)).toEqual(['c line 1', 'c line 2', 'c line 3', 'c line 4', 'c line 5']);
    expect(out.some((r) => r.message === 'hidden')).toBe(false);
  });

  it('globs: {a,b}, *, ** and a file named directly', async () => {
    const { out } = await drain({ paths: [`${ROOT}/dt=2026-12-0{1,9}/**/*.log`, `${ROOT}/dt=2026-12-02/c-*`, `${ROOT}/dt=2026-12-01/b.log.gz`] });
    expect(out.length).toBe(3015);
    const { out: none } = await drain({ paths: [`${ROOT}/dt=2025-*/**`, `${ROOT}/missing/file.log`] });
    expect(none).toEqual([]);
  });

  it('over-long lines and a truncated gzip are rejected with their reasons; CRLF and a last line without newline read', async () => {
    const { out, invalid } = await drain({ paths: [`${ROOT}/dt=2026-12-03/`], max_line_bytes: 1000 });
    const long = out.filter((r) => r.origin.file.endsWith('long.log'));
    expect(long).toEqual([
      { message: 'ok 1', origin: { file: `hdfs://127.0.0.1${ROOT}/dt=2026-12-03/long.log`, line: 1 } },
      { message: 'ok 4 no newline', origin: { file: `hdfs://127.0.0.1${ROOT}/dt=2026-12-03/long.log`, line: 4 } },
    ]);
    expect(invalid.map((r) => [r.error.code, r.origin.line])).toEqual([
      ['LINE_TOO_LONG', 2],
      ['GZIP_CORRUPT', expect.any(Number)],
    ]);
    expect(invalid[0]!.event.original.length).toBe(1000);
    const t = out.filter((r) => r.origin.file.endsWith('trunc.log.gz'));
    expect(t.length).toBeGreaterThan(100);
    expect(t.length).toBeLessThan(2000);
    t.forEach((r, i) => {
      expect(r.origin.line).toBe(i + 1);
    });
  });

  it('checkpoints: a rerun resumes after the last delivered batch, and skips a file delivered whole', async () => {
    const ctx = testContext('ck');
    const paths = [`${ROOT}/dt=2026-12-01/hour=00/a.log`, `${ROOT}/dt=2026-12-01/b.log.gz`];
    // First run: b.log.gz (first in path order: its lines, then its end) and the first batch of
    // a.log become durable, the rest not.
    const first = await drain({ paths, checkpoint: true, batch_size: 1000, read_chunk_bytes: 65536 }, ctx, 3);
    expect(first.out.length).toBe(3010);
    const again = await drain({ paths, checkpoint: true, batch_size: 1000 }, testContext('ck', { stateDir: ctx.stateDir }));
    expect(again.out[0]!.origin.line).toBe(1001);
    expect(again.out.length).toBe(2000);
    expect(again.out.every((r) => r.origin.file.endsWith('a.log'))).toBe(true);
    const third = await drain({ paths, checkpoint: true }, testContext('ck', { stateDir: ctx.stateDir }));
    expect(third.out).toEqual([]);
  });
});
