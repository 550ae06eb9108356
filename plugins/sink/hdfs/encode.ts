/**
 * The `hdfs` sink's encoder (API 1.4): the per-record work of an archive, done where the records
 * are made (in the worker threads of a parallel chain) so that the main thread only places,
 * compresses and uploads. Per record: its line (JSON or CSV) as UTF-8 bytes, the directory its path
 * template gives, its stream and position (file names, replay skipping), and with `key_index` the
 * keys of its line (src/line-keys.ts). A pure function of the config: whichever thread encodes a
 * batch, the sink receives the same.
 */
import { getPath, type EncodedBatch, type Rec, type SinkEncoder } from '../../../src/api.js';
import { RecordKeys } from '../../../src/internal.js';
import { compileTemplate, csvField, PathExpander, streamOf } from './paths.js';

/**
 * Keys an encoder's table holds before it starts afresh: each thread that encodes keeps one, and
 * a batch needs only its own (a few thousand), so a small table saves the worker's memory.
 */
const MAX_KEYS = 1 << 16;

/** What the encoder needs of the sink's config. */
export interface EncodeConfig {
  path: string;
  time_field: string;
  missing_value: string;
  format: 'json' | 'csv';
  csv: { columns: string[]; header: boolean; delimiter: string };
  idempotent: boolean;
  origin_field: string;
  stream_fields: string[];
  key_index: boolean;
}

/** A batch, encoded: one entry per record in each per-record array, in record order. */
export interface HdfsLines {
  /** The records' lines, UTF-8, one after another (each ends with `\n`). */
  data: Uint8Array;
  /** Where each record's line ends in `data` (its start is the previous end). */
  ends: Uint32Array;
  /** Each line's length in UTF-16 code units (what `roll_bytes` counts, as before the encoder). */
  chars: Uint32Array;
  /** The distinct directories of the batch, and each record's (index into `dirs`). */
  dirs: string[];
  dirOf: Uint32Array;
  /** Records whose event time was missing (for the `missing_time` metric). */
  missingTime: number;
  /** The distinct stream labels, each record's (-1: no stream: not idempotent, or no origin), and its position. */
  labels: string[];
  labelOf: Int32Array;
  pos: Float64Array;
  /** `key_index`: the keys of the batch, once each (`h…`, `u…`, `v…`). */
  keys?: string[];
  /** `key_index`: each key's hash (`RecordKeys.hashOf`), so that the sink files it without hashing it again. */
  keyHashes?: Uint32Array;
  /** `key_index`: each record's keys as indexes into `keys`, record after record, in the order found. */
  keyIds?: Uint32Array;
  /** `key_index`: where each record's keys end in `keyIds`. */
  keyEnds?: Uint32Array;
  /** `key_index`: 1 where the record's line has no usable keys (a byte ≥ 0x80, a backslash): its block is read whole. */
  unkeyed?: Uint8Array;
  /** `key_index` with CSV: the lines each record's text takes (a quoted field may hold line ends). */
  lines?: Uint32Array;
}

/** One record's line: JSON, or CSV of the configured columns. */
export function serialise(cfg: EncodeConfig, rec: Rec): string {
  if (cfg.format === 'json') return JSON.stringify(rec) + '\n';
  const { columns, delimiter } = cfg.csv;
  let s = '';
  for (let i = 0; i < columns.length; i++) {
    if (i) s += delimiter;
    s += csvField(getPath(rec, columns[i]!), delimiter);
  }
  return s + '\n';
}

/** Distinct strings of a batch, numbered in the order met; the last one asked is checked first (runs repeat). */
class Distinct {
  readonly list: string[] = [];
  private readonly index = new Map<string, number>();
  private last: string | undefined;
  private lastAt = 0;
  at(s: string): number {
    if (s === this.last) return this.lastAt;
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.list.push(s) - 1;
      this.index.set(s, i);
    }
    this.last = s;
    this.lastAt = i;
    return i;
  }
}

export class HdfsEncoder implements SinkEncoder<HdfsLines> {
  private readonly expander: PathExpander;
  /** `key_index`: the keys met (ids of this encoder only; a batch lists its own as text). */
  private keyTable = new RecordKeys();
  /** Per key id of `keyTable`: its index in the batch being encoded, valid when `stamp` is the batch's. */
  private batchIndex = new Int32Array(1024);
  private stamp = new Int32Array(1024);
  private serial = 0;

  constructor(private readonly cfg: EncodeConfig) {
    this.expander = new PathExpander(compileTemplate(cfg.path), { timeField: cfg.time_field, missing: cfg.missing_value });
  }

  encode(records: Rec[]): EncodedBatch<HdfsLines> {
    const cfg = this.cfg;
    const n = records.length;
    const json = cfg.format === 'json';
    const idem = cfg.idempotent;
    const chars = new Uint32Array(n);
    const dirOf = new Uint32Array(n);
    const labelOf = new Int32Array(n).fill(-1);
    const pos = new Float64Array(n);
    const dirs = new Distinct();
    const labels = new Distinct();
    const lineTexts: string[] = new Array(n);
    let missingTime = 0;
    let text = '';
    // key_index
    const indexed = cfg.key_index;
    // ids are the batch's business only: a table kept small keeps the worker's heap small
    if (indexed && this.keyTable.size > MAX_KEYS) this.keyTable = new RecordKeys();
    const serial = ++this.serial;
    const keys: string[] = [];
    const keyHashes: number[] = [];
    const keyIds: number[] = [];
    const blk = indexed ? this.keyTable.newBlock() : undefined;
    const keyEnds = indexed ? new Uint32Array(n) : undefined;
    const unkeyed = indexed ? new Uint8Array(n) : undefined;
    const lines = indexed && !json ? new Uint32Array(n) : undefined;
    for (let i = 0; i < n; i++) {
      const rec = records[i]!;
      const e = this.expander.expand(rec);
      if (e.missingTime) missingTime++;
      dirOf[i] = dirs.at(e.dir);
      if (idem) {
        const extra = cfg.stream_fields.length ? cfg.stream_fields.map((f) => getPath(rec, f)) : undefined;
        const sp = streamOf(getPath(rec, cfg.origin_field), extra);
        if (sp) {
          labelOf[i] = labels.at(sp.label);
          pos[i] = sp.pos;
        }
      }
      const line = serialise(cfg, rec);
      lineTexts[i] = line;
      chars[i] = line.length;
      text += line;
      if (blk) {
        this.keyTable.clearBlock(blk);
        let ok: boolean;
        if (json) {
          const r = this.keyTable.addRecord(rec, blk);
          ok = r === undefined ? this.keyTable.addLine(line, blk) : r;
        } else {
          ok = this.keyTable.addLine(line, blk);
          let k = 0;
          for (let j = line.indexOf('\n'); j >= 0; j = line.indexOf('\n', j + 1)) k++;
          lines![i] = k;
        }
        if (!ok) unkeyed![i] = 1;
        else for (const id of blk.ids) keyIds.push(this.batchKey(id, serial, keys, keyHashes));
        keyEnds![i] = keyIds.length;
      }
    }
    const byteLength = Buffer.byteLength(text);
    // its own ArrayBuffer (never a slice of Buffer's pool): moved to the main thread, not copied
    const data = Buffer.allocUnsafeSlow(byteLength);
    data.write(text, 'utf8');
    const ends = new Uint32Array(n);
    let end = 0;
    // ASCII lines (the usual): a line's bytes are its characters
    if (byteLength === text.length) for (let i = 0; i < n; i++) ends[i] = end += chars[i]!;
    else for (let i = 0; i < n; i++) ends[i] = end += Buffer.byteLength(lineTexts[i]!);
    const value: HdfsLines = { data, ends, chars, dirs: dirs.list, dirOf, missingTime, labels: labels.list, labelOf, pos };
    const transfer = [data.buffer, ends.buffer, chars.buffer, dirOf.buffer, labelOf.buffer, pos.buffer] as ArrayBuffer[];
    if (indexed) {
      const ids = Uint32Array.from(keyIds);
      const hashes = Uint32Array.from(keyHashes);
      value.keys = keys;
      value.keyHashes = hashes;
      value.keyIds = ids;
      value.keyEnds = keyEnds;
      value.unkeyed = unkeyed;
      transfer.push(ids.buffer, hashes.buffer, keyEnds!.buffer, unkeyed!.buffer);
      if (lines) {
        value.lines = lines;
        transfer.push(lines.buffer);
      }
    }
    return { count: n, value, transfer };
  }

  /** The batch's index of key `id` of the key table, listing the key in `keys` the first time. */
  private batchKey(id: number, serial: number, keys: string[], hashes: number[]): number {
    if (id >= this.stamp.length) {
      let size = this.stamp.length;
      while (size <= id) size *= 2;
      const stamp = new Int32Array(size);
      stamp.set(this.stamp);
      const index = new Int32Array(size);
      index.set(this.batchIndex);
      this.stamp = stamp;
      this.batchIndex = index;
    }
    if (this.stamp[id] === serial) return this.batchIndex[id]!;
    this.stamp[id] = serial;
    const at = keys.push(this.keyTable.keyOf(id)) - 1;
    hashes.push(this.keyTable.hashOf(id));
    this.batchIndex[id] = at;
    return at;
  }
}
