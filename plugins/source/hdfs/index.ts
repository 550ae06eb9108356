/**
 * `hdfs` source: read lines from HDFS files (paths, directories, globs) over WebHDFS, gzip by magic
 * or suffix, in path order. Each line becomes `{ message, origin: { file: 'hdfs://host/path', line } }`
 * (as line blocks, like the `file` source). With `checkpoint: true` the offset of the last line whose
 * batch every sink made durable is saved per file, and a rerun resumes there. Hidden and in-progress
 * files (`_x`, `.x`, `*.inprogress`, `*.tmp`, `*._COPYING_`) are skipped.
 */
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, gunzip as gunzipCb } from 'node:zlib';
import {
  definePlugin,
  makeInvalid,
  parseDuration,
  type ConfigIssue,
  type LineBlock,
  type PluginContext,
  type Rec,
  type SourceInstance,
  type SourceOutputs,
} from '../../../src/api.js';
import {
  Hdfs,
  HdfsError,
  Checkpoints,
  KeyIndexError,
  blocksToRead,
  parseKeyIndex,
  type KeyIndex,
  connectionSchemaProperties,
  batchLinesOf,
  cutLines,
  type CutLines,
  DEFAULT_BATCH_LINES,
  isGlobSegment,
  isHiddenName,
  lineFilterOf,
  lineSourceProperties,
  retrying,
  segmentRegExp,
  segmentsOf,
  type FileStatus,
  type HdfsConnectionConfig,
  type LineFilter,
  type LineFilterOffer,
} from '../../../src/internal.js';

interface HdfsSourceConfig extends HdfsConnectionConfig {
  paths: string[];
  batch_size?: number;
  max_line_bytes: number;
  checkpoint: boolean;
  gzip: 'auto' | boolean;
  read_chunk_bytes: number;
  max_backoff: string;
  prefilter?: { ioc_sweep: string };
}

interface FileCheckpoint {
  fileId: number | null;
  length: number;
  /** Bytes (of the decompressed stream, for gzip) fully delivered. */
  offset: number;
  line: number;
  complete: boolean;
}

interface CommitPoint extends FileCheckpoint {
  key: string;
}

interface Found {
  path: string;
  status: FileStatus;
}

const NL = 0x0a;
const CR = 0x0d;

const gunzip = promisify(gunzipCb);

/**
 * Indexed reads: wanted blocks less than this many bytes apart are read in one WebHDFS request
 * (a request costs a NameNode redirect and a DataNode connection; bytes between are cheap).
 */
const INDEX_GAP_BYTES = 1 << 20;

/** The sidecar key index the `hdfs` sink writes beside an archived file (`key_index`). */
const keyIndexPath = (path: string) => {
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.keys`;
};

/** What an indexed file's read needs: the index, and which of its blocks to read. */
interface IndexPlan {
  ix: KeyIndex;
  want: Uint8Array;
}

const checkpointOf = (c: CommitPoint): FileCheckpoint => ({ fileId: c.fileId, length: c.length, offset: c.offset, line: c.line, complete: c.complete });

/** The run was stopped while the source waited for HDFS. */
class Stopped extends Error {}

/** Directories a walk does not enter. */
const SKIP_DIRS = new Set(['_temporary', '_logs']);

export default definePlugin<HdfsSourceConfig>({
  name: 'hdfs',
  kind: 'source',
  summary: 'Read lines from HDFS files, directories and globs over WebHDFS (gzip by magic or suffix), optionally resuming from a checkpoint.',
  description: [
    'Each path is an absolute HDFS path: a file, a directory (every file below it, recursively), or a glob',
    '(`*`, `?`, `[a-z]`, `{a,b}` within a segment, `**` for any depth), e.g. `/data/proxy/dt=2026-12-0{1,2,3}/**`.',
    'Files whose names start with `_` or `.`, or end in `.inprogress`, `.tmp` or `._COPYING_`, are skipped (files',
    'being written, Hadoop markers), as are `.`-directories, `_temporary` and `_logs`, unless a path names the file itself.',
    'Files are read in path order, in ranges of `read_chunk_bytes` (WebHDFS OPEN with offset and length; the',
    'NameNode redirects to a DataNode); each range is checked against the length the listing gave.',
    'Lines, origins, blank lines, LINE_TOO_LONG and GZIP_CORRUPT are handled as by the `file` source; origins',
    'are `{ file: "hdfs://HOST/path", line }`.',
    '',
    'With `checkpoint: true`, how far each file was delivered (every sink made the lines durable) is kept in the',
    "node's state directory, keyed by path and checked against the file's id and length: a rerun skips what was",
    'delivered. A WebHDFS outage is retried with backoff (up to `max_backoff` between attempts) until it ends or',
    'the run is stopped; other errors (permission denied) fail the run. A path that matches nothing is a warning.',
    '',
    'With `prefilter: { ioc_sweep: NODE }` (a retro-hunt over an archive of JSON lines), each line is first asked of the',
    'raw-line pre-filter of that `ioc-sweep` node of the pipeline: with `since_last_run`, a line whose text cannot hold a',
    'value matching one of the indicators being swept (new since the last run) is dropped before any record is built',
    'from it, so the parse and the sweep run only on candidate lines. It keeps every line that could match (hosts, parent',
    'domains, IPv4/IPv6 and CIDRs, URL hosts, read the way the sweep normalises them; lines with JSON escapes or non-ASCII',
    'bytes are always kept). A dropped line still counts for origins and checkpoints (its line number is kept), but is',
    'not parsed, so it cannot be rejected downstream either. Without `since_last_run` on that node, every line is kept.',
    'A file the `hdfs` sink wrote with `key_index: true` has a sidecar `.NAME.keys` listing the host and address tokens of',
    'each block of its lines: the filter is asked those tokens first, and the blocks none of whose tokens can match are',
    'neither fetched nor gunzipped (a file with no such block is skipped whole); the lines of the others go through the',
    'filter as above. A file without a usable sidecar (another writer, another version, a length that does not match) is',
    'read whole. An indexed file is checkpointed only once complete (a run stopped inside it reads it again).',
    'Metrics: `lines_checked`, `lines_skipped` (lines not parsed, read or not), `lines_unread` (skipped by the index),',
    '`files_indexed`, `files_skipped`, `blocks_skipped`, `blocks_read`.',
  ].join('\n'),
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['paths'],
    properties: {
      ...connectionSchemaProperties,
      paths: {
        type: 'array',
        minItems: 1,
        items: { type: 'string', minLength: 1, pattern: '^/' },
        description: 'Absolute HDFS paths: files, directories (read recursively) or glob patterns.',
        examples: [['/data/proxy/dt=2026-12-05/', '/archive/squid/access.log-202612*.gz']],
      },
      ...lineSourceProperties,
      gzip: { enum: ['auto', true, false], default: 'auto', description: "Decompress: 'auto' decides by the .gz suffix or the gzip magic bytes." },
      read_chunk_bytes: { type: 'integer', minimum: 4096, default: 4194304, description: 'Bytes per WebHDFS read.' },
      max_backoff: { type: 'string', default: '30s', description: 'Longest wait between two attempts while WebHDFS is unreachable.' },
      prefilter: {
        type: 'object',
        additionalProperties: false,
        required: ['ioc_sweep'],
        description:
          "Drop, before any record is built, the lines that cannot match the indicators an `ioc-sweep` node with `since_last_run` sweeps (the archive's JSON lines, read as text). Every line that could match is kept.",
        properties: {
          ioc_sweep: { type: 'string', minLength: 1, description: 'The `ioc-sweep` node of this pipeline whose indicators decide.', examples: ['sweep'] },
        },
      },
    },
  },
  ports: ['out', 'invalid'],
  reasons: {
    LINE_TOO_LONG: 'a line longer than `max_line_bytes`; the record keeps its first `max_line_bytes` bytes',
    GZIP_CORRUPT: 'a gzip file is truncated or corrupt; the lines before the damage were delivered',
  },
  configCodes: {
    DURATION: '`max_backoff` is not a duration',
  },
  examples: [
    { title: 'One day of the archive', with: { url: 'http://127.0.0.1:9870', user: 'etl', paths: ['/data/proxy/dt=2026-12-05/'] } },
    { title: 'A week of rotated squid logs, resuming', with: { paths: ['/archive/squid/access.log-2026120[1-7].gz'], checkpoint: true } },
    {
      title: 'Retro-hunt: only the archived lines that may match the new indicators of node `sweep`',
      with: { paths: ['/data/proxy/dt=2026-12-0[1-7]/'], prefilter: { ioc_sweep: 'sweep' } },
    },
  ],
  check(config): ConfigIssue[] {
    try {
      parseDuration(config.max_backoff);
      return [];
    } catch (err) {
      return [{ path: '/max_backoff', message: (err as Error).message, code: 'DURATION' }];
    }
  },
  create(config, ctx): SourceInstance {
    return new HdfsSource(config, ctx);
  },
});

class HdfsSource implements SourceInstance {
  private readonly hdfs: Hdfs;
  private readonly maxBackoffMs: number;
  private readonly checkpoints: Checkpoints<FileCheckpoint>;
  private filterOffer: LineFilterOffer | undefined;
  private lastWhy: string | undefined;
  /** Lines per block: `batch_size`, else the runtime's suggestion (set in `run`). */
  private batchLines = DEFAULT_BATCH_LINES;

  constructor(
    private readonly config: HdfsSourceConfig,
    private readonly ctx: PluginContext,
  ) {
    this.hdfs = new Hdfs(config);
    this.maxBackoffMs = parseDuration(config.max_backoff);
    this.checkpoints = new Checkpoints<FileCheckpoint>(config.checkpoint ? ctx.stateDir() : undefined, ctx.logger);
  }

  /**
   * Run an HDFS call, retrying transient failures with the runtime's backoff (up to `max_backoff`)
   * until it succeeds or the run is stopped.
   */
  private async retrying<T>(what: string, op: () => Promise<T>): Promise<T> {
    if (this.ctx.signal.aborted) throw new Stopped();
    try {
      return await retrying(op, {
        what,
        logger: this.ctx.logger,
        metrics: this.ctx.metrics,
        signal: this.ctx.signal,
        policy: { maxDelayMs: this.maxBackoffMs },
      });
    } catch (err) {
      if (this.ctx.signal.aborted) throw new Stopped();
      throw err;
    }
  }

  async run(emit: (batch: SourceOutputs, onDurable?: () => void) => Promise<void>): Promise<void> {
    const pf = this.config.prefilter;
    if (pf) {
      // Offered by the node's prepare, which ran before any instance was made.
      this.filterOffer = lineFilterOf(this.ctx.stateDir(), pf.ioc_sweep);
      if (!this.filterOffer)
        throw new Error(`hdfs: prefilter: node '${pf.ioc_sweep}' offers no line pre-filter (it must be an ioc-sweep node of this pipeline)`);
    }
    try {
      const files = await this.retrying('listing', () => this.expand());
      files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      if (!files.length) this.ctx.logger.warn({ paths: this.config.paths }, 'no HDFS file matches the paths');
      let total = 0;
      for (const f of files) total += f.status.length;
      this.ctx.metrics.set('bytes_total', total);
      this.ctx.metrics.set('files', files.length);
      // the runtime's suggestion is known now, not at create (API 1.11)
      this.batchLines = batchLinesOf(this.config.batch_size, this.ctx.batchLines);
      this.ctx.metrics.set('batch_lines', this.batchLines);
      for (const f of files) {
        if (this.ctx.signal.aborted) break;
        await this.readFile(f, emit);
      }
    } catch (err) {
      if (err instanceof Stopped) return;
      throw err;
    }
  }

  /** The files the paths name, each once. */
  private async expand(): Promise<Found[]> {
    const found = new Map<string, Found>();
    const add = (path: string, status: FileStatus) => {
      if (!found.has(path)) found.set(path, { path, status });
    };
    const join2 = (dir: string, name: string) => (dir === '/' ? '/' + name : dir + '/' + name);
    const allUnder = async (dir: string): Promise<void> => {
      const entries = (await this.hdfs.list(dir)) ?? [];
      for (const e of entries) {
        const p = join2(dir, e.pathSuffix);
        if (e.type === 'DIRECTORY') {
          if (!e.pathSuffix.startsWith('.') && !SKIP_DIRS.has(e.pathSuffix)) await allUnder(p);
        } else if (e.type === 'FILE' && !isHiddenName(e.pathSuffix)) add(p, e);
      }
    };
    const walk = async (dir: string, segs: string[], i: number): Promise<void> => {
      // Static segments need no listing.
      while (i < segs.length && !isGlobSegment(segs[i]!)) dir = join2(dir, segs[i++]!);
      if (i === segs.length) {
        const st = await this.hdfs.stat(dir);
        if (!st) return;
        if (st.type === 'DIRECTORY') await allUnder(dir);
        else if (st.type === 'FILE') add(dir, st);
        return;
      }
      const seg = segs[i]!;
      const entries = await this.hdfs.list(dir);
      if (!entries) return;
      if (seg === '**') {
        await walk(dir, segs, i + 1);
        for (const e of entries) {
          if (e.type === 'DIRECTORY' && !e.pathSuffix.startsWith('.') && !SKIP_DIRS.has(e.pathSuffix)) await walk(join2(dir, e.pathSuffix), segs, i);
        }
        return;
      }
      const re = segmentRegExp(seg);
      const last = i + 1 === segs.length;
      for (const e of entries) {
        if (!re.test(e.pathSuffix)) continue;
        const p = join2(dir, e.pathSuffix);
        if (e.type === 'DIRECTORY') {
          if (e.pathSuffix.startsWith('.') || SKIP_DIRS.has(e.pathSuffix)) continue;
          if (last) await allUnder(p);
          else await walk(p, segs, i + 1);
        } else if (e.type === 'FILE' && last && !isHiddenName(e.pathSuffix)) add(p, e);
      }
    };
    for (const p of this.config.paths) await walk('/', segmentsOf(p), 0);
    return [...found.values()];
  }

  private async readFile(f: Found, emit: (batch: SourceOutputs, onDurable?: () => void) => Promise<void>): Promise<void> {
    const cfg = this.config;
    const path = f.path;
    const length = f.status.length;
    const fileId = f.status.fileId ?? null;
    const file = this.hdfs.uri(path);
    const key = file;
    const prev = this.checkpoints.files[key];
    let skipBytes = 0;
    let lineNo = 0;
    if (prev && prev.fileId === fileId && prev.length <= length) {
      if (prev.complete && prev.length === length) {
        this.ctx.metrics.add('bytes_read', length);
        return;
      }
      skipBytes = prev.offset;
      lineNo = prev.line;
    }
    let gz: boolean;
    if (cfg.gzip === 'auto') {
      gz = path.endsWith('.gz');
      if (!gz && length >= 2) {
        const head = await this.retrying(`read ${path}`, () => this.hdfs.read(path, 0, 2));
        gz = head.length === 2 && head[0] === 0x1f && head[1] === 0x8b;
      }
    } else gz = cfg.gzip;

    const hdfs = this.hdfs;
    const self = this;
    const chunk = cfg.read_chunk_bytes;
    /** One range of the file, read (with retries) from `off`. */
    const readRange = (off: number): Promise<Buffer> => {
      const want = Math.min(chunk, length - off);
      return self.retrying(`read ${path}`, async () => {
        const b = await hdfs.read(path, off, want);
        if (b.length !== want) throw new HdfsError(`WebHDFS read ${path} @${off}: ${b.length} bytes returned, ${want} expected`, true);
        return b;
      });
    };
    /**
     * The file's ranges from `start`, in order, each read while the one before is consumed (one
     * range ahead): the WebHDFS round trip overlaps the gunzip and the line work instead of waiting
     * for it. A read left pending when the consumer stops is not awaited (its failure is ignored).
     */
    async function* ranges(start: number): AsyncGenerator<Buffer> {
      let off = start;
      let ahead: Promise<Buffer> | null = off < length ? readRange(off) : null;
      while (ahead !== null) {
        const buf = await ahead;
        off += buf.length;
        ahead = off < length ? readRange(off) : null;
        ahead?.catch(() => undefined);
        self.ctx.metrics.add('bytes_read', buf.length);
        yield buf;
      }
    }

    const max = cfg.max_line_bytes;
    let offset = gz ? 0 : skipBytes; // stream offset of the next byte not yet seen
    let toSkip = gz ? skipBytes : 0;
    let carry: Buffer | null = null; // a line without its end yet (at most max + 1 bytes kept)
    let carryLen = 0; // its true length
    let invalid: Rec[] = [];
    let blank = 0;
    const tooLong = (line: number, kept: Buffer, len: number) => {
      invalid.push(
        makeInvalid(
          this.ctx.node,
          { file, line },
          'LINE_TOO_LONG',
          `line is ${len} bytes, longer than max_line_bytes (${max}); the first ${max} bytes are kept`,
          kept.subarray(0, max).toString('utf8'),
        ),
      );
    };
    const send = async (block: LineBlock | null, commit: CommitPoint | null) => {
      if (blank) {
        this.ctx.metrics.add('blank_lines', blank);
        blank = 0;
      }
      if (!block && !invalid.length && !commit) return;
      const batch: SourceOutputs = {};
      if (block?.bytes.length) batch.out = block;
      if (invalid.length) batch.invalid = invalid;
      invalid = [];
      const seq = this.checkpoints.nextBatch();
      await emit(batch, () => this.checkpoints.durable(seq, commit && { key: commit.key, point: checkpointOf(commit) }));
    };
    const point = (off: number, line: number, complete: boolean): CommitPoint | null =>
      cfg.checkpoint ? { key, fileId, length, offset: off, line, complete } : null;

    // one set of callbacks per file, not per chunk: call targets of cutLines' optimised loop (`CutLines`)
    const cut: CutLines = {
      file,
      batchSize: this.batchLines,
      maxLineBytes: max,
      line: lineNo,
      emit: async (block, end, line) => {
        lineNo = line;
        const filter = block && this.filterNow();
        await send(filter ? filterBlock(filter, block, this.ctx.metrics) : block, point(end, line, false));
        return !this.ctx.signal.aborted;
      },
      tooLong: (line, kept, len) => {
        lineNo = line;
        tooLong(line, kept, len);
      },
      blank: () => {
        blank++;
      },
    };
    /** Whole lines in `data` (starting at stream offset `start`, ending with '\n'): blocks and rejects. */
    const lines = async (data: Buffer, start: number): Promise<boolean> => {
      cut.line = lineNo;
      const last = await cutLines(data, start + data.length, cut);
      if (last < 0) return false;
      lineNo = last;
      return !this.ctx.signal.aborted;
    };

    const plan = gz && skipBytes === 0 && lineNo === 0 ? await this.indexPlan(f) : null;
    if (plan) {
      await this.readIndexed(f, plan, { file, send, tooLong, point });
      return;
    }
    let source: AsyncIterable<Buffer>;
    let raw: Readable | undefined;
    if (gz) {
      raw = Readable.from(ranges(0), { objectMode: false });
      const gunzip = createGunzip({ chunkSize: 256 * 1024 });
      raw.on('error', (e) => gunzip.destroy(e));
      raw.pipe(gunzip);
      gunzip.on('close', () => raw!.destroy()); // stopped early or corrupt: stop reading HDFS too
      source = gunzip;
    } else {
      if (skipBytes) this.ctx.metrics.add('bytes_read', skipBytes);
      source = ranges(skipBytes);
    }

    let corrupt: Error | undefined;
    let stopped = false;
    try {
      for await (const c0 of source) {
        if (this.ctx.signal.aborted) {
          stopped = true;
          break;
        }
        let c = c0;
        if (toSkip > 0) {
          const n = Math.min(toSkip, c.length);
          toSkip -= n;
          offset += n;
          c = c.subarray(n);
          if (!c.length) continue;
        }
        const chunkStart = offset;
        offset += c.length;
        let data: Buffer;
        let dataStart: number;
        if (carry) {
          if (carryLen > max) {
            // The line being gathered is already too long: find its end, reject it.
            const nl = c.indexOf(NL);
            if (nl === -1) {
              carryLen += c.length;
              continue;
            }
            lineNo++;
            tooLong(lineNo, carry, carryLen + nl);
            carry = null;
            carryLen = 0;
            data = c.subarray(nl + 1);
            dataStart = chunkStart + nl + 1;
            if (!data.length) {
              await send(null, point(offset, lineNo, false));
              continue;
            }
          } else {
            data = Buffer.concat([carry, c]);
            dataStart = chunkStart - carry.length;
            carry = null;
            carryLen = 0;
          }
        } else {
          data = c;
          dataStart = chunkStart;
        }
        const lastNl = data.lastIndexOf(NL);
        if (lastNl === -1) {
          carryLen = data.length;
          carry = Buffer.from(data.subarray(0, Math.min(data.length, max + 1)));
          continue;
        }
        if (!(await lines(data.subarray(0, lastNl + 1), dataStart))) {
          stopped = true;
          break;
        }
        const rest = data.subarray(lastNl + 1);
        if (rest.length) {
          carryLen = rest.length;
          carry = Buffer.from(rest.subarray(0, Math.min(rest.length, max + 1)));
        }
      }
    } catch (err) {
      if (err instanceof Stopped) stopped = true;
      else if (err instanceof HdfsError || !gz) throw err;
      else corrupt = err as Error;
    }
    if (stopped || this.ctx.signal.aborted) {
      await send(null, null);
      return;
    }
    if (carry) {
      if (carryLen > max) {
        lineNo++;
        tooLong(lineNo, carry, carryLen);
      } else {
        const c = carry;
        carry = null;
        await lines(c, offset - carryLen);
      }
    }
    if (corrupt) {
      this.ctx.metrics.add('corrupt_files', 1);
      invalid.push(
        makeInvalid(
          this.ctx.node,
          { file, line: lineNo + 1 },
          'GZIP_CORRUPT',
          `gzip stream is truncated or corrupt after ${offset} bytes (${lineNo} lines): ${corrupt.message}`,
          '',
        ),
      );
    }
    await send(null, point(offset, lineNo, true));
  }

  /**
   * With a pre-filter that can answer keys, the file's sidecar key index and the blocks it says to
   * read; null when there is no filter now, or no usable index (the file is then read whole).
   */
  private async indexPlan(f: Found): Promise<IndexPlan | null> {
    if (!this.filterOffer) return null;
    const filter = this.filterNow();
    if (!filter?.keyIndexUsable || !filter.mayMatchKey) return null;
    const side = keyIndexPath(f.path);
    const st = await this.retrying(`stat ${side}`, () => this.hdfs.stat(side));
    if (st?.type !== 'FILE') return null;
    const raw = await this.retrying(`read ${side}`, () => this.hdfs.read(side, 0, st.length));
    try {
      if (raw.length !== st.length) throw new KeyIndexError(`${raw.length} bytes read, ${st.length} listed`);
      const text = (raw[0] === 0x1f && raw[1] === 0x8b ? await gunzip(raw) : raw).toString('latin1');
      const ix = parseKeyIndex(text);
      if (ix.dataLength !== f.status.length) throw new KeyIndexError(`it describes ${ix.dataLength} bytes, the file has ${f.status.length}`);
      const want = blocksToRead(ix, (k) => filter.mayMatchKey!(k));
      this.ctx.metrics.add('files_indexed', 1);
      return { ix, want };
    } catch (err) {
      this.ctx.metrics.add('key_index_unusable', 1);
      this.ctx.logger.warn({ file: f.path, index: side, err: (err as Error).message }, 'key index not usable: the file is read whole');
      return null;
    }
  }

  /**
   * Read the blocks of an indexed file that the plan wants (in few WebHDFS requests, each member
   * gunzipped in the thread pool), their lines through the pre-filter; the other blocks count as
   * skipped lines. A member that does not gunzip to the lines the index announces fails the run: the
   * sidecar does not describe the file, and reading on could miss lines.
   */
  private async readIndexed(
    f: Found,
    plan: IndexPlan,
    io: {
      file: string;
      send: (block: LineBlock | null, commit: CommitPoint | null) => Promise<void>;
      tooLong: (line: number, kept: Buffer, len: number) => void;
      point: (off: number, line: number, complete: boolean) => CommitPoint | null;
    },
  ): Promise<void> {
    const { ix, want } = plan;
    const m = this.ctx.metrics;
    const blocks = ix.blocks;
    let skippedLines = 0;
    let skippedBlocks = 0;
    // Ranges of wanted blocks, merged across small gaps, at most read_chunk_bytes (or one block) each.
    const ranges: { from: number; to: number; blocks: number[] }[] = [];
    for (let b = 0; b < blocks.length; b++) {
      const blk = blocks[b]!;
      if (!want[b]) {
        skippedLines += blk.lines;
        skippedBlocks++;
        continue;
      }
      const last = ranges[ranges.length - 1];
      const end = blk.offset + blk.bytes;
      if (last && blk.offset - last.to <= INDEX_GAP_BYTES && end - last.from <= this.config.read_chunk_bytes) {
        last.to = end;
        last.blocks.push(b);
      } else ranges.push({ from: blk.offset, to: end, blocks: [b] });
    }
    if (skippedBlocks) m.add('blocks_skipped', skippedBlocks);
    if (skippedLines) {
      m.add('lines_skipped', skippedLines);
      m.add('lines_unread', skippedLines);
    }
    if (!ranges.length) {
      m.add('files_skipped', 1);
      await io.send(null, io.point(0, ix.lines, true));
      return;
    }
    const path = f.path;
    const read = (r: (typeof ranges)[number]) => {
      const p = this.retrying(`read ${path}`, async () => {
        const buf = await this.hdfs.read(path, r.from, r.to - r.from);
        if (buf.length !== r.to - r.from) throw new HdfsError(`WebHDFS read ${path} @${r.from}: ${buf.length} bytes returned, ${r.to - r.from} expected`, true);
        return buf;
      });
      p.catch(() => undefined);
      return p;
    };
    const cfg = this.config;
    // one set of callbacks for the file's blocks: call targets of cutLines' optimised loop (`CutLines`)
    const cut: CutLines = {
      file: io.file,
      batchSize: this.batchLines,
      maxLineBytes: cfg.max_line_bytes,
      line: 0,
      emit: async (block) => {
        const filter = block && this.filterNow();
        await io.send(filter ? filterBlock(filter, block, m) : block, null);
        return !this.ctx.signal.aborted;
      },
      tooLong: (line, kept, len) => io.tooLong(line, kept, len),
      blank: () => m.add('blank_lines', 1),
    };
    let ahead: Promise<Buffer> | null = read(ranges[0]!);
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i]!;
      const buf = await ahead!;
      ahead = i + 1 < ranges.length ? read(ranges[i + 1]!) : null;
      m.add('bytes_read', buf.length);
      m.add('blocks_read', r.blocks.length);
      // Every member of the range gunzips in the thread pool while the ones before are cut and sent.
      const texts = r.blocks.map((b) => {
        const blk = blocks[b]!;
        const p = gunzip(buf.subarray(blk.offset - r.from, blk.offset - r.from + blk.bytes));
        p.catch(() => undefined);
        return p;
      });
      for (let k = 0; k < r.blocks.length; k++) {
        if (this.ctx.signal.aborted) {
          await io.send(null, null);
          return;
        }
        const blk = blocks[r.blocks[k]!]!;
        let data: Buffer;
        try {
          data = await texts[k]!;
        } catch (err) {
          throw new Error(`hdfs: ${path}: block ${r.blocks[k]} of its key index (${keyIndexPath(path)}) is no gzip member: ${(err as Error).message}`);
        }
        if (data.length === 0 || data[data.length - 1] !== NL)
          throw new Error(`hdfs: ${path}: block ${r.blocks[k]} of its key index does not end a line; delete ${keyIndexPath(path)} to read the file whole`);
        cut.line = blk.firstLine - 1;
        const last = await cutLines(data, data.length, cut);
        if (last < 0) {
          await io.send(null, null);
          return;
        }
        if (last !== blk.firstLine - 1 + blk.lines)
          throw new Error(
            `hdfs: ${path}: block ${r.blocks[k]} holds ${last - blk.firstLine + 1} lines, its key index says ${blk.lines}; delete ${keyIndexPath(path)} to read the file whole`,
          );
      }
    }
    await io.send(null, io.point(0, ix.lines, true));
  }

  /** The pre-filter to apply to the next block (it changes when the sweep reloads a feed), or null. */
  private filterNow(): LineFilter | null {
    if (!this.filterOffer) return null;
    const { filter, why } = this.filterOffer.current();
    if (why !== this.lastWhy) {
      this.lastWhy = why;
      this.ctx.logger.info({ ioc_sweep: this.config.prefilter!.ioc_sweep, filtering: filter !== null, why }, 'line pre-filter');
    }
    return filter;
  }

  async close(): Promise<void> {
    this.checkpoints.save();
  }
}

/**
 * `block` with every line the filter rejects replaced by an empty line: the block keeps its line
 * numbering (origins, checkpoints), and an empty line gives no record. Null when no line is left.
 * The lines are read where `block.ends` says they end, and the new block says where its own lines end.
 */
function filterBlock(filter: LineFilter, block: LineBlock, metrics: PluginContext['metrics']): LineBlock | null {
  const data = Buffer.from(block.bytes.buffer, block.bytes.byteOffset, block.bytes.byteLength);
  const to = data.length;
  const out = new Uint8Array(to);
  const ends = block.ends;
  const outEnds = ends === undefined ? undefined : new Int32Array(ends.length);
  let k = 0;
  let w = 0;
  let kept = 0;
  let checked = 0;
  let pos = 0;
  while (pos < to) {
    let nl = ends !== undefined ? (k < ends.length ? ends[k]! : to) : data.indexOf(NL, pos);
    if (nl === -1) nl = to;
    let end = nl;
    if (end > pos && data[end - 1] === CR) end--;
    if (end > pos) {
      checked++;
      if (filter.mayMatch(data, pos, end)) {
        out.set(data.subarray(pos, end), w);
        w += end - pos;
        kept++;
      }
    }
    if (outEnds !== undefined) outEnds[k++] = w;
    if (nl < to) out[w++] = NL;
    pos = nl + 1;
  }
  metrics.add('lines_checked', checked);
  if (checked > kept) metrics.add('lines_skipped', checked - kept);
  if (kept === 0) return null;
  const bytes = out.subarray(0, w);
  return outEnds === undefined
    ? { kind: 'lines', file: block.file, firstLine: block.firstLine, bytes, records: kept }
    : { kind: 'lines', file: block.file, firstLine: block.firstLine, bytes, records: kept, ends: outEnds };
}
