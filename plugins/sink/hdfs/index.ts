/**
 * `hdfs` sink: records into HDFS over WebHDFS, in directories from a path template (event-time
 * partitions, record fields), as JSON lines or CSV, optionally gzip. Each file is uploaded under a
 * hidden temporary name and renamed when complete; `flush` (after which the runtime acknowledges
 * the batches) returns only once every file holding them was renamed. File names carry the source
 * stream and the first and last position of the records inside, so that a replay after a crash
 * skips what is already archived instead of adding it again (see the description).
 */
import { randomBytes } from 'node:crypto';
import { gzip as gzipCb } from 'node:zlib';
import { promisify } from 'node:util';
import { definePlugin, parseDuration, type ConfigIssue, type EncodedBatch, type PluginContext, type Rec, type SinkInstance } from '../../../src/api.js';
import { Hdfs, HdfsError, RecordKeys, connectionSchemaProperties, formatKeyIndex, type HdfsConnectionConfig, type KeyBlock } from '../../../src/internal.js';
import { compileTemplate, TemplateError, fileName, parseFileName, tempName, ArchivedRanges, csvField } from './paths.js';
import { HdfsEncoder, type HdfsLines } from './encode.js';

const gzip = promisify(gzipCb);

interface HdfsSinkConfig extends HdfsConnectionConfig {
  path: string;
  time_field: string;
  missing_value: string;
  format: 'json' | 'csv';
  csv: { columns: string[]; header: boolean; delimiter: string };
  gzip: boolean;
  file_prefix: string;
  roll_records: number;
  roll_bytes: number;
  roll_interval: string;
  max_buffer_bytes: number;
  idempotent: boolean;
  origin_field: string;
  stream_fields: string[];
  upload_concurrency: number;
  key_index: boolean;
  key_block_lines: number;
}

/** The sidecar key index of an archived file `NAME` (hidden, like Hadoop's `.NAME.crc`). */
export const keyIndexName = (name: string) => `.${name}.keys`;

export default definePlugin<HdfsSinkConfig>({
  name: 'hdfs',
  kind: 'sink',
  summary:
    'Write records into HDFS (WebHDFS) under event-time partitions, JSON lines or CSV, gzip; temporary names renamed when complete; replays skip what is archived.',
  description: [
    "`path` is a directory template: `%Y %y %m %d %H %M %S %j %s` from the record's event time (`time_field`, UTC;",
    'an ISO-8601 string or epoch milliseconds), `%{field.path}` from a record field, `%%` for a percent sign, e.g.',
    "`/data/proxy/dt=%Y-%m-%d/hour=%H/` or Flume's `/flume/%Y%m%d`. The leading directories without placeholders are",
    'the base directory. A record value is sanitised before it becomes part of a path: characters outside',
    '`[A-Za-z0-9._-]` and leading dots become `_`, and a changed value gets `~` and 8 hex digits of its hash, so',
    '`../../etc` lands in a directory named `___.._etc~…` inside the base. A missing field or time gives',
    '`missing_value` (for a time, the whole segment: `dt=__HIVE_DEFAULT_PARTITION__`).',
    '',
    'Files: records of one source stream (a file, a Kafka partition) for one directory go to one file per flush',
    'interval (`settings.flush_interval`; set it to tens of seconds or minutes for an archive: every flush closes',
    'its files), rolled earlier by `roll_records`, `roll_bytes` (serialised, before gzip) or `roll_interval`.',
    'A file is uploaded as `_tmp.NAME` (hidden: Hadoop tools and the `hdfs` source skip `_` and `.` names) and',
    'renamed to `NAME` when its length was checked; the rename replaces a file of the same name atomically.',
    '',
    "Names are `PREFIX-STREAM-FIRST-LAST.jsonl[.gz]`: STREAM is `topic.partition` or the source file's name and",
    'a hash of its path; FIRST and LAST are the offsets or line numbers of the first and last record inside.',
    'With `idempotent: true` the sink lists a directory the first time it writes to it in a run, and drops a',
    'record whose stream position lies in the range of a file already there (`replay_skipped`): a source that',
    'replays batches after a crash (its checkpoint lags what the sinks made durable) does not duplicate them,',
    'whatever its batch boundaries are this time. This needs (1) each stream to reach the sink in origin order —',
    "one path from the source; when two paths carry one stream (a source's `invalid` and a parser's `invalid`",
    'into one rejects sink), split it by a field that tells them apart (`stream_fields: [error.node]`); a record',
    'that arrives out of order fails the run with ORIGIN_ORDER (nothing is lost: its batch is not acknowledged);',
    'and (2) a position to name one record for ever: true of Kafka offsets and of files that are never rewritten',
    'with other content under the same path. For logs rotated in place (a new `access.log` starting again at line 1)',
    'set `idempotent: false`: files are then named by run and sequence, and a replay may duplicate. Records without',
    'an origin are written under such names too. Leftover `_tmp.PREFIX-*` files of a crashed run are deleted when',
    'the directory is first listed.',
    '',
    'A WebHDFS outage (connection refused, timeouts, safe mode, a standby NameNode) is a transient error: the',
    'runtime retries with backoff and the source waits; the files of an interrupted flush are uploaded again',
    'under the same names. Records are held in memory until their file is uploaded (`max_buffer_bytes`).',
    '',
    'With `key_index: true` (an archive a retro-hunt reads back with the `hdfs` source and `prefilter`) each file is',
    'written as gzip members of at most `key_block_lines` lines, and beside it goes a hidden sidecar `.NAME.keys`',
    '(gzip text): per member its compressed size and line count, and the distinct host, address and URL-host tokens',
    'of its lines (src/line-keys.ts) with the members holding each. A reader whose pre-filter says no to every token',
    "of a member skips it unread. The sidecar's old version is deleted before the file is renamed into place and the",
    'new one renamed in after it, so a sidecar never describes other bytes than those of its file (a file without one',
    'is read whole). Costs the archive a pass over every line it writes (see docs/feeds.md, key indexes).',
  ].join('\n'),
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      ...connectionSchemaProperties,
      path: {
        type: 'string',
        minLength: 2,
        pattern: '^/',
        description: 'Directory template (absolute HDFS path) with time escapes (%Y %m %d %H ...) and record fields (%{field.path}).',
        examples: ['/data/proxy/dt=%Y-%m-%d/hour=%H/', '/flume/proxy/%Y%m%d'],
      },
      time_field: {
        type: 'string',
        minLength: 1,
        default: '@timestamp',
        description: 'Record field holding the event time (ISO-8601 string or epoch milliseconds), read as UTC.',
      },
      missing_value: {
        type: 'string',
        minLength: 1,
        pattern: '^[A-Za-z0-9_.-]+$',
        default: '__HIVE_DEFAULT_PARTITION__',
        description: "Path value used when a field or the time is missing (Hive's default partition name).",
      },
      format: { enum: ['json', 'csv'], default: 'json', description: 'JSON lines, or CSV with the `csv.columns` fields.' },
      csv: {
        type: 'object',
        additionalProperties: false,
        description: 'CSV output: columns (record field paths), header row, delimiter.',
        default: { columns: [], header: true, delimiter: ',' },
        properties: {
          columns: {
            type: 'array',
            items: { type: 'string', minLength: 1 },
            default: [],
            description: 'Field paths, one per column (objects are written as JSON text).',
          },
          header: { type: 'boolean', default: true, description: 'Start each file with a header row of the column paths.' },
          delimiter: { type: 'string', minLength: 1, maxLength: 1, default: ',', description: 'Field delimiter.' },
        },
      },
      gzip: { type: 'boolean', default: true, description: 'Compress each file (gzip; the name ends in .gz).' },
      file_prefix: {
        type: 'string',
        pattern: '^[A-Za-z0-9][A-Za-z0-9._]*$',
        default: 'part',
        description: 'First part of every file name (letters, digits, dot, underscore; no dash).',
      },
      roll_records: { type: 'integer', minimum: 1, default: 1000000, description: 'Close a file after this many records (at a change of origin position).' },
      roll_bytes: {
        type: 'integer',
        minimum: 1024,
        default: 134217728,
        description: 'Close a file once its serialised records (before gzip) reach this many bytes.',
      },
      roll_interval: {
        type: 'string',
        default: '10m',
        description: 'Close a file this long after its first record at the latest (a flush closes every file anyway).',
      },
      max_buffer_bytes: {
        type: 'integer',
        minimum: 65536,
        default: 268435456,
        description: 'Upload closed files before accepting more records once this many bytes are held in memory.',
      },
      idempotent: {
        type: 'boolean',
        default: true,
        description:
          'Name files by stream and position range and skip records already archived in a directory (see the description); false names files by run and sequence.',
      },
      origin_field: {
        type: 'string',
        minLength: 1,
        default: 'origin',
        description: 'Record field holding the origin ({file, line} or {topic, partition, offset}).',
      },
      stream_fields: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        default: [],
        description: 'Fields whose values split a stream further (e.g. error.node when two paths carry records of one source).',
        examples: [['error.node']],
      },
      upload_concurrency: {
        type: 'integer',
        minimum: 1,
        maximum: 32,
        default: 4,
        description: 'Files uploaded at the same time (files of one stream and directory go in order).',
      },
      key_index: {
        type: 'boolean',
        default: false,
        description:
          'Write beside each file a sidecar key index (`.NAME.keys`: the host/address tokens of each block of lines) so that a retro-sweep can skip blocks unread; needs gzip.',
      },
      key_block_lines: {
        type: 'integer',
        minimum: 1,
        maximum: 1000000,
        default: 64,
        description: 'With `key_index`: lines per indexed block (one gzip member each); smaller blocks skip more and compress a little worse.',
      },
    },
  },
  examples: [
    { title: 'Daily and hourly partitions, gzip JSON lines', with: { url: 'http://127.0.0.1:9870', user: 'etl', path: '/data/proxy/dt=%Y-%m-%d/hour=%H/' } },
    {
      title: 'Flume-style day directories, CSV',
      with: {
        path: '/flume/proxy/%Y%m%d',
        format: 'csv',
        gzip: false,
        csv: { columns: ['@timestamp', 'source.ip', 'url.original', 'http.response.status_code'] },
      },
    },
    { title: 'Rejects, split by the node that refused them', with: { path: '/data/proxy-rejects/dt=%Y-%m-%d/', stream_fields: ['error.node'] } },
  ],
  configCodes: {
    PATH_TEMPLATE:
      '`path` is not a usable template: relative, an unknown `%` escape, a `%{field}` that is not a field path, `.`/`..` segments or characters outside the safe set',
    DURATION: '`roll_interval` is not a duration',
    CSV_COLUMNS: '`format: csv` without `csv.columns`',
    KEY_INDEX: '`key_index: true` without `gzip: true` (blocks are gzip members)',
  },
  check(config): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    try {
      compileTemplate(config.path);
    } catch (err) {
      issues.push({ path: '/path', message: (err as Error).message, code: 'PATH_TEMPLATE' });
    }
    try {
      parseDuration(config.roll_interval);
    } catch (err) {
      issues.push({ path: '/roll_interval', message: (err as Error).message, code: 'DURATION' });
    }
    if (config.format === 'csv' && !(config.csv?.columns?.length > 0)) {
      issues.push({ path: '/csv/columns', message: 'format csv needs at least one column', code: 'CSV_COLUMNS' });
    }
    if (config.key_index && !config.gzip) issues.push({ path: '/key_index', message: 'key_index needs gzip: true', code: 'KEY_INDEX' });
    return issues;
  },
  // Lines, directories, streams and index keys are made where the records are (API 1.4): in the
  // worker threads when they come from a parallel chain.
  encoder: (config) => new HdfsEncoder(config),
  async create(config, ctx): Promise<SinkInstance> {
    return new HdfsSink(config, ctx);
  },
});

/** Records of one stream (or none) for one directory, being gathered into one file. */
interface Bucket {
  key: string;
  dir: string;
  label: string | undefined;
  /** The file's bytes so far, one part per write call (gzip members when gzip), off the JS heap. */
  parts: Array<Promise<Buffer>>;
  /** With `key_index`: one entry per part (lines, and keys or null when the block is always read). */
  blocks: IndexBlock[] | undefined;
  /** With `key_index`: the block being gathered (its text is `text`): lines, keys, always read. */
  blkLines: number;
  blkKeys: KeyBlock;
  blkBad: boolean;
  /**
   * The lines of the current write call (or block), not yet made a part: earlier pieces in
   * `chunks`, the last as a range of an encoded batch's bytes that grows while lines follow on.
   */
  chunks: Uint8Array[];
  runData: Uint8Array | undefined;
  runStart: number;
  runEnd: number;
  records: number;
  /** Serialised bytes (before gzip). */
  bytes: number;
  first: number;
  last: number;
  opened: number;
}

/** Add bytes `[start, end)` of `data` to the bucket's current text. */
function appendBytes(b: Bucket, data: Uint8Array, start: number, end: number): void {
  if (b.runData === data && b.runEnd === start) {
    b.runEnd = end;
    return;
  }
  if (b.runData !== undefined) b.chunks.push(b.runData.subarray(b.runStart, b.runEnd));
  b.runData = data;
  b.runStart = start;
  b.runEnd = end;
}

/** The bucket's current text as one piece of bytes (cleared), or undefined when it has none. */
function takeBytes(b: Bucket): Uint8Array | undefined {
  if (b.runData !== undefined) {
    b.chunks.push(b.runData.subarray(b.runStart, b.runEnd));
    b.runData = undefined;
  }
  const c = b.chunks;
  if (c.length === 0) return undefined;
  b.chunks = [];
  return c.length === 1 ? c[0]! : Buffer.concat(c);
}

/** A block of an indexed file: its lines and their keys (null: read it whatever the keys). */
interface IndexBlock {
  lines: number;
  /** Key ids (of the sink's RecordKeys), or null when the block is always read. */
  keys: number[] | null;
}

/** A file closed for writing, waiting for its upload. */
interface PendingFile {
  key: string;
  dir: string;
  name: string;
  parts: Array<Promise<Buffer>>;
  blocks: IndexBlock[] | undefined;
  records: number;
  bytes: number;
}

/** A record arrived before one with a greater position in its stream: ranges would lie. */
class OriginOrderError extends Error {
  readonly code = 'ORIGIN_ORDER';
  readonly transient = false;
}

class HdfsSink implements SinkInstance {
  readonly target: string;
  private readonly hdfs: Hdfs;
  private readonly ext: string;
  private readonly rollIntervalMs: number;
  private readonly runId = `${new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}.${randomBytes(3).toString('hex')}`;
  private seq = 0;
  private readonly buckets = new Map<string, Bucket>();
  private pending: PendingFile[] = [];
  private pendingBytes = 0;
  private openBytes = 0;
  /** Last position seen per stream and directory in this run (order check). */
  private readonly lastPos = new Map<string, number>();
  /**
   * Directories created and listed in this run, with the ranges archived there before it. A promise,
   * so that concurrent callers share one listing (a second listing could see, and delete as stale,
   * the temporary file of an upload in progress).
   */
  private readonly dirs = new Map<string, Promise<ArchivedRanges>>();
  /** Temporary files this run may have left (deleted at close if still there). */
  private readonly temps = new Set<string>();
  private readonly header: string;
  private readonly headerBytes: Uint8Array;
  /** `key_index`: the keys of the files open or waiting, by id. */
  private readonly recordKeys = new RecordKeys();
  /** For `write` (a direct call): the runtime encodes with an encoder of its own. */
  private readonly encoder: HdfsEncoder;

  constructor(
    private readonly config: HdfsSinkConfig,
    private readonly ctx: PluginContext,
  ) {
    this.hdfs = new Hdfs(config);
    let tpl: ReturnType<typeof compileTemplate>;
    try {
      tpl = compileTemplate(config.path);
    } catch (err) {
      if (err instanceof TemplateError) throw new Error(`hdfs sink: ${err.message}`);
      throw err;
    }
    this.ext = (config.format === 'csv' ? '.csv' : '.jsonl') + (config.gzip ? '.gz' : '');
    this.rollIntervalMs = parseDuration(config.roll_interval);
    this.target = this.hdfs.uri(tpl.base === '/' ? '/' : tpl.base + '/');
    this.header =
      config.format === 'csv' && config.csv.header ? config.csv.columns.map((c) => csvField(c, config.csv.delimiter)).join(config.csv.delimiter) + '\n' : '';
    this.headerBytes = Buffer.from(this.header);
    this.encoder = new HdfsEncoder(config);
  }

  /** Take a batch: encoded here (a direct call), as the runtime does for batches from this thread. */
  write(records: Rec[]): Promise<void> {
    return this.writeEncoded(this.encoder.encode(records));
  }

  /**
   * Take an encoded batch (encode.ts). Everything that can fail — the order check, creating and
   * listing a directory met for the first time (transient when HDFS is down), making room — happens
   * before any record is taken, so that the runtime's retry of a failed call cannot take a record
   * twice. Records already archived in their directory by an earlier run are dropped here.
   */
  async writeEncoded(batch: EncodedBatch): Promise<void> {
    const cfg = this.config;
    const enc = batch.value as HdfsLines;
    const n = batch.count;
    const { dirs, dirOf, labels, labelOf, pos: positions } = enc;
    const seen = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const l = labelOf[i]!;
      if (l < 0) continue;
      const dir = dirs[dirOf[i]!]!;
      const label = labels[l]!;
      const p = positions[i]!;
      const k = dir + '\0' + label;
      const prev = seen.get(k) ?? this.lastPos.get(k);
      if (prev !== undefined && p < prev) {
        throw new OriginOrderError(
          `hdfs sink: a record from ${label} position ${p} arrived after position ${prev} of the same stream (directory ${dir}); ` +
            'file ranges would not hold every record they name. Two paths carry this stream into the sink: give each its own sink, ' +
            'split the stream with `stream_fields` (e.g. [error.node]), or set `idempotent: false`.',
        );
      }
      seen.set(k, p);
    }
    const ranges: ArchivedRanges[] = new Array(dirs.length);
    for (let d = 0; d < dirs.length; d++) ranges[d] = await this.prepareDir(dirs[d]!);
    if (this.pendingBytes + this.openBytes >= cfg.max_buffer_bytes) {
      for (const b of [...this.buckets.values()]) this.closeBucket(b);
      await this.uploadPending();
    }
    // Nothing below throws: the batch is taken.
    for (const [k, v] of seen) this.lastPos.set(k, v);
    if (enc.missingTime) this.ctx.metrics.add('missing_time', enc.missingTime);
    // key_index: the batch's keys as ids of the sink's table (each distinct key looked up once)
    const keyIds = enc.keys ? this.keyIdsOf(enc.keys, enc.keyHashes!) : undefined;

    const now = Date.now();
    const touched = new Set<Bucket>();
    let skipped = 0;
    const { data, ends, chars } = enc;
    for (let i = 0; i < n; i++) {
      const l = labelOf[i]!;
      const label = l < 0 ? undefined : labels[l]!;
      const pos = positions[i]!;
      const d = dirOf[i]!;
      if (label !== undefined && ranges[d]!.has(label, pos)) {
        skipped++;
        continue;
      }
      const dir = dirs[d]!;
      const key = dir + '\0' + (label ?? '');
      let b = this.buckets.get(key);
      // Roll by records, never between two records of one origin position (ranges stay exact).
      if (b && b.records >= cfg.roll_records && (label === undefined || b.last !== pos)) {
        this.closeBucket(b);
        b = undefined;
      }
      if (!b) {
        b = {
          key,
          dir,
          label,
          parts: [],
          blocks: cfg.key_index ? [] : undefined,
          blkLines: this.header ? 1 : 0,
          blkKeys: this.recordKeys.newBlock(),
          blkBad: false,
          chunks: this.header ? [this.headerBytes] : [],
          runData: undefined,
          runStart: 0,
          runEnd: 0,
          records: 0,
          bytes: 0,
          first: pos,
          last: pos,
          opened: now,
        };
        this.buckets.set(key, b);
        if (b.blocks && this.header && !this.recordKeys.addLine(this.header, b.blkKeys)) b.blkBad = true;
      }
      touched.add(b);
      const start = i === 0 ? 0 : ends[i - 1]!;
      appendBytes(b, data, start, ends[i]!);
      if (b.blocks) this.indexLine(b, enc, i, keyIds!);
      b.records++;
      b.last = pos;
      const len = chars[i]!;
      b.bytes += len;
      this.openBytes += len;
      if (b.bytes >= cfg.roll_bytes && (label === undefined || i + 1 >= n || positions[i + 1] !== pos || labelOf[i + 1] !== l)) this.closeBucket(b);
    }
    for (const b of touched) this.seal(b);
    if (skipped) {
      this.ctx.metrics.add('replay_skipped', skipped);
      this.ctx.logger.debug({ skipped }, 'records already archived by an earlier run skipped');
    }
    for (const b of [...this.buckets.values()]) if (now - b.opened >= this.rollIntervalMs) this.closeBucket(b);
  }

  /** The sink's key ids of a batch's keys. */
  private keyIdsOf(keys: string[], hashes: Uint32Array): Int32Array {
    const ids = new Int32Array(keys.length);
    for (let k = 0; k < keys.length; k++) ids[k] = this.recordKeys.internHashed(keys[k]!, hashes[k]!);
    return ids;
  }

  /** Turn the text gathered by a write call into a part (compressed in the thread pool). */
  private seal(b: Bucket): void {
    const bytes = takeBytes(b);
    if (bytes === undefined) return;
    if (b.blocks) {
      b.blocks.push({ lines: b.blkLines, keys: b.blkBad ? null : b.blkKeys.ids });
      b.blkLines = 0;
      b.blkKeys = this.recordKeys.newBlock();
      b.blkBad = false;
    }
    this.pushPart(b, bytes);
  }

  /**
   * `key_index`: a record's line joined the bucket's block: its keys (from the record for JSON lines,
   * else from the text); a block of key_block_lines lines becomes a gzip member of its own.
   */
  private indexLine(b: Bucket, enc: HdfsLines, i: number, keyIds: Int32Array): void {
    b.blkLines += enc.lines ? enc.lines[i]! : 1; // CSV: a quoted field may hold line ends
    if (!b.blkBad) {
      if (enc.unkeyed![i]) b.blkBad = true;
      else {
        const ids = enc.keyIds!;
        for (let k = i === 0 ? 0 : enc.keyEnds![i - 1]!, e = enc.keyEnds![i]!; k < e; k++) this.recordKeys.addId(keyIds[ids[k]!]!, b.blkKeys);
      }
    }
    if (b.blkLines >= this.config.key_block_lines) this.seal(b);
  }

  private pushPart(b: Bucket, bytes: Uint8Array): void {
    const part = this.config.gzip ? gzip(bytes) : Promise.resolve(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    part.catch(() => {}); // awaited at upload; no unhandled rejection meanwhile
    b.parts.push(part);
  }

  /** Close a bucket: its file waits for the next upload. */
  private closeBucket(b: Bucket): void {
    this.seal(b);
    this.buckets.delete(b.key);
    this.openBytes -= b.bytes;
    if (!b.records) return;
    const name =
      b.label !== undefined
        ? fileName({ prefix: this.config.file_prefix, label: b.label, first: b.first, last: b.last, ext: this.ext })
        : `${this.config.file_prefix}.${this.runId}.${this.seq++}${this.ext}`;
    this.pending.push({ key: b.key, dir: b.dir, name, parts: b.parts, blocks: b.blocks, records: b.records, bytes: b.bytes });
    this.pendingBytes += b.bytes;
  }

  async flush(): Promise<void> {
    for (const b of [...this.buckets.values()]) this.closeBucket(b);
    await this.uploadPending();
    // key ids are held by open and pending files only: with none, a large table can start over
    if (!this.buckets.size && !this.pending.length && this.recordKeys.size > 1 << 20) this.recordKeys.reset();
  }

  /**
   * Upload every pending file: files of one stream and directory in order, up to
   * `upload_concurrency` at a time. A file leaves the list only once renamed, so a retry after a
   * failure uploads the rest again, under the same names.
   */
  private async uploadPending(): Promise<void> {
    if (!this.pending.length) return;
    const groups = new Map<string, PendingFile[]>();
    for (const f of this.pending) {
      let g = groups.get(f.key);
      if (!g) groups.set(f.key, (g = []));
      g.push(f);
    }
    const queue = [...groups.values()];
    const done = new Set<PendingFile>();
    let firstError: unknown;
    const worker = async () => {
      for (;;) {
        const g = queue.shift();
        if (!g) return;
        for (const f of g) {
          try {
            await this.upload(f);
            done.add(f);
          } catch (err) {
            firstError ??= err;
            break; // the rest of this group waits: ranges stay in order
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.config.upload_concurrency, queue.length) }, worker));
    this.pending = this.pending.filter((f) => !done.has(f));
    this.pendingBytes = this.pending.reduce((s, f) => s + f.bytes, 0);
    if (firstError !== undefined) throw firstError;
  }

  /** Create a directory once per run, list it, and clean temporaries a crashed run left. */
  private prepareDir(dir: string): Promise<ArchivedRanges> {
    let p = this.dirs.get(dir);
    if (!p) {
      p = this.listDir(dir);
      this.dirs.set(dir, p);
      p.catch(() => this.dirs.delete(dir)); // list again on the retry
    }
    return p;
  }

  private async listDir(dir: string): Promise<ArchivedRanges> {
    await this.hdfs.mkdirs(dir);
    const ranges = new ArchivedRanges();
    const entries = (await this.hdfs.list(dir)) ?? [];
    const stale = [`_tmp.${this.config.file_prefix}-`, `_tmp.${this.config.file_prefix}.`];
    for (const e of entries) {
      if (e.type !== 'FILE') continue;
      const r = this.config.idempotent ? parseFileName(e.pathSuffix, this.config.file_prefix, this.ext) : null;
      if (r) ranges.add(r.label, r.first, r.last);
      else if (stale.some((s) => e.pathSuffix.startsWith(s))) {
        await this.hdfs.delete(`${dir}/${e.pathSuffix}`);
        this.ctx.metrics.add('stale_temp_deleted', 1);
        this.ctx.logger.info({ dir, file: e.pathSuffix }, 'deleted a temporary file left by an earlier run');
      }
    }
    ranges.seal();
    return ranges;
  }

  private async upload(f: PendingFile): Promise<void> {
    const parts = await Promise.all(f.parts);
    const data = Buffer.concat(parts);
    const final = `${f.dir}/${f.name}`;
    const temp = `${f.dir}/${tempName(f.name)}`;
    this.temps.add(temp);
    await this.hdfs.create(temp, data);
    let index: { temp: string; final: string } | undefined;
    if (f.blocks) {
      // The sidecar: uploaded before, renamed in after the file; the old one (a rewrite under the
      // same name) goes before the file is replaced, so it never describes other bytes.
      const blocks = f.blocks.map((blk, i) => ({ bytes: parts[i]!.length, lines: blk.lines, keys: blk.keys }));
      const text = formatKeyIndex(data.length, blocks, (id) => this.recordKeys.keyOf(id));
      index = { temp: `${f.dir}/${tempName(`${f.name}.keys`)}`, final: `${f.dir}/${keyIndexName(f.name)}` };
      this.temps.add(index.temp);
      const gz = await gzip(text);
      await this.hdfs.create(index.temp, gz);
      await this.hdfs.delete(index.final);
      this.ctx.metrics.add('key_index_bytes', gz.length);
    }
    await this.hdfs.renameOverwrite(temp, final);
    this.temps.delete(temp);
    const st = await this.hdfs.stat(final);
    if (!st || st.length !== data.length) throw new HdfsError(`WebHDFS rename ${temp} → ${final}: the file is not in place after the rename`, true);
    if (index) {
      await this.hdfs.renameOverwrite(index.temp, index.final);
      this.temps.delete(index.temp);
    }
    this.ctx.metrics.add('files_written', 1);
    this.ctx.metrics.add('records_written', f.records);
    this.ctx.metrics.add('bytes_written', data.length);
  }

  async close(): Promise<void> {
    // A clean run flushed everything before close; what is still held belongs to batches that were
    // never acknowledged (the run failed), which their source will deliver again.
    const held = this.pending.reduce((s, f) => s + f.records, 0) + [...this.buckets.values()].reduce((s, b) => s + b.records, 0);
    if (held) this.ctx.logger.warn({ records: held }, 'hdfs sink closed with unflushed records (their batches were not acknowledged and will be replayed)');
    this.buckets.clear();
    this.pending = [];
    for (const t of this.temps) {
      try {
        await this.hdfs.delete(t);
      } catch {
        // HDFS unreachable: the next run that writes this directory deletes it
      }
    }
    this.temps.clear();
  }
}
