/**
 * Projections (API 1.5, `ProcessorDef.reads`): an output of a parallel segment read outside it only
 * by main-thread processors that declare the fields they read crosses to the main thread as a
 * projection of each record (those fields and `origin`), not the whole record. The worker copy that
 * made a batch keeps its whole records until every reader is done with the batch:
 *
 * - the copy sends the projections (shaped wire form, wire.ts) and holds the records under the
 *   batch's key (`seq`, node, port);
 * - the main thread gives each projection a handle (a symbol-keyed number: the batch's id here and
 *   the record's index), which a shallow copy (`{ ...rec, extra }`) keeps;
 * - records a reader emits on a port it declared `whole` (the window's `late`) are fetched back
 *   whole from the copy by handle, the fields the reader added laid on top, before they reach the
 *   port's readers (processor runner: asynchronously, in order per port, the batch's ack held until
 *   they are dispatched);
 * - once every reader has processed the batch, the main thread tells the copy to drop it (releases
 *   are batched: sent with the copy's next batch, or in a message of their own every few).
 * What a copy holds is bounded by the batches between it and the readers: those in flight to the
 * segment runner and those in the readers' bounded queues.
 */
import type { PluginKind, ProcessorDef, ReadFields, Rec } from '../api.js';
import type { CompiledSpec } from '../graph/build.js';
import { portsOf } from '../plugins/def.js';
import { RunError } from './run-error.js';
import type { Segment } from './segments.js';
import { Leaf } from './leaf.js';

/** A projection's handle: `id * HANDLE_SPAN + index` (see `hold`). */
export const HANDLE: unique symbol = Symbol('sluice.projection');
/** Records a projected batch may have (more: sent whole). */
export const HANDLE_SPAN = 2 ** 21;

/** One output of a segment sent as projections. */
export interface ProjectedRoute {
  node: string;
  port: string;
  /** The union of its readers' fields, with `origin`. */
  fields: string[];
  /** How many main-thread nodes read it (each releases each batch once). */
  readers: number;
  /** Its one reader summarises its batches in the copies (API 1.8, `SummaryDef`): see `SummaryRoute`. */
  summary?: SummaryRoute;
}

/**
 * Batch summaries (API 1.8): an output read by one main-thread processor with a `batchSummary`
 * whose `passes` ports nobody reads. Each copy makes the summary of every batch of the output with
 * the reader's summariser (created in the worker from what is here) and sends it in place of the
 * projections, holding the whole records as for projections; the reader's runner gives the summary
 * to `merge`, or, when `merge` refuses it, fetches the whole records back and gives them to
 * `process`.
 */
export interface SummaryRoute {
  /** The reader node, its plugin, where the plugin comes from, and its validated config. */
  reader: string;
  kind: PluginKind;
  plugin: string;
  from: string;
  config: unknown;
}

/** A batch summary as it crosses from a copy to the main thread (a `WireBatch`). */
export interface SummaryWire {
  kind: 'summary';
  /** The records it stands for. */
  n: number;
  value: unknown;
}

const SUMMARY: unique symbol = Symbol('sluice.summary');

/**
 * What a summarised batch is on the main thread: a batch of one carrier record holding the summary
 * (it takes the batch's handle, `hold`), which only the reader's runner opens (`summaryOf`).
 */
export function summaryCarrier(w: SummaryWire): Rec[] {
  return [{ [SUMMARY]: w } as unknown as Rec];
}

/** The summary a batch carries, if it is a summarised batch. */
export function summaryOf(records: readonly Rec[]): SummaryWire | undefined {
  if (records.length !== 1) return undefined;
  return (records[0] as Record<symbol, SummaryWire | undefined>)[SUMMARY];
}

/** The memory of a summary to transfer: the buffers of its top-level typed arrays that own them whole. */
export function transferOfSummary(w: SummaryWire): ArrayBuffer[] {
  const v = w.value;
  if (v === null || typeof v !== 'object') return [];
  const out: ArrayBuffer[] = [];
  for (const x of Object.values(v)) {
    if (ArrayBuffer.isView(x) && x.buffer instanceof ArrayBuffer && x.byteOffset === 0 && x.byteLength === x.buffer.byteLength && !out.includes(x.buffer))
      out.push(x.buffer);
  }
  return out;
}

const PROTO_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/** The fields a processor node declares it reads, checked; undefined when it reads everything. */
export function readsOf(spec: CompiledSpec, name: string): ReadFields | undefined {
  const node = spec.nodes.get(name);
  if (!node || (node.kind !== 'transform' && node.kind !== 'analyse') || node.config === undefined) return undefined;
  const def = node.plugin.def as ProcessorDef;
  if (typeof def.reads !== 'function') return undefined;
  const r = def.reads(node.config);
  if (r === undefined) return undefined;
  const bad = (why: string) => new RunError('SLUICE_E_CREATE', name, `reads() of plugin '${def.name}' ${why}`);
  if (!r || !Array.isArray(r.fields)) throw bad('returned no { fields: [...] }');
  for (const f of r.fields) {
    if (typeof f !== 'string' || f.split('.').some((p) => p === '' || PROTO_NAMES.has(p))) throw bad(`lists '${String(f)}', which is not a usable field path`);
  }
  const ports = portsOf(def, node.config);
  for (const p of r.whole ?? []) if (!ports.includes(p)) throw bad(`lists '${String(p)}' in whole, which is not one of its ports`);
  return r;
}

/**
 * The outputs of `seg` that may cross as projections: read by at least one node outside the
 * segment, every such reader a main-thread processor (not the head of another segment) that
 * declares `reads`, or a sink that encodes in the workers (`encodedOnly`: its records do not cross).
 * `keepWhole(node, port)`: outputs something else needs whole (an observer reading them).
 */
export function projectedRoutes(
  spec: CompiledSpec,
  seg: Segment,
  segments: readonly Segment[],
  encodes: (sink: string) => boolean,
  keepWhole?: (node: string, port: string) => boolean,
): ProjectedRoute[] {
  const heads = new Set(segments.map((s) => s.nodes[0]!));
  const out: ProjectedRoute[] = [];
  for (const node of seg.nodes) {
    for (const port of seg.leaving[node] ?? []) {
      if (keepWhole?.(node, port)) continue;
      const fields = new Set<string>(['origin']);
      let readers = 0;
      let reader: string | undefined;
      let ok = true;
      for (const name of spec.order) {
        const n = spec.nodes.get(name)!;
        const edges = n.inputs.filter((i) => i.node === node && i.port === port).length;
        if (edges === 0 || seg.nodes.includes(name)) continue;
        if (n.kind === 'sink' && encodes(name)) continue;
        // a reader in some chain (a head of one, or a node inside one) is not on the main thread
        const r = heads.has(name) || segments.some((s) => s.nodes.includes(name)) ? undefined : readsOf(spec, name);
        if (r === undefined || edges !== 1) {
          ok = false;
          break;
        }
        for (const f of r.fields) fields.add(f);
        readers++;
        reader = name;
      }
      if (!ok || readers === 0) continue;
      const summary = readers === 1 && reader !== undefined ? summaryRoute(spec, reader) : undefined;
      out.push(summary ? { node, port, fields: [...fields], readers, summary } : { node, port, fields: [...fields], readers });
    }
  }
  return out;
}

/**
 * The summary route of `reader` (the one main-thread reader of some output), when its plugin makes
 * batch summaries and no node reads the ports on which it passes its input records on.
 */
export function summaryRoute(spec: CompiledSpec, reader: string): SummaryRoute | undefined {
  if (process.env.SLUICE_SUMMARIES === '0') return undefined;
  const n = spec.nodes.get(reader)!;
  const def = n.plugin.def as ProcessorDef;
  const sd = def.batchSummary;
  if (sd === undefined || n.config === undefined) return undefined;
  for (const name of spec.order) if (spec.nodes.get(name)!.inputs.some((i) => i.node === reader && sd.passes.includes(i.port))) return undefined;
  return { reader, kind: def.kind, plugin: def.name, from: n.plugin.from, config: n.config };
}

/** The key under which a copy holds a projected batch's records: the batch's sequence number, node and port (`node\0port`). */
export function heldKey(seq: number, route: string): string {
  return `${seq}\u0000${route}`;
}

export type Projector = (rec: Rec) => Rec;

/** A trie of paths: a leaf (`true`) copies the value there whole. */
type Trie = Map<string, Trie | true>;

function trieOf(fields: readonly string[]): Trie {
  const root: Trie = new Map();
  // shorter paths first: a path under one already copied whole adds nothing
  for (const f of [...fields].sort((a, b) => a.split('.').length - b.split('.').length)) {
    const parts = f.split('.');
    let t = root;
    for (let i = 0; i < parts.length; i++) {
      const k = parts[i]!;
      const at = t.get(k);
      if (at === true) break;
      if (i === parts.length - 1) {
        t.set(k, true);
        break;
      }
      if (at === undefined) {
        const next: Trie = new Map();
        t.set(k, next);
        t = next;
      } else t = at;
    }
  }
  return root;
}

const isObject = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);
const OWN_ONLY = (k: string) => k in Object.prototype;

/**
 * The function that makes a record's projection on `fields`: every listed path, nested as in the
 * record (a missing one holds `undefined`; a value that is not an object where the path goes on is
 * copied as it is), so that reading a listed path gives what it gives on the record — own
 * properties only, and a key holding a dotted path itself (`rec['source.ip']`) copied too, as the
 * built-in readers look there first. Generated once per field list (keys written as JSON string
 * literals, never as code); a loop where code generation is refused.
 */
export function projector(fields: readonly string[]): Projector {
  const trie = trieOf(fields);
  const dotted = fields.filter((f) => f.includes('.'));
  try {
    let vars = 0;
    const get = (src: string, k: string) =>
      OWN_ONLY(k) ? `(Object.hasOwn(${src}, ${JSON.stringify(k)}) ? ${src}[${JSON.stringify(k)}] : undefined)` : `${src}[${JSON.stringify(k)}]`;
    const literal = (t: Trie, src: string): string => {
      const parts: string[] = [];
      for (const [k, sub] of t) {
        if (sub === true) parts.push(`${JSON.stringify(k)}: ${get(src, k)}`);
        else {
          const v = `v${vars++}`;
          parts.push(
            `${JSON.stringify(k)}: (${v} = ${get(src, k)}, ${v} !== null && typeof ${v} === 'object' && !Array.isArray(${v}) ? ${literal(sub, v)} : ${v})`,
          );
        }
      }
      return `{${parts.join(', ')}}`;
    };
    const body = literal(trie, 'r');
    const decl = vars ? `let ${Array.from({ length: vars }, (_, i) => `v${i}`).join(', ')};\n` : '';
    const flat = dotted.map((f) => `if (Object.hasOwn(r, ${JSON.stringify(f)})) o[${JSON.stringify(f)}] = r[${JSON.stringify(f)}];\n`).join('');
    return new Function('r', `'use strict';\n${decl}const o = ${body};\n${flat}return o;`) as Projector;
  } catch {
    return (r) => projectLoop(trie, dotted, r);
  }
}

/** A projection made by a loop (the fallback of the generated projectors, and their reference). */
export function projectLoop(trie: Trie | readonly string[], dotted: readonly string[], r: Rec): Rec {
  const t = trie instanceof Map ? trie : trieOf(trie);
  const walk = (node: Trie, src: Rec): Rec => {
    const o: Rec = {};
    for (const [k, sub] of node) {
      const v = Object.hasOwn(src, k) ? src[k] : undefined;
      o[k] = sub === true || !isObject(v) ? v : walk(sub, v);
    }
    return o;
  };
  const o = walk(t, r);
  for (const f of dotted) if (Object.hasOwn(r, f)) o[f] = r[f];
  return o;
}

// ---------------------------------------------------------------------------------------------
// The main thread's side: projected batches held in a copy, by id.
// ---------------------------------------------------------------------------------------------

interface Held {
  /** The projections as the readers were given them (their handles index it). */
  records: Rec[];
  /** Readers that have not released the batch yet. */
  refs: number;
  /** Ask the copy for the whole records at these indexes (posted at once; resolves in order). */
  fetch(indexes: number[]): Promise<Rec[]>;
  /** Tell the copy it may drop the batch. */
  release(): void;
  /** Who holds it (a pool), to forget its batches when it closes. */
  owner: object;
}

const heldBatches = new Map<number, Held>();
let nextId = 1;

/** Give each projection of a batch its handle, and remember where the whole records are. */
export function hold(records: Rec[], readers: number, owner: object, fetch: Held['fetch'], release: Held['release']): void {
  const id = nextId++;
  const base = id * HANDLE_SPAN;
  for (let i = 0; i < records.length; i++) (records[i] as Record<symbol, unknown>)[HANDLE] = base + i;
  heldBatches.set(id, { records, refs: readers, fetch, release, owner });
}

/** Forget every batch an owner held (its copies stopped). */
export function forgetHeld(owner: object): void {
  for (const [id, h] of heldBatches) if (h.owner === owner) heldBatches.delete(id);
}

const handleOf = (r: Rec): number | undefined => (r as Record<symbol, number | undefined>)[HANDLE];

/** Some record of `records` is (a copy of) a projection. */
export function hasHandles(records: readonly Rec[]): boolean {
  for (let i = 0; i < records.length; i++) if (handleOf(records[i]!) !== undefined) return true;
  return false;
}

/**
 * A reader is done with a batch it was given: the batch's readers count down, and at zero the copy
 * may drop its records. Batches without handles (another input, records sent whole) are ignored.
 */
export function released(records: readonly Rec[]): void {
  const r0 = records[0];
  const h = r0 === undefined ? undefined : handleOf(r0);
  if (h === undefined) return;
  const id = Math.floor(h / HANDLE_SPAN);
  const held = heldBatches.get(id);
  if (held === undefined || --held.refs > 0) return;
  heldBatches.delete(id);
  held.release();
}

/**
 * The records a reader emitted on a `whole` port, each projection replaced by its whole record with
 * the fields the reader added or replaced on top; records without a handle are kept as they are.
 * The fetches are posted before this returns (so before the reader releases the batch).
 */
export function restore(records: readonly Rec[], node: string): Promise<Rec[]> {
  const byId = new Map<number, { held: Held; at: number[]; idx: number[] }>();
  for (let i = 0; i < records.length; i++) {
    const h = handleOf(records[i]!);
    if (h === undefined) continue;
    const id = Math.floor(h / HANDLE_SPAN);
    let g = byId.get(id);
    if (g === undefined) {
      const held = heldBatches.get(id);
      if (held === undefined)
        return Promise.reject(
          new RunError(
            'SLUICE_E_RUNTIME',
            node,
            'emitted an input record on a whole port after the batch that held it was processed (see ReadFields.whole: emit them from process)',
          ),
        );
      byId.set(id, (g = { held, at: [], idx: [] }));
    }
    g.at.push(i);
    g.idx.push(h - id * HANDLE_SPAN);
  }
  const jobs = [...byId.values()].map((g) => ({ g, whole: g.held.fetch(g.idx) }));
  return (async () => {
    const out = records.slice();
    for (const { g, whole } of jobs) {
      const recs = await whole;
      for (let j = 0; j < g.at.length; j++) out[g.at[j]!] = overlay(out[g.at[j]!]!, g.held.records[g.idx[j]!]!, recs[j]!);
    }
    return out;
  })();
}

/**
 * The whole records of a summarised batch (`summaryCarrier`), fetched back from the copy that holds
 * them, for a reader whose `merge` refused the summary.
 */
export function fetchSummarised(records: readonly Rec[], node: string): Promise<Rec[]> {
  const w = summaryOf(records);
  const h = w === undefined ? undefined : handleOf(records[0]!);
  const held = h === undefined ? undefined : heldBatches.get(Math.floor(h / HANDLE_SPAN));
  if (w === undefined || held === undefined)
    return Promise.reject(new RunError('SLUICE_E_RUNTIME', node, 'a summarised batch was refused after its records were released'));
  return held.fetch(Array.from({ length: w.n }, (_, i) => i));
}

/** `emitted` (the projection `proj`, or a shallow copy of it with fields added or replaced) made whole. */
export function overlay(emitted: Rec, proj: Rec, whole: Rec): Rec {
  if (emitted === proj) return whole;
  for (const k of Object.keys(emitted)) {
    const v = emitted[k];
    if (Object.hasOwn(proj, k) && v === proj[k]) continue;
    whole[k] = v;
  }
  return whole;
}

// ---------------------------------------------------------------------------------------------
// The projected wire form: a batch's projections as columns, made from the whole records directly
// (no projection objects in the copy) and rebuilt on the main thread by one generated literal.
// ---------------------------------------------------------------------------------------------

/**
 * Projections of a batch in columns: per record, the leaves of the field trie in order (tags,
 * numbers, strings by index into one table; a string repeated from the previous record at the same
 * leaf sent once), then its `origin` (a file's or a Kafka partition's in a few leaves, any other
 * cloned). Records whose projection does not fit (a value that is neither an object, `undefined`
 * nor `null` where a listed path goes on, or a key holding a dotted path itself) travel beside as
 * projection objects.
 */
export interface ProjectedWire {
  kind: 'projected';
  /** The fields (origin included), which decide the layout. */
  fields: string[];
  n: number;
  tags: Uint8Array;
  nums: Float64Array;
  refs: Uint32Array;
  strings: string[];
  extras: unknown[];
  irregular: Array<[number, Rec]>;
}

/** Leaf tags beyond wire.ts's `Leaf` (whose values 0–6 a projection's leaves share). */
const enum OriginLeaf {
  /** origin `{ file, line }`: a string and a number follow */
  File = 7,
  /** origin `{ topic, partition, offset }`: a string, a number, a string */
  Kafka = 8,
}

/** Where an encoder puts the leaves of the records it encodes. */
class Columns {
  tags: number[] = [];
  nums: number[] = [];
  refs: number[] = [];
  strings: string[] = [];
  extras: unknown[] = [];
  private last: Array<string | undefined> = [];
  private lastRef: number[] = [];
  pos = 0;

  str(s: string): void {
    const p = this.pos++;
    if (this.last[p] === s) {
      this.refs.push(this.lastRef[p]!);
      return;
    }
    const at = this.strings.push(s) - 1;
    this.last[p] = s;
    this.lastRef[p] = at;
    this.refs.push(at);
  }

  leaf(v: unknown): void {
    switch (typeof v) {
      case 'string':
        this.tags.push(Leaf.String);
        this.str(v);
        return;
      case 'number':
        this.tags.push(Leaf.Number);
        this.nums.push(v);
        this.pos++;
        return;
      case 'undefined':
        this.tags.push(Leaf.Undefined);
        this.pos++;
        return;
      case 'boolean':
        this.tags.push(v ? Leaf.True : Leaf.False);
        this.pos++;
        return;
      default:
        this.pos++;
        if (v === null) this.tags.push(Leaf.Null);
        else {
          this.tags.push(Leaf.Extra);
          this.extras.push(v);
        }
    }
  }

  none(n: number): void {
    for (let i = 0; i < n; i++) this.tags.push(Leaf.Undefined);
    this.pos += n;
  }

  origin(o: unknown): void {
    if (o !== null && typeof o === 'object') {
      const r = o as Rec;
      let k = 0;
      for (const _ in r) k++;
      if (k === 2 && typeof r.file === 'string' && typeof r.line === 'number') {
        this.tags.push(OriginLeaf.File);
        this.str(r.file);
        this.nums.push(r.line);
        return;
      }
      if (k === 3 && typeof r.topic === 'string' && typeof r.partition === 'number' && typeof r.offset === 'string') {
        this.tags.push(OriginLeaf.Kafka);
        this.str(r.topic);
        this.nums.push(r.partition);
        this.refs.push(this.strings.push(r.offset) - 1);
        return;
      }
    }
    this.leaf(o);
  }

  mark(): [number, number, number, number, number] {
    return [this.tags.length, this.nums.length, this.refs.length, this.strings.length, this.extras.length];
  }

  rollback(m: [number, number, number, number, number]): void {
    this.tags.length = m[0];
    this.nums.length = m[1];
    this.refs.length = m[2];
    this.strings.length = m[3];
    this.extras.length = m[4];
    this.last = [];
    this.lastRef = [];
  }
}

/** Puts one record's leaves into the columns; false when its projection does not fit the layout. */
type LeafWriter = (r: Rec, c: Columns) => boolean;
/** Reads one projection back from the columns. */
type LeafBuilder = (c: ColumnReader) => Rec;

/** The trie without `origin` (sent by its own leaf, last), and whether `origin` is listed at all. */
function layoutOf(fields: readonly string[]): Trie {
  const t = trieOf(fields);
  t.delete('origin');
  return t;
}

const countLeaves = (t: Trie): number => {
  let n = 0;
  for (const sub of t.values()) n += sub === true ? 1 : countLeaves(sub);
  return n;
};

function writerFor(fields: readonly string[]): LeafWriter {
  const t = layoutOf(fields);
  const dotted = fields.filter((f) => f.includes('.'));
  let vars = 0;
  const get = (src: string, k: string) =>
    OWN_ONLY(k) ? `(Object.hasOwn(${src}, ${JSON.stringify(k)}) ? ${src}[${JSON.stringify(k)}] : undefined)` : `${src}[${JSON.stringify(k)}]`;
  const body = (node: Trie, src: string): string => {
    let code = '';
    for (const [k, sub] of node) {
      if (sub === true) code += `c.leaf(${get(src, k)});\n`;
      else {
        const v = `v${vars++}`;
        code += `${v} = ${get(src, k)};\nif (${v} !== null && typeof ${v} === 'object' && !Array.isArray(${v})) {\n${body(sub, v)}} else if (${v} === undefined || ${v} === null) c.none(${countLeaves(sub)});\nelse return false;\n`;
      }
    }
    return code;
  };
  const main = body(t, 'r');
  const decl = vars ? `let ${Array.from({ length: vars }, (_, i) => `v${i}`).join(', ')};\n` : '';
  const flat = dotted.map((f) => `if (r[${JSON.stringify(f)}] !== undefined && Object.hasOwn(r, ${JSON.stringify(f)})) return false;\n`).join('');
  return new Function('r', 'c', `'use strict';\n${flat}${decl}${main}c.origin(r.origin);\nreturn true;`) as LeafWriter;
}

class ColumnReader {
  private t = 0;
  private n = 0;
  private s = 0;
  private x = 0;
  constructor(private readonly w: ProjectedWire) {}
  v(): unknown {
    const tag = this.w.tags[this.t++];
    switch (tag) {
      case Leaf.String:
        return this.w.strings[this.w.refs[this.s++]!];
      case Leaf.Number:
        return this.w.nums[this.n++];
      case Leaf.Undefined:
        return undefined;
      case Leaf.Null:
        return null;
      case Leaf.True:
        return true;
      case Leaf.False:
        return false;
      case OriginLeaf.File:
        return { file: this.w.strings[this.w.refs[this.s++]!], line: this.w.nums[this.n++] };
      case OriginLeaf.Kafka: {
        const topic = this.w.strings[this.w.refs[this.s++]!];
        const partition = this.w.nums[this.n++];
        return { topic, partition, offset: this.w.strings[this.w.refs[this.s++]!] };
      }
      default:
        return this.w.extras[this.x++];
    }
  }
}

function builderFor(fields: readonly string[]): LeafBuilder {
  const t = layoutOf(fields);
  const literal = (node: Trie): string => [...node].map(([k, sub]) => `${JSON.stringify(k)}: ${sub === true ? 'c.v()' : `{${literal(sub)}}`}`).join(', ');
  const inner = literal(t);
  return new Function('c', `'use strict';\nreturn {${inner}${inner ? ', ' : ''}"origin": c.v()};`) as LeafBuilder;
}

/** Encoders and builders by field list (the fields joined), in this thread. */
const writers = new Map<string, LeafWriter>();
const builders = new Map<string, LeafBuilder>();

/**
 * The projections of `records` on `fields` (which hold `origin`) in the projected wire form, or
 * undefined where code generation is refused (the caller then sends projection objects).
 */
export function encodeProjected(records: readonly Rec[], fields: string[]): ProjectedWire | undefined {
  const key = fields.join('\n');
  let write = writers.get(key);
  if (write === undefined) {
    try {
      write = writerFor(fields);
    } catch {
      return undefined;
    }
    writers.set(key, write);
  }
  const c = new Columns();
  const irregular: Array<[number, Rec]> = [];
  let project: Projector | undefined;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    c.pos = 0;
    const m = c.mark();
    if (write(r, c)) continue;
    // does not fit: its projection object travels beside, the record's leaves stand undefined
    c.rollback(m);
    project ??= projector(fields);
    irregular.push([i, project(r)]);
    c.none(countLeaves(layoutOf(fields)) + 1);
  }
  return {
    kind: 'projected',
    fields,
    n: records.length,
    tags: new Uint8Array(c.tags),
    nums: new Float64Array(c.nums),
    refs: new Uint32Array(c.refs),
    strings: c.strings,
    extras: c.extras,
    irregular,
  };
}

/** The projections of a projected wire batch. */
export function decodeProjected(w: ProjectedWire): Rec[] {
  const key = w.fields.join('\n');
  let build = builders.get(key);
  if (build === undefined) {
    try {
      build = builderFor(w.fields);
    } catch {
      const t = layoutOf(w.fields);
      const loop = (node: Trie, c: ColumnReader): Rec => {
        const o: Rec = {};
        for (const [k, sub] of node) o[k] = sub === true ? c.v() : loop(sub, c);
        return o;
      };
      build = (c) => {
        const o = loop(t, c);
        o.origin = c.v();
        return o;
      };
    }
    builders.set(key, build);
  }
  const c = new ColumnReader(w);
  const out: Rec[] = new Array(w.n);
  for (let i = 0; i < w.n; i++) out[i] = build(c);
  for (const [i, p] of w.irregular) out[i] = p;
  return out;
}

/** The memory of a projected batch to transfer. */
export function transferOfProjected(w: ProjectedWire): ArrayBuffer[] {
  return [w.tags.buffer, w.nums.buffer, w.refs.buffer] as ArrayBuffer[];
}
