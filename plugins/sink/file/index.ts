/**
 * `file` sink: JSON lines, optionally gzip. Writes go through the libuv thread pool so that
 * serialising the next batch overlaps the disk; `flush` writes what is buffered and fsyncs, and
 * only then does the runtime acknowledge the batches. Gzip output is a series of complete gzip
 * members (one per write), so the file is a valid gzip stream after every flush, even if the
 * process is killed later. The JSON lines are made by the sink's encoder (API 1.4), in the worker
 * threads when the records come from a parallel chain: here, only bytes are buffered and written.
 */
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { gzip as gzipCb } from 'node:zlib';
import { promisify } from 'node:util';
import { definePlugin, type EncodedBatch, type Rec, type SinkEncoder, type SinkInstance } from '../../../src/api.js';

const gzip = promisify(gzipCb);

interface FileSinkConfig {
  path: string;
  mode: 'append' | 'overwrite';
  gzip: 'auto' | boolean;
  fsync: boolean;
  buffer_bytes: number;
}

export default definePlugin<FileSinkConfig>({
  name: 'file',
  kind: 'sink',
  summary: 'Write records as JSON lines to a local file (optionally gzip), fsynced before batches are acknowledged.',
  description: [
    'One JSON object per line. `mode: append` (the default) keeps what earlier runs wrote, which is what a',
    'checkpointed source resuming after a crash needs; `overwrite` truncates the file when the run starts.',
    'Parent directories are created. With gzip, each buffered write becomes one gzip member.',
  ].join('\n'),
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: { type: 'string', minLength: 1, description: 'Output file, relative to the working directory.', examples: ['out/alerts.jsonl'] },
      mode: { enum: ['append', 'overwrite'], default: 'append', description: 'Append to the file, or truncate it at start.' },
      gzip: { enum: ['auto', true, false], default: 'auto', description: "Compress: 'auto' decides by the .gz extension." },
      fsync: { type: 'boolean', default: true, description: 'fsync on every flush (durability before acknowledgement). Turn off only for scratch output.' },
      buffer_bytes: { type: 'integer', minimum: 1024, default: 1048576, description: 'Bytes buffered before a write is issued.' },
    },
  },
  examples: [
    { title: 'Alerts as JSON lines', with: { path: 'out/alerts.jsonl', mode: 'overwrite' } },
    { title: 'Compressed archive', with: { path: 'out/records.jsonl.gz' } },
  ],
  encoder: () => jsonLinesEncoder,
  async create(config, ctx): Promise<SinkInstance> {
    const path = ctx.resolvePath(config.path);
    mkdirSync(dirname(path), { recursive: true });
    const fh = await open(path, config.mode === 'overwrite' ? 'w' : 'a');
    return new FileSink(fh, config, config.gzip === 'auto' ? path.endsWith('.gz') : config.gzip, config.path);
  },
});

/** A batch as JSON lines: their UTF-8 bytes, and their length in characters (what `buffer_bytes` counts). */
interface JsonLines {
  data: Uint8Array;
  chars: number;
}

/** Records → JSON lines (`JSON.stringify` of each, `\n` after each): the same bytes in any thread. */
const jsonLinesEncoder: SinkEncoder<JsonLines> = {
  encode(records: Rec[]): EncodedBatch<JsonLines> {
    let s = '';
    for (let i = 0; i < records.length; i++) s += JSON.stringify(records[i]) + '\n';
    // its own ArrayBuffer (never a slice of Buffer's pool): moved to the main thread, not copied
    const data = Buffer.allocUnsafeSlow(Buffer.byteLength(s));
    data.write(s, 'utf8');
    return { count: records.length, value: { data, chars: s.length }, transfer: [data.buffer as ArrayBuffer] };
  },
};

/** Buffers (of `buffer_bytes`) queued for writing before `write` makes the runner wait. */
const MAX_BUFFERS_IN_FLIGHT = 4;

class FileSink implements SinkInstance {
  private parts: Uint8Array[] = [];
  private bufferedChars = 0;
  /** Characters handed to `writing` and not yet written (gzip and the disk may be slower than the pipeline). */
  private inFlightChars = 0;
  private writing: Promise<void> = Promise.resolve();
  private failed: unknown;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly fh: FileHandle,
    private readonly config: FileSinkConfig,
    private readonly gz: boolean,
    readonly target: string,
  ) {}

  write(records: Rec[]): void | Promise<void> {
    return this.writeEncoded(jsonLinesEncoder.encode(records));
  }

  writeEncoded(batch: EncodedBatch): void | Promise<void> {
    if (this.failed) throw this.failed;
    const { data, chars } = batch.value as JsonLines;
    this.parts.push(data);
    this.bufferedChars += chars;
    if (this.bufferedChars >= this.config.buffer_bytes) this.issueWrite();
    // Backpressure: with more than a few buffers queued behind gzip or the disk, the runner waits
    // (and the pipeline behind it) instead of the queue growing in memory.
    if (this.inFlightChars > MAX_BUFFERS_IN_FLIGHT * this.config.buffer_bytes) return this.writing;
  }

  private issueWrite(): void {
    if (!this.parts.length) return;
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    const chars = this.bufferedChars;
    this.parts = [];
    this.bufferedChars = 0;
    this.inFlightChars += chars;
    this.writing = this.writing.then(async () => {
      try {
        const data = this.gz ? await gzip(bytes) : bytes;
        await this.fh.write(data);
      } finally {
        this.inFlightChars -= chars;
      }
    });
    this.writing.catch((err) => (this.failed = err));
  }

  async flush(): Promise<void> {
    this.issueWrite();
    await this.writing;
    if (this.config.fsync) await this.fh.datasync();
  }

  /** Idempotent: a second call waits for the first instead of closing a closed handle. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      try {
        await this.flush();
      } finally {
        await this.fh.close();
      }
    })());
  }
}
