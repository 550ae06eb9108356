/**
 * How batches cross to worker threads. A block of lines from a line source crosses as its bytes,
 * transferred (not copied) when the block owns its whole ArrayBuffer; the worker builds the
 * records. Raw line records from one file with consecutive line numbers travel as one joined
 * string, far cheaper to copy than thousands of small objects; anything else is structured-cloned.
 */
import { linesToRecords, type Batch, type LineBlock, type Rec } from '../record.js';

export type WireBatch =
  | { kind: 'block'; block: LineBlock }
  | { kind: 'lines'; file: string; first: number; text: string; raw: Array<[number, string]> }
  | KafkaWire
  | { kind: 'records'; records: Rec[] };

/**
 * Records of one Kafka partition with consecutive offsets, as the `kafka` source makes them
 * (`{ message, origin: { topic, partition, offset }, timestamp? }`): the messages joined by `\n`,
 * the first offset, and the timestamps run-length encoded (a batch's messages mostly share theirs).
 */
export interface KafkaWire {
  kind: 'kafka';
  topic: string;
  partition: number;
  /** Offset of the first record (a safe integer; later ones follow it one by one). */
  first: number;
  text: string;
  /** Timestamps in runs: `tsRuns[k]` repeated `tsCounts[k]` times; empty when no record has one. */
  tsRuns: string[];
  tsCounts: number[];
}

/** A batch ready to post, and the memory to transfer with it. */
export function encodeForWorker(b: Batch): { wire: WireBatch; transfer: ArrayBuffer[] } {
  if (Array.isArray(b)) return { wire: encodeBatch(b), transfer: [] };
  const bytes = b.bytes;
  const ab = bytes.buffer;
  if (ab instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === ab.byteLength) return { wire: { kind: 'block', block: b }, transfer: [ab] };
  // A view into a larger (or shared) buffer: send a copy of just its bytes.
  return { wire: { kind: 'block', block: { ...b, bytes: bytes.slice() } }, transfer: [] };
}

export function encodeBatch(records: Rec[]): WireBatch {
  const n = records.length;
  const r0 = records[0];
  if (n > 0 && typeof r0?.origin?.topic === 'string') return encodeKafka(records) ?? { kind: 'records', records };
  const file = r0?.origin?.file;
  const first = r0?.origin?.line;
  if (n > 0 && typeof file === 'string' && typeof first === 'number') {
    const messages: string[] = new Array(n);
    const raw: Array<[number, string]> = [];
    let ok = true;
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      const o = r.origin;
      const m = r.message;
      if (typeof m !== 'string' || !o || o.file !== file || o.line !== first + i || m.includes('\n')) {
        ok = false;
        break;
      }
      let keys = 2;
      if (r.raw_base64 !== undefined) {
        raw.push([i, r.raw_base64]);
        keys = 3;
      }
      if (Object.keys(r).length !== keys || Object.keys(o).length !== 2) {
        ok = false;
        break;
      }
      messages[i] = m;
    }
    if (ok) return { kind: 'lines', file, first, text: messages.join('\n'), raw };
  }
  return { kind: 'records', records };
}

/**
 * The compact form of Kafka records (see KafkaWire), or undefined when they do not fit it: another
 * field (key, headers), a message holding `\n`, a gap in the offsets, a timestamp on some only.
 */
function encodeKafka(records: Rec[]): KafkaWire | undefined {
  const n = records.length;
  const o0 = records[0]!.origin!;
  const topic = o0.topic as string;
  const partition = o0.partition;
  const first = Number(o0.offset);
  if (typeof partition !== 'number' || typeof o0.offset !== 'string' || !Number.isSafeInteger(first + n)) return undefined;
  const withTs = records[0]!.timestamp !== undefined;
  const keys = withTs ? 3 : 2;
  const messages: string[] = new Array(n);
  const tsRuns: string[] = [];
  const tsCounts: number[] = [];
  let runTs: unknown;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    const o = r.origin;
    const m = r.message;
    if (typeof m !== 'string' || !o || o.topic !== topic || o.partition !== partition || m.includes('\n')) return undefined;
    // The offset string of record i is the first's plus i (checked as text: no number per record).
    const off = o.offset;
    if (typeof off !== 'string' || (i > 0 && off !== String(first + i))) return undefined;
    let k = 0;
    for (const _ in r) k++;
    if (k !== keys) return undefined;
    if (withTs) {
      const ts = r.timestamp;
      if (typeof ts !== 'string') return undefined;
      if (ts === runTs) tsCounts[tsCounts.length - 1]!++;
      else {
        tsRuns.push(ts);
        tsCounts.push(1);
        runTs = ts;
      }
    }
    let ok = 0;
    for (const _ in o) ok++;
    if (ok !== 3) return undefined;
    messages[i] = m;
  }
  return { kind: 'kafka', topic, partition, first, text: messages.join('\n'), tsRuns, tsCounts };
}

function decodeKafka(b: KafkaWire): Rec[] {
  const lines = b.text.split('\n');
  const n = lines.length;
  const out: Rec[] = new Array(n);
  const { topic, partition, first } = b;
  if (b.tsRuns.length === 0) {
    for (let i = 0; i < n; i++) out[i] = { message: lines[i], origin: { topic, partition, offset: String(first + i) } };
    return out;
  }
  let i = 0;
  for (let k = 0; k < b.tsRuns.length; k++) {
    const ts = b.tsRuns[k];
    for (let c = b.tsCounts[k]!; c > 0; c--, i++) out[i] = { message: lines[i], origin: { topic, partition, offset: String(first + i) }, timestamp: ts };
  }
  return out;
}

export function decodeBatch(b: WireBatch): Rec[] {
  if (b.kind === 'records') return b.records;
  if (b.kind === 'kafka') return decodeKafka(b);
  if (b.kind === 'block') return linesToRecords(b.block);
  const lines = b.text.split('\n');
  const out: Rec[] = new Array(lines.length);
  for (let i = 0; i < lines.length; i++) out[i] = { message: lines[i], origin: { file: b.file, line: b.first + i } };
  for (const [i, b64] of b.raw) out[i]!.raw_base64 = b64;
  return out;
}

/** Which copy a batch goes to when state is kept per source. */
export function originKey(records: Batch): string {
  if (!Array.isArray(records)) return records.file;
  const o = records[0]?.origin;
  if (!o) return '';
  return o.file ?? `${o.topic}/${o.partition}`;
}

/** Per-node statistics a worker reports with each result. */
export interface NodeDelta {
  node: string;
  in: number;
  out: Record<string, number>;
  add: Record<string, number>;
  set: Record<string, number>;
  /** Milliseconds the node spent in `process` for the batch (an observed run only). */
  ms?: number;
  /** `ctx.metrics.observe` calls (an observed run only). */
  obs?: Array<[string, number, Readonly<Record<string, string | number>> | undefined]>;
  /** Labelled `add`/`set` calls, in order (an observed run only). */
  lab?: Array<['add' | 'set', string, number, Readonly<Record<string, string | number>>]>;
}
