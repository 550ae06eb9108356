/**
 * How batches cross between threads, both ways. A block (of lines from a line source, of messages
 * from the `kafka` source) crosses as its bytes and typed arrays, transferred (not copied) when each
 * owns its whole ArrayBuffer (a pooled one included, block-pool.ts); the worker builds the records. Raw line records from one file with consecutive line numbers travel as one joined
 * string, Kafka records of one partition likewise; other records (parsed records, alerts, rejects:
 * what leaves a worker's chain, and what the main thread hands to a chain that reads them) travel
 * in the shaped form (`ShapedWire`); only a batch that form cannot carry is structured-cloned.
 */
import { blockArrays, blockOriginKey, blockRecords, copyBlock, type Batch, type Block, type Rec } from '../record.js';
import { sharedBlocks } from '../block-pool.js';
import { Leaf } from './leaf.js';
import { decodeProjected, summaryCarrier, transferOfProjected, transferOfSummary, type ProjectedWire, type SummaryWire } from './projection.js';

export type WireBatch =
  | { kind: 'block'; block: Block }
  | { kind: 'lines'; file: string; first: number; text: string; raw: Array<[number, string]> }
  | KafkaWire
  | ShapedWire
  /** Projections of records (projection.ts): what a main-thread reader declared it reads. */
  | ProjectedWire
  /** A batch summary (API 1.8, projection.ts): one carrier record on the main thread. */
  | SummaryWire
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

/**
 * A batch ready to post, and the memory to transfer with it. A block of lines is copied into shared
 * memory (`sharedBlocks`, block-pool.ts): nothing is transferred, so nothing is detached in this
 * thread; the caller gives the block's own memory back (`lineBlocks.release`) once it has no
 * other use for it.
 */
export function encodeForWorker(b: Batch): { wire: WireBatch; transfer: ArrayBuffer[] } {
  if (Array.isArray(b)) {
    // Records that arrived from a worker in this shape go on as they came (not encoded again).
    const wire = takeReceived(b) ?? encodeBatch(b);
    return { wire, transfer: transferOf(wire) };
  }
  if (b.kind === 'lines') {
    const bytes = sharedBlocks.take(b.bytes.length);
    bytes.set(b.bytes);
    return { wire: { kind: 'block', block: { ...b, bytes } }, transfer: [] };
  }
  const transfer: ArrayBuffer[] = [];
  // a block of messages: its arrays transferred when each owns its whole buffer
  for (const a of blockArrays(b)) {
    const ab = a.buffer;
    if (!(ab instanceof ArrayBuffer) || a.byteOffset !== 0 || a.byteLength !== ab.byteLength || transfer.includes(ab)) {
      // A view into a larger (or shared) buffer: send a copy of just its bytes.
      return { wire: { kind: 'block', block: copyBlock(b) }, transfer: [] };
    }
    transfer.push(ab);
  }
  return { wire: { kind: 'block', block: b }, transfer };
}

export function encodeBatch(records: Rec[]): WireBatch {
  const n = records.length;
  const r0 = records[0];
  if (n > 0 && typeof r0?.origin?.topic === 'string') return encodeKafka(records) ?? encodeShaped(records) ?? { kind: 'records', records };
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
  return (n > 0 ? encodeShaped(records) : undefined) ?? { kind: 'records', records };
}

/** The memory a wire batch can hand over to the receiving thread instead of copying it. */
export function transferOf(w: WireBatch): ArrayBuffer[] {
  if (w.kind === 'projected') return transferOfProjected(w);
  if (w.kind === 'summary') return transferOfSummary(w);
  if (w.kind !== 'shaped') return [];
  return [w.ids.buffer, w.tags.buffer, w.nums.buffer, w.refs.buffer] as ArrayBuffer[];
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
  // the first offset is sent as a number: only a canonical decimal comes back as the same text
  if (typeof partition !== 'number' || typeof o0.offset !== 'string' || String(first) !== o0.offset || !Number.isSafeInteger(first + n)) return undefined;
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

/**
 * The records of a wire batch. `keep`: remember a shaped batch's wire beside its records, so that
 * the same records handed on to another worker's chain cross as they came (`encodeForWorker`).
 */
export function decodeBatch(b: WireBatch, keep = false): Rec[] {
  if (b.kind === 'shaped') {
    const recs = decodeShaped(b);
    if (keep && recs.length > 0) received.set(recs[0]!, { records: recs, wire: b });
    return recs;
  }
  if (b.kind === 'records') return b.records;
  if (b.kind === 'projected') return decodeProjected(b);
  if (b.kind === 'summary') return summaryCarrier(b);
  if (b.kind === 'kafka') return decodeKafka(b);
  if (b.kind === 'block') return blockRecords(b.block);
  const lines = b.text.split('\n');
  const out: Rec[] = new Array(lines.length);
  for (let i = 0; i < lines.length; i++) out[i] = { message: lines[i], origin: { file: b.file, line: b.first + i } };
  for (const [i, b64] of b.raw) out[i]!.raw_base64 = b64;
  return out;
}

/** Which copy a batch goes to when state is kept per source. */
export function originKey(records: Batch): string {
  if (!Array.isArray(records)) return blockOriginKey(records);
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

/**
 * Records in the shaped form: the keys of a batch's records sent once per distinct layout (shape),
 * the values as typed arrays and one table of distinct strings. The receiving thread rebuilds each
 * record with a function compiled for its shape (object literals: every record of a shape gets the
 * same keys in the same order, keys holding `undefined` kept, so the rebuilt records share hidden
 * classes as the originals did). Far cheaper than structured-cloning nested records one by one,
 * and lighter for the receiver: a value repeated across the batch (a file name, a dataset, a
 * method) arrives as one string. Arrays and objects that are not plain (a Date, a Map, a typed
 * array) travel beside, structured-cloned as before.
 */
export interface ShapedWire {
  kind: 'shaped';
  /** The layouts this batch uses (see Shape), indexed by `ids`. */
  shapes: Shape[];
  /** Per record: its layout. */
  ids: Uint16Array;
  /** Per leaf value, in record order (depth first, key order): what it is (see `Leaf`). */
  tags: Uint8Array;
  /** Number leaves, in order (-0, NaN and infinities kept). */
  nums: Float64Array;
  /** String leaves, in order: indexes into `strings`. */
  refs: Uint32Array;
  strings: string[];
  /** Leaves that are neither primitives nor plain objects (arrays, Dates…), in order, cloned. */
  extras: unknown[];
}

/** A layout: each key of an object in order, a plain key for a value, `[key, Shape]` for a nested plain object. */
export type Shape = Array<string | [string, Shape]>;

/** Deepest nesting the shaped form follows (deeper, or a cycle: the batch is structured-cloned). */
const MAX_DEPTH = 64;
/** Trie nodes an encoder keeps before it starts afresh (records whose keys vary without end). */
const MAX_NODES = 50_000;

const OP = Object.prototype;

/** A node of an encoder's trie of layouts: where the keys met so far in a record lead. */
class LayoutNode {
  readonly leaves = new Map<string, LayoutNode>();
  readonly opens = new Map<string, LayoutNode>();
  closer: LayoutNode | undefined;
  /** The last step taken from here (records of a batch mostly take the same): checked before the maps. */
  hotKey: string | undefined;
  hotOpen = false;
  hotNext: LayoutNode | undefined;
  /** The layout of a record that ends here, made the first time one does. */
  shape: Shape | undefined;
  /** Index in the batch being encoded, valid when `batch` is the encoder's current batch. */
  id = 0;
  batch = -1;
  constructor(
    readonly parent: LayoutNode | undefined,
    /** How it was reached: a value's key, a nested object's key (open), or that object's end. */
    readonly step: 'leaf' | 'open' | 'close',
    readonly key: string,
  ) {}

  /** The layout of the path from the root to this node. */
  layout(): Shape {
    if (this.shape) return this.shape;
    const path: LayoutNode[] = [];
    for (let n: LayoutNode | undefined = this; n?.parent; n = n.parent) path.push(n);
    const root: Shape = [];
    const stack: Shape[] = [root];
    for (let i = path.length - 1; i >= 0; i--) {
      const n = path[i]!;
      const top = stack[stack.length - 1]!;
      if (n.step === 'leaf') top.push(n.key);
      else if (n.step === 'open') {
        const inner: Shape = [];
        top.push([n.key, inner]);
        stack.push(inner);
      } else stack.pop();
    }
    this.shape = root;
    return root;
  }
}

/** Thrown inside the encoder for a batch the shaped form cannot carry. */
const NOT_SHAPED = new Error('not shaped');

/** Encodes batches in the shaped form; one per thread (it keeps the layouts it has met). */
class ShapedEncoder {
  private root = new LayoutNode(undefined, 'leaf', '');
  private nodes = 1;
  private batch = 0;
  private tags: number[] = [];
  private nums: number[] = [];
  private refs: number[] = [];
  private strings: string[] = [];
  /**
   * Per leaf position in a record (its n-th leaf): the last string sent there and its index. A value
   * that repeats from record to record (a file name, a dataset, a method) is sent once per run of it;
   * comparing with the previous record's costs far less than a hash table of every string.
   */
  private lastStr: Array<string | undefined> = new Array(64).fill(undefined);
  private lastRef: number[] = new Array(64).fill(0);
  private pos = 0;
  private extras: unknown[] = [];

  encode(records: Rec[]): ShapedWire | undefined {
    if (this.nodes > MAX_NODES) {
      this.root = new LayoutNode(undefined, 'leaf', '');
      this.nodes = 1;
    }
    const batch = ++this.batch;
    const n = records.length;
    const ids = new Uint16Array(n);
    const shapes: Shape[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const r = records[i];
        if (!isPlain(r)) return undefined;
        this.pos = 0;
        const end = this.walk(r as Rec, this.root, 0);
        if (end.batch !== batch) {
          if (shapes.length === 0xffff) return undefined;
          end.batch = batch;
          end.id = shapes.length;
          shapes.push(end.layout());
        }
        ids[i] = end.id;
      }
      return {
        kind: 'shaped',
        shapes,
        ids,
        tags: new Uint8Array(this.tags),
        nums: new Float64Array(this.nums),
        refs: new Uint32Array(this.refs),
        strings: this.strings,
        extras: this.extras,
      };
    } catch (err) {
      if (err === NOT_SHAPED || err instanceof RangeError) return undefined; // RangeError: a cycle, too deep for the stack
      throw err;
    } finally {
      this.tags = [];
      this.nums = [];
      this.refs = [];
      this.strings = [];
      this.lastStr.fill(undefined);
      this.extras = [];
    }
  }

  private walk(o: Rec, at: LayoutNode, depth: number): LayoutNode {
    if (depth > MAX_DEPTH) throw NOT_SHAPED;
    let node = at;
    const keys = Object.keys(o);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      // an own "__proto__" key cannot be written back by an object literal
      if (k === '__proto__') throw NOT_SHAPED;
      const v = o[k];
      if (typeof v === 'object' && v !== null && isPlain(v)) {
        let next = node.hotKey === k && node.hotOpen ? node.hotNext : node.opens.get(k);
        if (next === undefined) {
          next = new LayoutNode(node, 'open', k);
          node.opens.set(k, next);
          this.nodes++;
        }
        node.hotKey = k;
        node.hotOpen = true;
        node.hotNext = next;
        const inner = this.walk(v as Rec, next, depth + 1);
        node = inner.closer ??= this.count(new LayoutNode(inner, 'close', ''));
      } else {
        this.leaf(v);
        let next = node.hotKey === k && !node.hotOpen ? node.hotNext : node.leaves.get(k);
        if (next === undefined) {
          next = new LayoutNode(node, 'leaf', k);
          node.leaves.set(k, next);
          this.nodes++;
        }
        node.hotKey = k;
        node.hotOpen = false;
        node.hotNext = next;
        node = next;
      }
    }
    return node;
  }

  private count(n: LayoutNode): LayoutNode {
    this.nodes++;
    return n;
  }

  private leaf(v: unknown): void {
    const pos = this.pos++;
    switch (typeof v) {
      case 'string': {
        this.tags.push(Leaf.String);
        if (pos < 64) {
          if (this.lastStr[pos] === v) {
            this.refs.push(this.lastRef[pos]!);
            return;
          }
          const at = this.strings.push(v) - 1;
          this.lastStr[pos] = v;
          this.lastRef[pos] = at;
          this.refs.push(at);
          return;
        }
        this.refs.push(this.strings.push(v) - 1);
        return;
      }
      case 'number':
        this.tags.push(Leaf.Number);
        this.nums.push(v);
        return;
      case 'undefined':
        this.tags.push(Leaf.Undefined);
        return;
      case 'boolean':
        this.tags.push(v ? Leaf.True : Leaf.False);
        return;
      default:
        if (v === null) {
          this.tags.push(Leaf.Null);
          return;
        }
        // arrays, Dates, Maps, typed arrays, bigints: cloned beside (a function or symbol fails there, as before)
        this.tags.push(Leaf.Extra);
        this.extras.push(v);
    }
  }
}

/** A plain object: what the shaped form rebuilds as an object literal (a null prototype becomes Object's, as in a structured clone). */
function isPlain(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === OP || p === null;
}

let encoder: ShapedEncoder | undefined;

/** The shaped form of a batch, or undefined when it cannot carry it (see ShapedWire). */
export function encodeShaped(records: Rec[]): ShapedWire | undefined {
  encoder ??= new ShapedEncoder();
  return encoder.encode(records);
}

/** Reads a shaped batch's leaf values in order (the builders call `v()` once per leaf). */
class LeafReader {
  private t = 0;
  private n = 0;
  private s = 0;
  private x = 0;
  private readonly tags: Uint8Array;
  private readonly nums: Float64Array;
  private readonly refs: Uint32Array;
  private readonly strings: string[];
  private readonly extras: unknown[];
  constructor(w: ShapedWire) {
    this.tags = w.tags;
    this.nums = w.nums;
    this.refs = w.refs;
    this.strings = w.strings;
    this.extras = w.extras;
  }
  v(): unknown {
    const tag = this.tags[this.t++];
    if (tag === Leaf.String) return this.strings[this.refs[this.s++]!];
    if (tag === Leaf.Number) return this.nums[this.n++];
    if (tag === Leaf.Undefined) return undefined;
    if (tag === Leaf.Null) return null;
    if (tag === Leaf.Extra) return this.extras[this.x++];
    return tag === Leaf.True;
  }
}

type Builder = (r: LeafReader) => Rec;

/** Builders by layout (its JSON), in this thread. */
const builders = new Map<string, Builder>();
/** Layouts a thread keeps builders for before it starts afresh. */
const MAX_BUILDERS = 10_000;

/**
 * The function that builds a record of a layout: one object literal, keys as constants in the
 * generated code (written as JSON string literals, never as code), values read in key order. Where
 * code generation is refused (--disallow-code-generation-from-strings) a loop builds it.
 */
function builderFor(shape: Shape): Builder {
  const key = JSON.stringify(shape);
  let b = builders.get(key);
  if (b !== undefined) return b;
  if (builders.size >= MAX_BUILDERS) builders.clear();
  const literal = (s: Shape): string =>
    `{${s.map((e) => (typeof e === 'string' ? `${JSON.stringify(e)}: r.v()` : `${JSON.stringify(e[0])}: ${literal(e[1])}`)).join(', ')}}`;
  try {
    b = new Function('r', `'use strict';\nreturn ${literal(shape)};`) as Builder;
  } catch {
    b = (r) => buildLoop(shape, r);
  }
  builders.set(key, b);
  return b;
}

/** A record of a layout, built by a loop (the fallback of the generated builders, and their reference). */
function buildLoop(shape: Shape, r: LeafReader): Rec {
  const o: Rec = {};
  for (const e of shape) {
    if (typeof e === 'string') o[e] = r.v();
    else o[e[0]] = buildLoop(e[1], r);
  }
  return o;
}

export function decodeShaped(w: ShapedWire, generated = true): Rec[] {
  const build = w.shapes.map((s) => (generated ? builderFor(s) : (r: LeafReader) => buildLoop(s, r)));
  const r = new LeafReader(w);
  const ids = w.ids;
  const n = ids.length;
  const out: Rec[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = build[ids[i]!]!(r);
  return out;
}

/** Shaped batches that arrived from a worker, by their first record (see `decodeBatch`'s `keep`). */
const received = new WeakMap<Rec, { records: Rec[]; wire: ShapedWire }>();

/** The wire the records arrived in, if they are exactly those records (the same objects in the same order); once. */
function takeReceived(records: Rec[]): ShapedWire | undefined {
  const first = records[0];
  if (first === undefined || typeof first !== 'object') return undefined;
  const got = received.get(first);
  if (got === undefined || got.records.length !== records.length) return undefined;
  const same = got.records;
  for (let i = 0; i < same.length; i++) if (same[i] !== records[i]) return undefined;
  received.delete(first);
  return got.wire;
}
