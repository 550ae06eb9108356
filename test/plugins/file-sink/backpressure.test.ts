/**
 * The file sink bounds what it has queued for gzip and the disk: once more than a few buffers are
 * in flight, `write` returns a promise (the runner awaits it, so the pipeline waits) instead of
 * queueing without limit. Real files in a temp dir; nothing faked.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import fileSink from '../../../plugins/sink/file/index.js';
import { createSink } from '../../helpers/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-file-sink-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('file sink backpressure', () => {
  it('makes the writer wait once several buffers are queued, and loses nothing', async () => {
    const path = join(dir, 'out.jsonl.gz');
    const sink = await createSink(fileSink, { path, buffer_bytes: 1024, fsync: false });
    const N = 2000;
    let waits = 0;
    for (let i = 0; i < N; i += 10) {
      const batch = Array.from({ length: 10 }, (_, k) => ({ n: i + k, pad: 'x'.repeat(200) }));
      const r = sink.write(batch);
      if (r instanceof Promise) {
        waits++;
        await r;
      }
    }
    await sink.close();
    // each write of 10 records (~2 KiB) issues a gzip write; without a bound none would ever wait
    expect(waits).toBeGreaterThan(0);
    const lines = gunzipSync(readFileSync(path)).toString('utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).n)).toEqual(Array.from({ length: N }, (_, i) => i));
  });
});
