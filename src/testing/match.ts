/**
 * Comparing what a node emitted with what a test expects, and saying how they differ field by field.
 * Records are compared in their JSON form (what a sink writes: keys holding `undefined` are absent).
 *
 * - subset (the default): every field the expectation gives must be present and equal; nested
 *   mappings compare only their own keys, a dotted key (`rule.name`) reads the nested path (a key
 *   that exists literally with dots is read first, as `getPath` does), lists compare element by
 *   element and must have the same length;
 * - exact: the whole record must be equal; extra fields are differences too.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface FieldDiff {
  /** `threat.enrichments[0].indicator.provider`; empty for the record itself. */
  path: string;
  kind: 'differs' | 'missing' | 'unexpected';
  expected?: unknown;
  actual?: unknown;
}

const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const has = (o: object, k: string) => Object.hasOwn(o, k);

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** Read `key` of `obj`: the literal key first, then a dotted path through nested objects. */
function read(obj: Record<string, unknown>, key: string): { found: boolean; value?: unknown } {
  if (has(obj, key)) return { found: true, value: obj[key] };
  if (!key.includes('.')) return { found: false };
  let cur: unknown = obj;
  for (const part of key.split('.')) {
    if (!isObject(cur) || !has(cur, part)) return { found: false };
    cur = cur[part];
  }
  return { found: true, value: cur };
}

/** Differences between `expected` (the fields a test gives) and `actual` (a record, as JSON). */
export function subsetDiff(expected: unknown, actual: unknown, path = ''): FieldDiff[] {
  if (isObject(expected)) {
    if (!isObject(actual)) return [{ path, kind: 'differs', expected, actual }];
    const out: FieldDiff[] = [];
    for (const key of Object.keys(expected)) {
      const r = read(actual, key);
      const p = join(path, key);
      if (!r.found) out.push({ path: p, kind: 'missing', expected: expected[key] });
      else out.push(...subsetDiff(expected[key], r.value, p));
    }
    return out;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return [{ path, kind: 'differs', expected, actual }];
    return expected.flatMap((e, i) => subsetDiff(e, actual[i], join(path, i)));
  }
  return scalarEqual(expected, actual) ? [] : [{ path, kind: 'differs', expected, actual }];
}

/** Differences between two whole values: missing and unexpected keys as well as different ones. */
export function exactDiff(expected: unknown, actual: unknown, path = ''): FieldDiff[] {
  if (isObject(expected) && isObject(actual)) {
    const out: FieldDiff[] = [];
    for (const key of Object.keys(expected)) {
      const p = join(path, key);
      if (!has(actual, key)) out.push({ path: p, kind: 'missing', expected: expected[key] });
      else out.push(...exactDiff(expected[key], actual[key], p));
    }
    for (const key of Object.keys(actual)) if (!has(expected, key)) out.push({ path: join(path, key), kind: 'unexpected', actual: actual[key] });
    return out;
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const out: FieldDiff[] = [];
    const n = Math.max(expected.length, actual.length);
    for (let i = 0; i < n; i++) {
      const p = join(path, i);
      if (i >= actual.length) out.push({ path: p, kind: 'missing', expected: expected[i] });
      else if (i >= expected.length) out.push({ path: p, kind: 'unexpected', actual: actual[i] });
      else out.push(...exactDiff(expected[i], actual[i], p));
    }
    return out;
  }
  if (isObject(expected) || isObject(actual) || Array.isArray(expected) || Array.isArray(actual)) return [{ path, kind: 'differs', expected, actual }];
  return scalarEqual(expected, actual) ? [] : [{ path, kind: 'differs', expected, actual }];
}

function scalarEqual(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));
}

/** One expected record paired with the emitted record closest to it, and how they differ. */
export interface Pairing {
  /** Index in the expectation's list. */
  expected: number;
  /** Index among the emitted records, or -1 when none was left to compare with. */
  actual: number;
  diffs: FieldDiff[];
}

export interface ListMatch {
  /** Expected records that no emitted record matched (with the closest one left, and the diff). */
  unmatched: Pairing[];
  /** Emitted records that no expected record took (for `records:`, each is a failure). */
  unused: number[];
}

/**
 * Match expected records against emitted ones. Ordered: position by position. Unordered: each
 * expected record takes the first free emitted record that it matches; an expected record that
 * matches none is reported against the free record it differs from least (fewest fields), so
 * that the diff shows the near miss rather than an arbitrary record.
 */
export function matchList(expected: unknown[], actual: unknown[], opts: { exact: boolean; ordered: boolean }): ListMatch {
  const diff = opts.exact ? exactDiff : subsetDiff;
  const unmatched: Pairing[] = [];
  if (opts.ordered) {
    for (let i = 0; i < expected.length; i++) {
      if (i >= actual.length) unmatched.push({ expected: i, actual: -1, diffs: [] });
      else {
        const d = diff(expected[i], actual[i]);
        if (d.length) unmatched.push({ expected: i, actual: i, diffs: d });
      }
    }
    const unused: number[] = [];
    for (let j = expected.length; j < actual.length; j++) unused.push(j);
    return { unmatched, unused };
  }
  const used = new Array<boolean>(actual.length).fill(false);
  const misses: number[] = [];
  for (let i = 0; i < expected.length; i++) {
    let hit = -1;
    for (let j = 0; j < actual.length && hit === -1; j++) if (!used[j] && diff(expected[i], actual[j]).length === 0) hit = j;
    if (hit === -1) misses.push(i);
    else used[hit] = true;
  }
  for (const i of misses) {
    let best = -1;
    let bestDiffs: FieldDiff[] = [];
    for (let j = 0; j < actual.length; j++) {
      if (used[j]) continue;
      const d = diff(expected[i], actual[j]);
      if (best === -1 || d.length < bestDiffs.length) {
        best = j;
        bestDiffs = d;
      }
    }
    if (best !== -1) used[best] = true;
    unmatched.push({ expected: i, actual: best, diffs: bestDiffs });
  }
  const unused: number[] = [];
  for (let j = 0; j < actual.length; j++) if (!used[j]) unused.push(j);
  return { unmatched, unused };
}

/** A value on one line for a diff: JSON, cut at `max` characters. */
export function show(value: unknown, max = 160): string {
  if (value === undefined) return '(absent)';
  const s = JSON.stringify(value) ?? String(value);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
