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

/** No bytes: `pre` when no line is carried over. */
const NO_BYTES = Buffer.alloc(0);

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
 *
 * The lines are read by `scanLines`, which stops at whatever needs more than counting (a full
 * block, a blank or over-long line, the end of the chunk); what to do then is done here.
 */
export async function cutLines(buf: Buffer, endOffset: number, o: CutLines, pre: Buffer = NO_BYTES): Promise<number> {
  const len = pre.length + buf.length;
  const startOffset = endOffset - len;
  const max = o.maxLineBytes;
  // No closures in here (cutBlock and joinedSlice are module functions): a closure is a new call
  // target each call, and code optimised in one call would be thrown away at the next. The same
  // holds for the callbacks in `o` (see `CutLines`).
  const at = new Int32Array(SCAN_FIELDS);
  at[LINE] = o.line;
  let from = 0; // start of the block being gathered
  let first = o.line + 1;
  // the ends of the lines of the block being gathered (`LineBlock.ends`), from its start
  let ends = new Int32Array(Math.min(o.batchSize, 65536) + 16);
  for (;;) {
    const stop = scanLines(pre, buf, from, max, o.batchSize, ends, at);
    if (stop === BLANK) o.blank();
    else if (stop === ENDS_FULL)
      ends = grownEnds(ends); // blank lines beyond the batch size
    else if (stop === TOO_LONG) {
      // Rejected here, with its bytes: the block ends before it, the next one starts after it.
      const pos = at[POS]!;
      const nl = lineEnd(pre, buf, pos);
      const lineNo: number = at[LINE]! + 1;
      const block = cutBlock(pre, buf, from, pos, o.file, first, at[RECORDS]!, ends, at[ENDS]!);
      o.tooLong(lineNo, joinedSlice(pre, buf, pos, pos + max), lineBytes(pre, buf, pos, nl));
      if (!(await o.emit(block, startOffset + Math.min(nl + 1, len), lineNo))) return -1;
      from = nl + 1;
      first = lineNo + 1;
      at[POS] = from;
      at[LINE] = lineNo;
      at[RECORDS] = 0;
      at[ENDS] = 0;
    } else {
      // a full block, or the end of the chunk: the block so far goes
      const to = Math.min(at[POS]!, len);
      const lineNo: number = at[LINE]!;
      if (!(await o.emit(cutBlock(pre, buf, from, to, o.file, first, at[RECORDS]!, ends, at[ENDS]!), startOffset + to, lineNo))) return -1;
      if (stop === CHUNK_END) return lineNo;
      from = to;
      first = lineNo + 1;
      at[RECORDS] = 0;
      at[ENDS] = 0;
    }
  }
}

/** What `scanLines` leaves in its `at` (indices): the position of the next line, the number of the last line read, the records and line ends of the block so far. */
const POS = 0;
const LINE = 1;
const RECORDS = 2;
const ENDS = 3;
const SCAN_FIELDS = 4;

/** Why `scanLines` stopped: the input ends, the block is full, a blank line (counted), a line too long, no room left in `ends`. */
const CHUNK_END = 0;
const BLOCK_FULL = 1;
const BLANK = 2;
const TOO_LONG = 3;
const ENDS_FULL = 4;

/**
 * Read lines of `pre` followed by `buf` from `at[POS]` on, each line's end into `ends` (relative to
 * `from`, the start of the block), until one of the stops above; `at` is where it stopped (an
 * over-long line is not read: `at[POS]` is its start). This loop reads nearly every line of a
 * sweep. It keeps its counts in `at` line by line and every way out is a bare `return` of a constant,
 * so that the code V8 compiles for it mid-run (on-stack replacement) needs no type feedback on its
 * way out: V8 keeps that code for later calls, and a way out first taken after it was compiled (a
 * callback at a chunk's end, a counter first written there) sent each later call back to the
 * interpreter, in about a third of the runs (bench/RESULTS.md, session 23).
 */
function scanLines(pre: Buffer, buf: Buffer, from: number, max: number, batchSize: number, ends: Int32Array, at: Int32Array): number {
  const len = pre.length + buf.length;
  let pos = at[POS]!;
  let lineNo = at[LINE]!;
  let records = at[RECORDS]!;
  let n = at[ENDS]!;
  for (;;) {
    if (pos >= len) return CHUNK_END;
    if (records >= batchSize) return BLOCK_FULL;
    if (n === ends.length) return ENDS_FULL;
    const nl = lineEnd(pre, buf, pos);
    const bytes = lineBytes(pre, buf, pos, nl);
    if (bytes > max) return TOO_LONG;
    ends[n++] = nl - from;
    lineNo++;
    pos = nl + 1;
    if (bytes > 0) records++;
    at[POS] = pos;
    at[LINE] = lineNo;
    at[RECORDS] = records;
    at[ENDS] = n;
    if (bytes === 0) return BLANK;
  }
}

/** Where the line at `pos` of `pre` followed by `buf` ends: its '\n', or the end of both (a last line without one). */
function lineEnd(pre: Buffer, buf: Buffer, pos: number): number {
  const preLen = pre.length;
  if (pos < preLen) return preLen - 1; // pre is one line
  const nl = buf.indexOf(NL, pos - preLen);
  return nl === -1 ? preLen + buf.length : nl + preLen;
}

/** The length of the line from `pos` to `nl` (its end), without a '\r' before the '\n'. */
function lineBytes(pre: Buffer, buf: Buffer, pos: number, nl: number): number {
  const bytes = nl - pos;
  const preLen = pre.length;
  return bytes > 0 && (nl - 1 < preLen ? pre[nl - 1]! : buf[nl - 1 - preLen]!) === CR ? bytes - 1 : bytes;
}

/** The bytes `[from, to)` of `pre` followed by `buf` (see `cutLines`), a view where they lie in one of them. */
function joinedSlice(pre: Buffer, buf: Buffer, from: number, to: number): Buffer {
  const preLen = pre.length;
  if (from >= preLen) return buf.subarray(from - preLen, to - preLen);
  if (to <= preLen) return pre.subarray(from, to);
  return Buffer.concat([pre.subarray(from), buf.subarray(0, to - preLen)]);
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
  pre: Buffer,
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
  const preLen = pre.length;
  const bytes = lineBlocks.take(to - from);
  if (from < preLen) bytes.set(pre.subarray(from, Math.min(to, preLen)), 0);
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
