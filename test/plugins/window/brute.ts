/**
 * A brute-force reference for the window analyser: decide lateness by replaying the records in
 * order, then put every accepted record into every window that contains it and aggregate directly.
 */
import type { Rec } from '../../../src/api.js';

export interface BruteOptions {
  size: number;
  slide: number;
  lateness: number;
  key: string;
}
export interface BruteWindow {
  key: string;
  start: number;
  end: number;
  requests: number;
  bytes: number;
  max_bytes: number | null;
  min_bytes: number | null;
  avg_bytes: number | null;
  hosts: number;
}

export function bruteForce(records: Rec[], o: BruteOptions): { windows: BruteWindow[]; late: Rec[] } {
  let maxT = -Infinity;
  const late: Rec[] = [];
  const accepted: Rec[] = [];
  for (const rec of records) {
    const t = typeof rec['@timestamp'] === 'string' ? Date.parse(rec['@timestamp']) : NaN;
    const k = rec.source?.ip;
    if (Number.isNaN(t) || k === undefined || k === null || t < maxT - o.lateness) {
      late.push(rec);
      continue;
    }
    maxT = Math.max(maxT, t);
    accepted.push(rec);
  }
  return { windows: aggregate(accepted, o), late };
}

/**
 * The same with a watermark per source partition (no partition idle): replay the batches in order;
 * a record is late when older than its partition's greatest event time minus the lateness, or older
 * than the closing watermark — the smallest partition watermark, taken after each batch (windows
 * close between batches), never moving back.
 */
export function bruteForcePartitioned(batches: Rec[][], o: BruteOptions, partOf: (r: Rec) => string): { windows: BruteWindow[]; late: Rec[] } {
  const maxT = new Map<string, number>();
  let closed = -Infinity;
  const late: Rec[] = [];
  const accepted: Rec[] = [];
  for (const batch of batches) {
    for (const rec of batch) {
      const t = typeof rec['@timestamp'] === 'string' ? Date.parse(rec['@timestamp']) : NaN;
      const k = rec.source?.ip;
      if (Number.isNaN(t) || k === undefined || k === null) {
        late.push(rec);
        continue;
      }
      const p = partOf(rec);
      const m = maxT.get(p) ?? -Infinity;
      if (t < m - o.lateness) {
        late.push(rec);
        continue;
      }
      maxT.set(p, Math.max(m, t));
      if (t < closed) {
        late.push(rec);
        continue;
      }
      accepted.push(rec);
    }
    if (maxT.size) closed = Math.max(closed, Math.min(...maxT.values()) - o.lateness);
  }
  return { windows: aggregate(accepted, o), late };
}

/** Put every record into every window [s, s + size) (s a multiple of slide) that contains it. */
function aggregate(records: Rec[], o: BruteOptions): BruteWindow[] {
  const groups = new Map<string, Rec[]>();
  for (const rec of records) {
    const t = Date.parse(rec['@timestamp']);
    const k = rec.source.ip;
    // Every window [s, s + size) with s a multiple of slide that contains t.
    for (let s = Math.floor(t / o.slide) * o.slide; s > t - o.size; s -= o.slide) {
      const g = `${k}|${s}`;
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g)!.push(rec);
    }
  }
  const windows: BruteWindow[] = [];
  for (const [g, recs] of groups) {
    const [key, s] = g.split('|') as [string, string];
    const nums = recs.map((r) => r.http?.response?.bytes).filter((b): b is number => typeof b === 'number');
    const hosts = new Set(recs.map((r) => r.url?.domain).filter((d) => d !== undefined && d !== null));
    windows.push({
      key,
      start: Number(s),
      end: Number(s) + o.size,
      requests: recs.length,
      bytes: nums.reduce((a, b) => a + b, 0),
      max_bytes: nums.length ? Math.max(...nums) : null,
      min_bytes: nums.length ? Math.min(...nums) : null,
      avg_bytes: nums.length ? nums.reduce((a, b) => a + b, 0) / nums.length : null,
      hosts: hosts.size,
    });
  }
  return windows;
}

/** The window records emitted by the plugin, in the brute-force shape, sorted. */
export function normalise(ws: Rec[]): BruteWindow[] {
  return ws
    .map((w) => ({
      key: w.source.ip,
      start: Date.parse(w.window.start),
      end: Date.parse(w.window.end),
      requests: w.requests,
      bytes: w.bytes,
      max_bytes: w.max_bytes,
      min_bytes: w.min_bytes,
      avg_bytes: w.avg_bytes,
      hosts: w.hosts,
    }))
    .sort(byKeyStart);
}

export function byKeyStart(a: BruteWindow, b: BruteWindow): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : a.start - b.start;
}

export const AGGREGATE = {
  requests: 'count',
  bytes: { sum: 'http.response.bytes' },
  max_bytes: { max: 'http.response.bytes' },
  min_bytes: { min: 'http.response.bytes' },
  avg_bytes: { avg: 'http.response.bytes' },
  hosts: { distinct: 'url.domain' },
};
