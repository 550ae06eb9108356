/**
 * Batch summaries of the `window` analyser (API 1.8, `SummaryDef`): the half that runs in each
 * worker copy of the chain feeding the window. It reads a batch's records exactly as `process`
 * (index.ts) reads them, and pre-aggregates them per key and pane; the main-thread window merges
 * the summary (`merge`, index.ts) instead of reading the records.
 *
 * A summary stands for its batch only when no record of it would go to `late`, so the summariser
 * gives up (undefined: the batch goes to `process` whole) on a record without a parseable time, one
 * without a key field, and one late against its own batch: older than the greatest time seen
 * earlier in the batch from its partition minus `allowed_lateness`. Whether the batch is late
 * against what the window has seen before is for `merge` to judge, from each partition's least time.
 *
 * What it holds (`WindowSummary`), in columns so that it is cheap to structured-clone:
 * - the batch's partitions in the order of their first record: an origin that names each (the
 *   rule of `Watermarks.of`), and its least and greatest time;
 * - its keys in the order of their first record: id and key values;
 * - its panes (key, start) in the order of their first record — across keys, because the order in
 *   which `process` makes panes decides the order in which keys are filed to close, and so the
 *   order of windows that close together — each with its count, the numbers `Plan` keeps (present,
 *   n, sum, min, max per field), the ids of its distinct values (into the batch's table of values),
 *   and the raw lines of its first `samples` records.
 *
 * Raw lines are most of a summary's bytes, and the window keeps only a pane's first `samples`. So
 * the summariser remembers, per key, the latest pane whose lines it sent in a summary and how many
 * (`held`, at most `samples`); a later summary sends at most `samples − held` lines of that pane,
 * and when that left a line out it lists the pane in `omitted` with `held`. The window needs no
 * more lines of the batch than that when its pane holds at least `held` — which `merge` checks (a
 * pane dropped since, by a spill, or one whose lines went late, may not): else it refuses the summary.
 */
import type { Origin, Rec } from '../../../src/api.js';
import { Plan, type AggSpec, type Pane } from './aggregates.js';
import { sizeOf } from './distinct.js';
import { SAMPLE_FIELD, durations, keyFields, keyIdOf } from './fields.js';
import { recordReader } from './record-reader.js';
import { gcd, type KeyId } from './state.js';
import { TimeReader } from './time.js';
import { partitionId } from './watermarks.js';

/** One batch, summarised (see the module comment). Every array is indexed as its comment says. */
export interface WindowSummary {
  /** Per partition: an origin naming it (`{topic, partition}`, `{file}`, or null). */
  origins: (Origin | null)[];
  /** Per partition p: its least time at 2p, its greatest at 2p + 1. */
  partTimes: Float64Array;
  /** Per key: its id in the window state. */
  keyIds: KeyId[];
  /**
   * Per key: its values, `nKeys` each (the key fields' values of its first record); undefined for
   * the one value of a key whose id is an IPv4 number, its text (`ipv4Text` of the id).
   */
  keyValues: unknown[];
  /** Per pane: the index of its key. */
  paneKey: Int32Array;
  /** Per pane: its start, its count, then the `Plan.slots` numbers it keeps (`2 + slots` each). */
  paneNums: Float64Array;
  /** Per pane and distinct field (`Plan.sets` each): where its ids end in `ids` (from the previous end). */
  idEnds: Int32Array;
  /** Ids of distinct values, into `values`. */
  ids: Int32Array;
  /** The batch's distinct values (an object as its JSON text, as `Plan.add` keeps it). */
  values: unknown[];
  /** Per pane: where its samples end in `samples` (from the previous end); empty without samples. */
  sampleEnds: Int32Array;
  /** Raw lines of the panes' first records. */
  samples: string[];
  /**
   * Pairs (pane, held): a pane some of whose raw lines were left out, and how many lines the
   * window's pane must hold already for the lines sent to be all it would keep.
   */
  omitted: Int32Array;
}

/** What `create` needs of the config (index.ts has the whole `WindowConfig`). */
export interface SummaryConfig {
  key: string | string[];
  time_field: string;
  size: string | number;
  slide?: string | number;
  allowed_lateness: string | number;
  aggregate: Record<string, AggSpec>;
  samples: number;
}

/** Keys whose sent lines a summariser remembers before it forgets them all. */
const SENT_MAX = 1 << 17;

/** A key of the batch being summarised. */
interface KeyEntry {
  index: number;
  /** Indices (into the batch's panes) of its panes. */
  panes: number[];
  /** The pane its last record went to. */
  last: number;
}

/** A partition of the batch being summarised. */
interface PartEntry {
  /** `partitionId` of its records' origin. */
  id: string;
  topic: string | undefined;
  partition: number | undefined;
  file: string | undefined;
  index: number;
  min: number;
  max: number;
}

export function createSummariser(config: SummaryConfig): { summarise(records: readonly Rec[]): WindowSummary | undefined } {
  const keys = keyFields(config);
  const nKeys = keys.length;
  const { size, slide, lateness } = durations(config);
  const paneMs = gcd(size, slide);
  const nSamples = config.samples;
  // One reader of every field, laid out as in `process` without a share: time, keys, fields, line.
  const fields = new Plan(config.aggregate).fields;
  const readFields = recordReader([config.time_field, ...keys, ...fields, ...(nSamples ? [SAMPLE_FIELD] : [])]);
  const AT_FIELDS = 1 + nKeys;
  const AT_ORIGINAL = AT_FIELDS + fields.length;
  const vals: unknown[] = new Array(AT_ORIGINAL + (nSamples ? 1 : 0)).fill(undefined);
  const times = new TimeReader();
  // Per key, the latest pane (its start) whose raw lines a summary carried, and how many it carried.
  const sent = new Map<KeyId, { start: number; count: number }>();

  return {
    summarise(records) {
      if (sent.size > SENT_MAX) sent.clear(); // forgetting only costs lines sent again
      // A plan of the batch's own: its panes, and its table of distinct values.
      const plan = new Plan(config.aggregate);
      const slots = plan.slots;
      const sets = plan.sets;
      const parts: PartEntry[] = [];
      const partIds = new Map<string, PartEntry>();
      const origins: (Origin | null)[] = [];
      const keyIds: KeyId[] = [];
      const keyValues: unknown[] = [];
      const keyIndex = new Map<KeyId, KeyEntry>();
      const panes: Pane[] = [];
      const paneKey: number[] = [];
      // per pane: lines of it sent before (see the module comment), and whether one was left out
      const held: number[] = [];
      const cut: boolean[] = [];
      const values: unknown[] = new Array(nKeys);
      let part: PartEntry | undefined;
      for (let r = 0; r < records.length; r++) {
        const rec = records[r]!;
        readFields(rec, vals);
        const t = times.read(vals[0]);
        if (Number.isNaN(t)) return undefined; // NO_TIMESTAMP
        const id = keyIdOf(vals, nKeys, values);
        if (id === undefined) return undefined; // MISSING_KEY
        // Records of one batch nearly always share their partition: look it up only when it changes.
        const o = rec.origin as Origin | null | undefined;
        if (part === undefined || !isOf(part, o)) {
          const pid = partitionId(o);
          let p = partIds.get(pid);
          if (p === undefined) {
            const named = originNaming(o);
            p = { id: pid, topic: named?.topic, partition: named?.partition, file: named?.file, index: parts.length, min: t, max: t };
            parts.push(p);
            partIds.set(pid, p);
            origins.push(named);
          }
          part = p;
        }
        if (t < part.max - lateness) return undefined; // LATE within the batch
        if (t > part.max) part.max = t;
        if (t < part.min) part.min = t;
        let k = keyIndex.get(id);
        if (k === undefined) {
          k = { index: keyIds.length, panes: [], last: -1 };
          keyIndex.set(id, k);
          keyIds.push(id);
          if (typeof id === 'number') keyValues.push(undefined);
          else for (let i = 0; i < nKeys; i++) keyValues.push(values[i]);
        }
        const start = Math.floor(t / paneMs) * paneMs;
        let pi = k.last;
        if (pi === -1 || panes[pi]!.start !== start) {
          pi = -1;
          for (let i = k.panes.length - 1; i >= 0; i--)
            if (panes[k.panes[i]!]!.start === start) {
              pi = k.panes[i]!;
              break;
            }
          if (pi === -1) {
            pi = panes.length;
            panes.push(plan.newPane(start));
            paneKey.push(k.index);
            if (nSamples) {
              const was = sent.get(id);
              held.push(was !== undefined && was.start === start ? Math.min(was.count, nSamples) : 0);
              cut.push(false);
            }
            k.panes.push(pi);
          }
          k.last = pi;
        }
        const pane = panes[pi]!;
        plan.add(pane, vals, AT_FIELDS);
        if (nSamples) {
          const original = vals[AT_ORIGINAL];
          if (typeof original === 'string') {
            const room = nSamples - held[pi]!;
            const n = pane.samples === null ? 0 : pane.samples.length;
            if (n >= room) {
              if (n < nSamples) cut[pi] = true;
            } else if (pane.samples === null) pane.samples = [original];
            else pane.samples.push(original);
          }
        }
      }
      if (nSamples)
        for (let i = 0; i < panes.length; i++) {
          const id = keyIds[paneKey[i]!]!;
          const start = panes[i]!.start;
          const n = panes[i]!.samples?.length ?? 0;
          const was = sent.get(id);
          if (n === 0) continue;
          if (was === undefined) sent.set(id, { start, count: n });
          else if (was.start === start) was.count += n;
          else if (was.start < start) {
            was.start = start;
            was.count = n;
          }
        }
      return columns(plan, parts, origins, keyIds, keyValues, panes, paneKey, slots, sets, nSamples > 0, held, cut);
    },
  };
}

/** Is `p` the partition of a record with origin `o`? (False may only mean: not sure.) */
function isOf(p: PartEntry, o: Origin | null | undefined): boolean {
  if (o === null || o === undefined || typeof o !== 'object') return p.id === '';
  const topic = o.topic;
  if (topic !== undefined) return p.topic === topic && p.partition === o.partition;
  const file = o.file;
  return file === undefined ? p.id === '' : p.file === file;
}

/** The smallest origin that names the partition of a record with origin `o` (`Watermarks.of`). */
function originNaming(o: unknown): Origin | null {
  if (o === null || o === undefined || typeof o !== 'object') return null;
  const { topic, partition, file } = o as Origin;
  if (topic !== undefined) return { topic, partition };
  return file === undefined ? null : { file };
}

function columns(
  plan: Plan,
  parts: readonly PartEntry[],
  origins: (Origin | null)[],
  keyIds: KeyId[],
  keyValues: unknown[],
  panes: readonly Pane[],
  paneKey: readonly number[],
  slots: number,
  sets: number,
  withSamples: boolean,
  held: readonly number[],
  cut: readonly boolean[],
): WindowSummary {
  const partTimes = new Float64Array(2 * parts.length);
  for (let p = 0; p < parts.length; p++) {
    partTimes[2 * p] = parts[p]!.min;
    partTimes[2 * p + 1] = parts[p]!.max;
  }
  const stride = 2 + slots;
  const paneNums = new Float64Array(panes.length * stride);
  const idEnds = new Int32Array(panes.length * sets);
  let nIds = 0;
  for (const p of panes) if (p.ids) for (const list of p.ids) nIds += sizeOf(list);
  const ids = new Int32Array(nIds);
  const sampleEnds = new Int32Array(withSamples ? panes.length : 0);
  const samples: string[] = [];
  let at = 0;
  for (let i = 0; i < panes.length; i++) {
    const p = panes[i]!;
    const b = i * stride;
    paneNums[b] = p.start;
    paneNums[b + 1] = p.count;
    if (p.nums) for (let s = 0; s < slots; s++) paneNums[b + 2 + s] = p.nums[s]!;
    if (p.ids)
      for (let si = 0; si < sets; si++) {
        for (const id of p.ids[si]!) ids[at++] = id;
        idEnds[i * sets + si] = at;
      }
    if (withSamples) {
      if (p.samples) for (const s of p.samples) samples.push(s);
      sampleEnds[i] = samples.length;
    }
  }
  const values: unknown[] = new Array(plan.valueIds.size);
  for (let v = 0; v < values.length; v++) values[v] = plan.valueIds.valueOf(v);
  const omitted: number[] = [];
  for (let i = 0; i < cut.length; i++) if (cut[i]) omitted.push(i, held[i]!);
  return {
    origins,
    partTimes,
    keyIds,
    keyValues,
    paneKey: Int32Array.from(paneKey),
    paneNums,
    idEnds,
    ids,
    values,
    sampleEnds,
    samples,
    omitted: Int32Array.from(omitted),
  };
}
