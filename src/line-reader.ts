/**
 * What the line sources (`file`, `hdfs`) share: cutting the whole lines of a chunk into blocks of
 * records (`cutLines`), and the checkpoints of how far each file was delivered, committed only
 * over the contiguous prefix of batches every sink made durable (`Checkpoints`).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineBlocks } from './block-pool.js';
import type { LineBlock } from './record.js';

/** Where an unreadable checkpoint file is reported (a plugin's `ctx.logger`). */
interface WarnLogger {
  warn(obj: object, msg?: string): void;
}

/** Lines per block when neither the spec nor the runtime says (`batch_size`, `ctx.batchLines`). */
export const DEFAULT_BATCH_LINES = 2000;

/** A line source's lines per block: its `batch_size` when set, else what the runtime suggests (API 1.11), else the default. */
export function batchLinesOf(configured: number | undefined, suggested: number | undefined): number {
  return configured ?? suggested ?? DEFAULT_BATCH_LINES;
}

/** The options both line sources take (schema properties). */
export const lineSourceProperties = {
  batch_size: {
    type: 'integer',
    minimum: 1,
    maximum: 100000,
    description:
      'Lines per batch. Unset: 2000, or 8000 when every node reading the lines heads a chain of copies that skip most lines unparsed (an IOC sweep over parsed proxy logs).',
  },
  max_line_bytes: { type: 'integer', minimum: 16, default: 1048576, description: 'Lines longer than this go to `invalid` (LINE_TOO_LONG).' },
  checkpoint: { type: 'boolean', default: false, description: 'Save delivered offsets in the state directory and resume from them on the next run.' },
} as const;

const NL = 0x0a;
const CR = 0x0d;

/**
 * What `cutLines` is told about the lines it cuts and where they go. Give it one object (one set of
 * callbacks) per file and set `line` before each chunk: the callbacks are call targets of its
 * optimised loop, and new closures at every chunk would deoptimise it at every chunk.
 */
export interface CutLines {
  /** `origin.file` of the blocks. */
  file: string;
  /** Records (non-empty lines) per block at most. */
  batchSize: number;
  /** Longer lines are rejected (`tooLong`), not put in a block. */
  maxLineBytes: number;
  /** Lines before the first one of this chunk (the first is `line + 1`). */
  line: number;
  /**
   * A batch is ready: the block of lines (null when there is none, such as after an over-long line
   * that ended a block), with the stream offset just after its last line and that line's number.
   * Returns false when the run is being stopped (nothing more is cut).
   */
  emit(block: LineBlock | null, endOffset: number, line: number): Promise<boolean>;
  /** Line `line` is `length` bytes, longer than `maxLineBytes`; `kept` holds its first bytes. */
  tooLong(line: number, kept: Buffer, length: number): void;
  /** An empty line (counted, no record). */
  blank(): void;
}

/**
 * Cut whole lines into blocks of at most `batchSize` records and emit them. The lines are `pre` (at
 * most one line: what was carried over from the previous chunk and the end of that line) followed
 * by `buf`, ending at stream offset `endOffset`; positions run over both as if they were one buffer,
 * so that a chunk is never copied just to join a line cut in two. Each line ends with '\n' except
 * possibly the last one of a file; one '\r' before it is dropped. Each block's bytes are copied into
 * memory of its own, taken from the pool of line blocks (block-pool.ts): the caller may reuse its
 * chunk, the runtime may transfer a block to a worker and give its memory back once it is read. A
 * block carries where its lines end (`LineBlock.ends`), found here, so that no one searches its
 * bytes for them again. Returns the number of the last line, or -1 when the run was stopped.
 */
export async function cutLines(buf: Buffer, endOffset: number, o: CutLines, pre?: Buffer): Promise<number> {
  const preLen = pre === undefined ? 0 : pre.length;
  const len = preLen + buf.length;
  const startOffset = endOffset - len;
  const max = o.maxLineBytes;
  // No closures in here (cutBlock and joinedSlice are module functions, the byte before a line end is
  // read inline): a closure is a new call target each call, and the loop optimised in one call would be
  // thrown away at the next. The same holds for the callbacks in `o` (see `CutLines`).
  let lineNo = o.line;
  let from = 0; // start of the block being gathered
  let first = lineNo + 1;
  let records = 0;
  let pos = 0;
  // the ends of the lines of the block being gathered (`LineBlock.ends`), from its start; `n` of them
  let ends = new Int32Array(Math.min(o.batchSize, 65536) + 16);
  let n = 0;
  while (pos < len) {
    let nl: number;
    if (pos < preLen)
      nl = preLen - 1; // pre is one line
    else {
      nl = buf.indexOf(NL, pos - preLen);
      nl = nl === -1 ? len : nl + preLen;
    }
    let bytes = nl - pos;
    if (bytes > 0 && (nl - 1 < preLen ? pre![nl - 1]! : buf[nl - 1 - preLen]!) === CR) bytes--;
    lineNo++;
    const next = nl + 1;
    if (bytes <= max) {
      if (n === ends.length) ends = grownEnds(ends); // blank lines beyond the batch size
      ends[n++] = nl - from;
    }
    if (bytes === 0) o.blank();
    else if (bytes > max) {
      // Rejected here, with its bytes: the block ends before it, the next one starts after it.
      const block = cutBlock(pre, buf, from, pos, o.file, first, records, ends, n);
      n = 0;
      o.tooLong(lineNo, joinedSlice(pre, buf, pos, pos + max), bytes);
      if (!(await o.emit(block, startOffset + Math.min(next, len), lineNo))) return -1;
      from = next;
      first = lineNo + 1;
      records = 0;
      pos = next;
      continue;
    } else records++;
    pos = next;
    if (records >= o.batchSize && pos < len) {
      if (!(await o.emit(cutBlock(pre, buf, from, pos, o.file, first, records, ends, n), startOffset + pos, lineNo))) return -1;
      n = 0;
      from = pos;
      first = lineNo + 1;
      records = 0;
    }
  }
  if (!(await o.emit(cutBlock(pre, buf, from, len, o.file, first, records, ends, n), endOffset, lineNo))) return -1;
  return lineNo;
}

/** The bytes `[from, to)` of `pre` followed by `buf` (see `cutLines`), a view where they lie in one of them. */
function joinedSlice(pre: Buffer | undefined, buf: Buffer, from: number, to: number): Buffer {
  const preLen = pre === undefined ? 0 : pre.length;
  if (from >= preLen) return buf.subarray(from - preLen, to - preLen);
  if (to <= preLen) return pre!.subarray(from, to);
  return Buffer.concat([pre!.subarray(from), buf.subarray(0, to - preLen)]);
}

/** `ends` with room for twice as many. */
function grownEnds(ends: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(2 * ends.length);
  grown.set(ends);
  return grown;
}

/**
 * The block of lines `[from, to)` of `pre` followed by `buf`, copied into a pool block, with the
 * first `n` of `ends` (its lines' ends); null when empty.
 */
function cutBlock(
  pre: Buffer | undefined,
  buf: Buffer,
  from: number,
  to: number,
  file: string,
  first: number,
  records: number,
  ends: Int32Array,
  n: number,
): LineBlock | null {
  if (to <= from) return null;
  const preLen = pre === undefined ? 0 : pre.length;
  const bytes = lineBlocks.take(to - from);
  if (from < preLen) bytes.set(pre!.subarray(from, Math.min(to, preLen)), 0);
  if (to > preLen) bytes.set(buf.subarray(Math.max(from, preLen) - preLen, to - preLen), Math.max(0, preLen - from));
  return { kind: 'lines', file, firstLine: first, bytes, records, ends: ends.slice(0, n) };
}

/**
 * How far each file was delivered, kept in `checkpoints.json` of a source's state directory (when
 * checkpoints are on). Batches are numbered as they are emitted (`nextBatch`); `durable` is called
 * as each becomes durable, in any order, with the point its end reaches; only the contiguous prefix
 * of durable batches is committed, and the file is rewritten (whole, then renamed) at most every
 * 200 ms and at `save`.
 */
export class Checkpoints<T> {
  /** The committed point of each file, by key. */
  readonly files: Record<string, T>;
  private readonly path: string | undefined;
  private seq = 0;
  private nextToCommit = 0;
  private readonly done = new Map<number, { key: string; point: T } | null>();
  private dirty = false;
  private lastSave = 0;

  /** Load the checkpoints of `stateDir` (none when undefined: checkpoints off). */
  constructor(stateDir: string | undefined, logger: WarnLogger) {
    let files: Record<string, T> = {};
    if (stateDir !== undefined) {
      this.path = join(stateDir, 'checkpoints.json');
      if (existsSync(this.path)) {
        try {
          files = (JSON.parse(readFileSync(this.path, 'utf8')) as { files: Record<string, T> }).files ?? {};
        } catch (err) {
          logger.warn({ file: this.path, err: String(err) }, 'checkpoint file unreadable; starting from the beginning');
        }
      }
    }
    this.files = files;
  }

  /** The number of the batch about to be emitted. */
  nextBatch(): number {
    return this.seq++;
  }

  /** Batch `seq` is durable; `commit` is where it ends (null: it moves no checkpoint). */
  durable(seq: number, commit: { key: string; point: T } | null): void {
    this.done.set(seq, commit);
    while (this.done.has(this.nextToCommit)) {
      const c = this.done.get(this.nextToCommit)!;
      this.done.delete(this.nextToCommit);
      this.nextToCommit++;
      if (c) {
        this.files[c.key] = c.point;
        this.dirty = true;
      }
    }
    if (this.dirty && Date.now() - this.lastSave > 200) this.save();
  }

  save(): void {
    if (!this.path || !this.dirty) return;
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, files: this.files }));
    renameSync(tmp, this.path);
    this.dirty = false;
    this.lastSave = Date.now();
  }
}
