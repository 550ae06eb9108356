/**
 * `file` source: read lines from files matched by globs, gzip transparently, in name order.
 * Each line becomes `{ message, origin: { file, line } }`. With `checkpoint: true` the byte offset
 * of the last line whose batch every sink made durable is saved, and a rerun resumes there.
 */
import { createReadStream, statSync, openSync, readSync, closeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { normalize } from 'node:path';
import { definePlugin, makeInvalid, type LineBlock, type Rec, type SourceInstance, type SourceOutputs, type PluginContext } from '../../../src/api.js';
import { batchLinesOf, Checkpoints, cutLines, type CutLines, DEFAULT_BATCH_LINES, lineSourceProperties } from '../../../src/internal.js';

interface FileSourceConfig {
  paths: string[];
  batch_size?: number;
  max_line_bytes: number;
  checkpoint: boolean;
  gzip: 'auto' | boolean;
  read_chunk_bytes: number;
}

interface FileCheckpoint {
  ino: number;
  size: number;
  /** Bytes (of the decompressed stream, for gzip) fully delivered. */
  offset: number;
  /** Lines fully delivered. */
  line: number;
  complete: boolean;
}

/** What a batch commits when it is durable. */
interface CommitPoint {
  file: string;
  ino: number;
  size: number;
  offset: number;
  line: number;
  complete: boolean;
}

const checkpointOf = (c: CommitPoint): FileCheckpoint => ({ ino: c.ino, size: c.size, offset: c.offset, line: c.line, complete: c.complete });

/**
 * The files the paths name: a path naming an existing file is taken as written; any other is a
 * fast-glob pattern (the glob library loads only then: most specs name their files, and it costs
 * start-up time). Each file once.
 */
async function matchFiles(paths: string[]): Promise<string[]> {
  const files = new Map<string, string>();
  const add = (f: string): void => {
    if (!files.has(normalize(f))) files.set(normalize(f), f);
  };
  const patterns: string[] = [];
  for (const p of paths) {
    let isFile = false;
    try {
      isFile = statSync(p).isFile();
    } catch {
      // not there as written (or not readable): maybe a pattern
    }
    if (isFile) add(p);
    else patterns.push(p);
  }
  if (patterns.length > 0) {
    const { default: fg } = await import('fast-glob');
    for (const f of await fg(patterns, { onlyFiles: true, unique: true, dot: false, absolute: false })) add(f);
  }
  return [...files.values()];
}

const NL = 0x0a;

export default definePlugin<FileSourceConfig>({
  name: 'file',
  kind: 'source',
  summary: 'Read lines from local files (globs, .gz transparently), optionally resuming from a checkpoint.',
  reasons: {
    LINE_TOO_LONG: 'a line longer than `max_line_bytes`; the record keeps its first `max_line_bytes` bytes',
    GZIP_CORRUPT: 'a `.gz` file is truncated or corrupt; the lines before the damage were delivered',
    READ_ERROR: 'reading a file failed part-way; the lines before the failure were delivered',
  },
  description: [
    'Files matching `paths` are read one after another in name order. Each non-empty line becomes a record',
    '`{ message, origin: { file, line } }`; a trailing `\\r` is removed (CRLF files); empty lines are skipped and',
    'counted (`blank_lines`). Lines whose bytes are not valid UTF-8 carry `raw_base64` with the exact bytes.',
    'A line longer than `max_line_bytes` goes to the `invalid` port (reason `LINE_TOO_LONG`, first',
    '`max_line_bytes` bytes kept); a truncated or corrupt gzip file yields what could be read plus one',
    '`GZIP_CORRUPT` invalid record. Relative paths are taken from the working directory.',
    '',
    'With `checkpoint: true`, the source records in its state directory how far each file was delivered',
    '(every sink made the lines durable); a rerun skips what was delivered, so a crash at any moment loses',
    'nothing and replays at most the batches that were in flight.',
  ].join('\n'),
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['paths'],
    properties: {
      paths: {
        type: 'array',
        minItems: 1,
        items: { type: 'string', minLength: 1 },
        description:
          'Files or glob patterns (fast-glob syntax), relative to the working directory. A path naming an existing file is read as written, even if it holds glob characters; a file named twice, or named and matched, is read once.',
        examples: [['examples/logs/*.log', 'examples/logs/*.log.gz']],
      },
      ...lineSourceProperties,
      gzip: { enum: ['auto', true, false], default: 'auto', description: "Decompress: 'auto' decides by the .gz extension." },
      read_chunk_bytes: { type: 'integer', minimum: 4096, default: 1048576, description: 'Read size; larger is faster, smaller uses less memory.' },
    },
  },
  ports: ['out', 'invalid'],
  examples: [
    { title: 'All sample logs, plain and gzip', with: { paths: ['examples/logs/*.log', 'examples/logs/*.gz'] } },
    { title: 'Resume where the last run stopped', with: { paths: ['/var/log/squid/access.log*'], checkpoint: true } },
  ],
  async inputBytes(config) {
    let total = 0;
    for (const f of await matchFiles(config.paths)) total += sizeOf(f, config.gzip === 'auto' ? f.endsWith('.gz') : config.gzip);
    return total;
  },
  create(config, ctx): SourceInstance {
    return new FileSource(config, ctx);
  },
});

/**
 * Bytes a file gives when read: its size, or for gzip the larger of its size and the size the
 * trailer states (ISIZE: the last member's uncompressed size modulo 4 GiB — an estimate, enough to
 * tell a sample from a day of logs). Unreadable files count as empty (the run reports them).
 */
function sizeOf(file: string, gz: boolean): number {
  try {
    const size = statSync(file).size;
    if (!gz || size < 18) return size;
    const fd = openSync(file, 'r');
    try {
      const trailer = Buffer.alloc(4);
      readSync(fd, trailer, 0, 4, size - 4);
      return Math.max(size, trailer.readUInt32LE(0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return 0;
  }
}

class FileSource implements SourceInstance {
  private readonly checkpoints: Checkpoints<FileCheckpoint>;
  /** Lines per block: `batch_size`, else the runtime's suggestion (set in `run`). */
  private batchLines = DEFAULT_BATCH_LINES;

  constructor(
    private readonly config: FileSourceConfig,
    private readonly ctx: PluginContext,
  ) {
    this.checkpoints = new Checkpoints<FileCheckpoint>(config.checkpoint ? ctx.stateDir() : undefined, ctx.logger);
  }

  async run(emit: (batch: SourceOutputs, onDurable?: () => void) => Promise<void>): Promise<void> {
    const files = await matchFiles(this.config.paths);
    files.sort();
    if (!files.length) this.ctx.logger.warn({ paths: this.config.paths }, 'no file matches the paths');
    let total = 0;
    const stats = files.map((f) => statSync(f));
    for (const s of stats) total += s.size;
    this.ctx.metrics.set('bytes_total', total);
    this.ctx.metrics.set('files', files.length);
    // the runtime's suggestion is known now, not at create (API 1.11)
    this.batchLines = batchLinesOf(this.config.batch_size, this.ctx.batchLines);
    this.ctx.metrics.set('batch_lines', this.batchLines);
    for (let i = 0; i < files.length; i++) {
      if (this.ctx.signal.aborted) break;
      await this.readFile(files[i]!, stats[i]!.ino, stats[i]!.size, emit);
    }
  }

  private async readFile(file: string, ino: number, size: number, emit: (batch: SourceOutputs, onDurable?: () => void) => Promise<void>): Promise<void> {
    const cfg = this.config;
    const gz = cfg.gzip === 'auto' ? file.endsWith('.gz') : cfg.gzip;
    const prev = this.checkpoints.files[file];
    let skipBytes = 0;
    let lineNo = 0;
    if (prev && prev.ino === ino) {
      if (prev.complete && prev.size === size) {
        this.ctx.metrics.add('bytes_read', size);
        return; // delivered entirely by an earlier run
      }
      skipBytes = prev.offset;
      lineNo = prev.line;
    }
    let stream: AsyncIterable<Buffer>;
    if (gz) {
      const raw = createReadStream(file, { highWaterMark: cfg.read_chunk_bytes, start: 0 });
      const gunzip = raw.pipe(createGunzip({ chunkSize: 256 * 1024 }));
      raw.on('error', (e) => gunzip.destroy(e));
      raw.on('data', (c: Buffer | string) => this.ctx.metrics.add('bytes_read', c.length));
      stream = gunzip;
    } else stream = readInto(file, skipBytes, cfg.read_chunk_bytes, (n) => this.ctx.metrics.add('bytes_read', n));
    let offset = gz ? 0 : skipBytes; // offset in the (decompressed) stream of the next unread byte
    let toSkip = gz ? skipBytes : 0;
    const carry: Buffer[] = [];
    let carryLen = 0;
    let overlong = false; // the line being accumulated is already beyond max_line_bytes
    let block: LineBlock | null = null; // at most one block per batch
    let invalid: Rec[] = [];
    let blank = 0;
    if (!gz && skipBytes) this.ctx.metrics.add('bytes_read', skipBytes);

    const tooLong = (line: number, bytes: Buffer, length: number) => {
      invalid.push(
        makeInvalid(
          this.ctx.node,
          { file, line },
          'LINE_TOO_LONG',
          `line is ${length} bytes, longer than max_line_bytes (${cfg.max_line_bytes}); the first ${cfg.max_line_bytes} bytes are kept`,
          bytes.subarray(0, cfg.max_line_bytes).toString('utf8'),
        ),
      );
    };

    const flushBatch = async (commit: CommitPoint | null) => {
      if (blank) {
        this.ctx.metrics.add('blank_lines', blank);
        blank = 0;
      }
      if (!block && !invalid.length && !commit) return;
      const batch: SourceOutputs = {};
      if (block) batch.out = block;
      if (invalid.length) batch.invalid = invalid;
      block = null;
      invalid = [];
      const seq = this.checkpoints.nextBatch();
      await emit(batch, () => this.checkpoints.durable(seq, commit && { key: commit.file, point: checkpointOf(commit) }));
    };

    // One set of callbacks per file, not per chunk: they are call targets of cutLines' optimised loop,
    // and new closures at every chunk deoptimised it at every chunk (line-reader.ts `CutLines`).
    const cut: CutLines = {
      file,
      batchSize: this.batchLines,
      maxLineBytes: cfg.max_line_bytes,
      line: lineNo,
      emit: async (b, end, line) => {
        block = b;
        lineNo = line;
        await flushBatch(cfg.checkpoint ? { file, ino, size, offset: end, line, complete: false } : null);
        return !this.ctx.signal.aborted;
      },
      tooLong,
      blank: () => {
        blank++;
      },
    };

    /**
     * Cut whole lines (`pre`, one line carried over, then `buf`) into blocks of `batch_size` records
     * and emit each (`cutLines`). Lines are only delimited here — records are built where a node
     * reads them. Returns false when the run was stopped between two batches.
     */
    const consume = async (buf: Buffer, endOffset: number, pre?: Buffer): Promise<boolean> => {
      cut.line = lineNo;
      const last = await cutLines(buf, endOffset, cut, pre);
      if (last < 0) return false;
      lineNo = last;
      return !this.ctx.signal.aborted;
    };

    let corrupt: Error | undefined;
    try {
      for await (const chunk0 of stream) {
        if (this.ctx.signal.aborted) break;
        let chunk = chunk0;
        if (toSkip > 0) {
          const n = Math.min(toSkip, chunk.length);
          toSkip -= n;
          offset += n;
          chunk = chunk.subarray(n);
          if (!chunk.length) continue;
        }
        const lastNl = chunk.lastIndexOf(NL);
        if (lastNl === -1) {
          // No line end in this chunk: keep accumulating (bounded by max_line_bytes), copied (the
          // chunk's memory is reused by the next read).
          if (carryLen < cfg.max_line_bytes + 1) carry.push(Buffer.from(chunk));
          else overlong = true;
          carryLen += chunk.length;
          offset += chunk.length;
          continue;
        }
        let head: Buffer;
        let pre: Buffer | undefined;
        if (carry.length) {
          if (overlong || carryLen > cfg.max_line_bytes) {
            // An over-long first line: reject it from what we kept, then go on with the rest.
            const firstNl = chunk.indexOf(NL);
            const kept = Buffer.concat(carry).subarray(0, cfg.max_line_bytes);
            lineNo++;
            tooLong(lineNo, kept, carryLen + firstNl);
            offset += firstNl + 1;
            carry.length = 0;
            carryLen = 0;
            overlong = false;
            chunk = chunk.subarray(firstNl + 1);
            const ln = chunk.lastIndexOf(NL);
            if (ln === -1) {
              if (chunk.length) {
                carry.push(Buffer.from(chunk));
                carryLen = chunk.length;
              }
              offset += chunk.length;
              await flushBatch(null);
              continue;
            }
            head = chunk.subarray(0, ln + 1);
            offset += head.length;
            if (!(await consume(head, offset))) break;
            const rest = chunk.subarray(ln + 1);
            if (rest.length) {
              carry.push(Buffer.from(rest));
              carryLen = rest.length;
            }
            offset += rest.length;
            continue;
          }
          // The line cut by the previous chunk ends in this one: join just that line.
          const firstNl = chunk.indexOf(NL);
          pre = Buffer.concat([...carry, chunk.subarray(0, firstNl + 1)]);
          head = chunk.subarray(firstNl + 1, lastNl + 1);
          offset += lastNl + 1;
          carry.length = 0;
          carryLen = 0;
        } else {
          head = chunk.subarray(0, lastNl + 1);
          offset += lastNl + 1;
        }
        if (!(await consume(head, offset, pre))) break;
        const rest = chunk.subarray(lastNl + 1);
        if (rest.length) {
          carry.push(Buffer.from(rest)); // copy: the chunk's memory is reused by the next read
          carryLen = rest.length;
        }
        offset += rest.length;
      }
    } catch (err) {
      corrupt = err as Error;
    }
    const aborted = this.ctx.signal.aborted;
    if (!aborted || carryLen === 0) {
      // The last line, without a final newline.
      if (carryLen > 0) {
        const last = Buffer.concat(carry);
        if (overlong || last.length > cfg.max_line_bytes) {
          lineNo++;
          tooLong(lineNo, last, carryLen);
        } else {
          await consume(last, offset + carryLen);
        }
      }
      if (corrupt) {
        this.ctx.metrics.add('corrupt_files', 1);
        invalid.push(
          makeInvalid(
            this.ctx.node,
            { file, line: lineNo + 1 },
            gz ? 'GZIP_CORRUPT' : 'READ_ERROR',
            `${gz ? 'gzip stream is truncated or corrupt' : 'read failed'} after ${offset} bytes (${lineNo} lines): ${corrupt.message}`,
            '',
          ),
        );
      }
      await flushBatch(this.config.checkpoint && !aborted ? { file, ino, size, offset: offset + carryLen, line: lineNo, complete: true } : null);
    } else {
      await flushBatch(null);
    }
  }

  async close(): Promise<void> {
    this.checkpoints.save();
  }
}

/**
 * The bytes of `file` from `start`, in chunks of at most `size`, read into two buffers in turn: while
 * the caller works on one chunk, the next is already being read into the other (the read runs in
 * libuv's thread pool; reading and waiting one after the other left the main thread idle for every
 * read: bench/RESULTS.md, session 17). A buffer is read into again only once the caller has asked for
 * the chunk after the one it holds, so the caller is done with a chunk (or has copied what it keeps)
 * before it asks for the next, as with one buffer. Two buffers for the whole file instead of a new
 * one per chunk: a run reading gigabytes otherwise leaves an ArrayBuffer per chunk for the garbage
 * collector, whose backing stores only full collections return (bench/RESULTS.md, "The line gate's
 * CPU per line").
 */
async function* readInto(file: string, start: number, size: number, read: (n: number) => void): AsyncGenerator<Buffer> {
  const fh = await open(file, 'r');
  let pending: Promise<unknown> | undefined;
  try {
    const bufs = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
    let pos = start;
    let turn = 0;
    let next = fh.read(bufs[0]!, 0, size, pos);
    // marked handled: a read that fails while the caller is busy is reported when awaited, not as unhandled
    void next.catch(() => undefined);
    pending = next;
    for (;;) {
      const { bytesRead, buffer } = await next;
      if (bytesRead === 0) return;
      pos += bytesRead;
      read(bytesRead);
      turn ^= 1;
      // the next chunk into the other buffer, while the caller works on this one
      next = fh.read(bufs[turn]!, 0, size, pos);
      void next.catch(() => undefined);
      pending = next;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    // a read still in flight (the caller stopped early) settles before the file is closed
    await pending?.catch(() => undefined);
    await fh.close();
  }
}
