/**
 * Pure parts of the `hdfs` sink: path templates (event-time escapes and record fields), the
 * sanitiser that keeps record values inside the base directory, and file names that carry the
 * source stream and position range of the records inside (and their parsing back).
 */
import { createHash } from 'node:crypto';
import { getPath, type Rec } from '../../../src/api.js';

/** Time escapes understood in templates (Flume's subset that makes sense for partitions). */
export const TIME_ESCAPES: Readonly<Record<string, string>> = {
  Y: 'year, 4 digits',
  y: 'year, 2 digits',
  m: 'month 01–12',
  d: 'day of month 01–31',
  H: 'hour 00–23',
  M: 'minute 00–59',
  S: 'second 00–59',
  j: 'day of year 001–366',
  s: 'seconds since the epoch',
};

export type TemplatePart = { kind: 'lit'; text: string } | { kind: 'time'; spec: string } | { kind: 'field'; path: string };

export interface TemplateSegment {
  parts: TemplatePart[];
  hasTime: boolean;
  /** `key=` when the segment starts with a literal `key=` (Hive style), for missing values. */
  hiveKey: string | undefined;
}

export interface CompiledTemplate {
  /** The leading directories without placeholders: nothing a record holds can leave it. */
  base: string;
  /** The segments after the base (at least one placeholder in the first). */
  segments: TemplateSegment[];
  usesTime: boolean;
  fields: string[];
}

export class TemplateError extends Error {}

const FIELD_PATH = /^[A-Za-z_@][A-Za-z0-9_@.-]*$/;

/** Parse one segment of a template. */
function parseSegment(seg: string, template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let lit = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c !== '%') {
      lit += c;
      continue;
    }
    const n = seg[i + 1];
    if (n === undefined) throw new TemplateError(`'${template}': a lone '%' at the end of a segment (write %% for a percent sign)`);
    if (n === '%') {
      lit += '%';
      i++;
      continue;
    }
    if (n === '{') {
      const close = seg.indexOf('}', i + 2);
      if (close === -1) throw new TemplateError(`'${template}': '%{' without its '}'`);
      const path = seg.slice(i + 2, close);
      if (!FIELD_PATH.test(path) || path.split('.').some((k) => k === '' || k === '__proto__' || k === 'constructor' || k === 'prototype')) {
        throw new TemplateError(`'${template}': '%{${path}}' is not a record field path (like %{destination.domain})`);
      }
      if (lit) parts.push({ kind: 'lit', text: lit });
      lit = '';
      parts.push({ kind: 'field', path });
      i = close;
      continue;
    }
    if (!(n in TIME_ESCAPES)) {
      throw new TemplateError(
        `'${template}': unknown escape '%${n}' (time: ${Object.keys(TIME_ESCAPES)
          .map((k) => '%' + k)
          .join(' ')}; a record field: %{field.path}; a percent sign: %%)`,
      );
    }
    if (lit) parts.push({ kind: 'lit', text: lit });
    lit = '';
    parts.push({ kind: 'time', spec: n });
    i++;
  }
  if (lit) parts.push({ kind: 'lit', text: lit });
  return parts;
}

/** The characters a path segment may hold literally (also what the sanitiser keeps). */
const SAFE_SEGMENT = /^[A-Za-z0-9._=+,@~%-]+$/;

/**
 * Compile a directory template such as `/data/proxy/dt=%Y-%m-%d/hour=%H/` or
 * `/flume/%{observer.hostname}/%Y%m%d`. Absolute; no `.`/`..` segments; literal text from a small
 * safe set of characters.
 */
export function compileTemplate(template: string): CompiledTemplate {
  if (!template.startsWith('/')) throw new TemplateError(`'${template}': the path must be absolute (start with '/')`);
  const raw = template.split('/').filter((s) => s !== '');
  const staticSegs: string[] = [];
  const segments: TemplateSegment[] = [];
  const fields: string[] = [];
  let usesTime = false;
  for (const seg of raw) {
    if (seg === '.' || seg === '..') throw new TemplateError(`'${template}': '.' and '..' segments are not allowed`);
    const parts = parseSegment(seg, template);
    for (const p of parts) {
      if (p.kind === 'lit' && !SAFE_SEGMENT.test(p.text)) {
        throw new TemplateError(`'${template}': '${p.text}' holds characters outside [A-Za-z0-9._=+,@~%-]`);
      }
    }
    const dynamic = parts.some((p) => p.kind !== 'lit');
    if (!dynamic && segments.length === 0) {
      staticSegs.push(seg.replace(/%%/g, '%'));
      continue;
    }
    const hasTime = parts.some((p) => p.kind === 'time');
    usesTime ||= hasTime;
    for (const p of parts) if (p.kind === 'field') fields.push(p.path);
    const first = parts[0];
    const m = first?.kind === 'lit' ? /^([A-Za-z0-9_.-]+=)/.exec(first.text) : null;
    segments.push({ parts, hasTime, hiveKey: m ? m[1] : undefined });
  }
  return { base: '/' + staticSegs.join('/'), segments, usesTime, fields };
}

/** The UTC calendar fields of a time, as the escapes print them. */
export interface TimeParts {
  Y: string;
  y: string;
  m: string;
  d: string;
  H: string;
  M: string;
  S: string;
  j: string;
  s: string;
}

const pad2 = (n: number) => (n < 10 ? '0' + n : String(n));

function partsOfDate(t: number): TimeParts {
  const d = new Date(t);
  const Y = d.getUTCFullYear();
  const start = Date.UTC(Y, 0, 1);
  const day = Math.floor((t - start) / 86_400_000) + 1;
  return {
    Y: String(Y).padStart(4, '0'),
    y: pad2(Y % 100),
    m: pad2(d.getUTCMonth() + 1),
    d: pad2(d.getUTCDate()),
    H: pad2(d.getUTCHours()),
    M: pad2(d.getUTCMinutes()),
    S: pad2(d.getUTCSeconds()),
    j: String(day).padStart(3, '0'),
    s: String(Math.floor(t / 1000)),
  };
}

/**
 * Event time of a value: an ISO-8601 string (a string without a zone is taken as UTC), epoch
 * milliseconds or a Date. Undefined when there is none or it does not parse.
 */
export function timeOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.getTime();
  if (typeof v !== 'string' || v.length < 10) return undefined;
  let t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  // Date.parse takes a date-time without a zone as local time: read it as UTC.
  if (v.length > 10 && !/(?:Z|[+-]\d\d:?\d\d)$/i.test(v)) t = Date.parse(v + 'Z');
  return Number.isNaN(t) ? undefined : t;
}

const MAX_VALUE_CHARS = 100;

/**
 * A record value made safe for one path segment: characters outside [A-Za-z0-9._-] become `_`,
 * leading dots become `_` (no `.`/`..`, nothing hidden by a dot), at most 100 characters; when
 * anything was changed, `~` and 8 hex digits of the value's SHA-1 are added, so that two values
 * that differ stay apart (`a/b` and `a_b`). Empty values give `missing`.
 */
export function sanitiseValue(value: string, missing: string): string {
  if (value === '') return missing;
  let out = value.replace(/[^A-Za-z0-9._-]/g, '_');
  out = out.replace(/^\.+/, (dots) => '_'.repeat(dots.length));
  if (out.length > MAX_VALUE_CHARS) out = out.slice(0, MAX_VALUE_CHARS);
  if (out !== value) out += '~' + createHash('sha1').update(value).digest('hex').slice(0, 8);
  return out;
}

export interface ExpandOptions {
  timeField: string;
  /** Value written for a missing field or time (Hive's `__HIVE_DEFAULT_PARTITION__` by default). */
  missing: string;
}

export interface Expanded {
  dir: string;
  missingTime: boolean;
  missingFields: number;
}

/**
 * The directory of one record. Each field value fills its placeholder sanitised; when the time is
 * missing, a segment holding a time escape becomes `key=` + `missing` (Hive style) or `missing`.
 * The result always starts with the template's base directory.
 */
export class PathExpander {
  private lastTime: unknown = undefined;
  private lastParts: TimeParts | undefined;
  /** Whether the template's time escapes are all read from a UTC ISO string's first 13 characters. */
  private readonly hourly: boolean;
  private lastHour = '';

  constructor(
    readonly template: CompiledTemplate,
    private readonly opts: ExpandOptions,
  ) {
    this.hourly = template.segments.every((seg) => seg.parts.every((p) => p.kind !== 'time' || 'YymdH'.includes(p.spec)));
  }

  expand(rec: Rec): Expanded {
    const t = this.template;
    let dir = t.base === '/' ? '' : t.base;
    let parts: TimeParts | undefined;
    let missingTime = false;
    let missingFields = 0;
    if (t.usesTime) {
      const v = getPath(rec, this.opts.timeField);
      if (v === this.lastTime && v !== undefined) parts = this.lastParts;
      else if (
        this.hourly &&
        typeof v === 'string' &&
        v.length >= 20 &&
        v.charCodeAt(10) === 84 /* T */ &&
        v.charCodeAt(v.length - 1) === 90 /* Z */ &&
        this.lastParts !== undefined &&
        v.startsWith(this.lastHour)
      ) {
        // Same UTC hour as the last parsed time (logs are mostly in time order): the escapes used
        // read nothing finer, so its parts serve.
        parts = this.lastParts;
      } else {
        const ms = timeOf(v);
        parts = ms === undefined ? undefined : partsOfDate(ms);
        this.lastTime = v;
        this.lastParts = parts;
        this.lastHour =
          parts !== undefined && typeof v === 'string' && v.length >= 20 && v.charCodeAt(10) === 84 && v.charCodeAt(v.length - 1) === 90
            ? v.slice(0, 13)
            : '\u0000';
      }
      missingTime = parts === undefined;
    }
    for (const seg of t.segments) {
      let s = '';
      if (seg.hasTime && !parts) {
        s = (seg.hiveKey ?? '') + this.opts.missing;
      } else {
        for (const p of seg.parts) {
          if (p.kind === 'lit') s += p.text;
          else if (p.kind === 'time') s += parts![p.spec as keyof TimeParts];
          else {
            const v = getPath(rec, p.path);
            if (v === undefined || v === null || typeof v === 'object' || v === '') {
              missingFields++;
              s += this.opts.missing;
            } else s += sanitiseValue(String(v), this.opts.missing);
          }
        }
      }
      dir += '/' + s;
    }
    return { dir: dir || '/', missingTime, missingFields };
  }
}

/** Where a record came from, as a stream (file, topic partition) and a position in it. */
export interface StreamPos {
  /** File-name-safe label of the stream: `name~hash` for a file, `topic.partition` for Kafka. */
  label: string;
  pos: number;
}

const hash8 = (s: string) => createHash('sha1').update(s).digest('hex').slice(0, 8);
const labelCache = new Map<string, string>();

/** Characters a stream label keeps (`~` separates its parts). */
function labelPart(s: string, max: number): string {
  let out = s.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, (d) => '_'.repeat(d.length));
  if (out.length > max) out = out.slice(0, max);
  return out || '_';
}

/**
 * The stream and position of a record's origin: `{file, line}` (file and HDFS sources) or
 * `{topic, partition, offset}` (Kafka). `extra` values (configured fields) split a stream further.
 * Undefined when the record has no usable origin.
 */
export function streamOf(origin: unknown, extra: readonly unknown[] = []): StreamPos | undefined {
  if (!origin || typeof origin !== 'object') return undefined;
  const o = origin as { file?: unknown; line?: unknown; topic?: unknown; partition?: unknown; offset?: unknown };
  let label: string;
  let pos: number;
  if (typeof o.file === 'string' && typeof o.line === 'number' && Number.isSafeInteger(o.line) && o.line >= 0) {
    let l = labelCache.get(o.file);
    if (l === undefined) {
      const slash = o.file.lastIndexOf('/');
      l = `${labelPart(o.file.slice(slash + 1), 60)}~${hash8(o.file)}`;
      if (labelCache.size > 10_000) labelCache.clear();
      labelCache.set(o.file, l);
    }
    label = l;
    pos = o.line;
  } else if (
    typeof o.topic === 'string' &&
    (typeof o.partition === 'number' || typeof o.partition === 'string') &&
    (typeof o.offset === 'string' || typeof o.offset === 'number')
  ) {
    pos = Number(o.offset);
    if (!Number.isSafeInteger(pos) || pos < 0) return undefined;
    label = `${labelPart(o.topic, 80)}.${labelPart(String(o.partition), 10)}`;
  } else return undefined;
  for (const v of extra)
    label += '~' + (v === undefined || v === null || v === '' ? '_' : labelPart(typeof v === 'object' ? JSON.stringify(v) : String(v), 40));
  return { label, pos };
}

export interface FileNameParts {
  prefix: string;
  label: string;
  first: number;
  last: number;
  ext: string;
}

/** `prefix-label-first-last.ext`: the stream and the positions of the first and last record. */
export function fileName(p: FileNameParts): string {
  return `${p.prefix}-${p.label}-${p.first}-${p.last}${p.ext}`;
}

/** The stream and range a file name of this sink carries, or null for any other name. */
export function parseFileName(name: string, prefix: string, ext: string): { label: string; first: number; last: number } | null {
  if (!name.startsWith(prefix + '-') || !name.endsWith(ext)) return null;
  const mid = name.slice(prefix.length + 1, name.length - ext.length);
  const m = /^(.+)-(\d{1,16})-(\d{1,16})$/.exec(mid);
  if (!m) return null;
  const first = Number(m[2]);
  const last = Number(m[3]);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || first > last) return null;
  return { label: m[1]!, first, last };
}

/** The temporary name a file is written under before its rename (hidden from readers). */
export function tempName(final: string): string {
  return `_tmp.${final}`;
}

/** Ranges per stream found in one directory; answers whether a position is already archived there. */
export class ArchivedRanges {
  private readonly byLabel = new Map<string, { ranges: Array<[number, number]>; maxEnd: number[] }>();

  add(label: string, first: number, last: number): void {
    let e = this.byLabel.get(label);
    if (!e) this.byLabel.set(label, (e = { ranges: [], maxEnd: [] }));
    e.ranges.push([first, last]);
  }

  /** Sort once all files were added (ranges of earlier runs may overlap). */
  seal(): void {
    for (const e of this.byLabel.values()) {
      e.ranges.sort((a, b) => a[0] - b[0]);
      let max = -1;
      e.maxEnd = e.ranges.map((r) => (max = Math.max(max, r[1])));
    }
  }

  /** Whether some range of the stream holds `pos`. */
  has(label: string, pos: number): boolean {
    const e = this.byLabel.get(label);
    if (!e) return false;
    // The last range starting at or before pos; some range up to it ends at or after pos?
    let lo = 0;
    let hi = e.ranges.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (e.ranges[mid]![0] <= pos) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && e.maxEnd[found]! >= pos;
  }

  get size(): number {
    let n = 0;
    for (const e of this.byLabel.values()) n += e.ranges.length;
    return n;
  }
}

/** One CSV field (RFC 4180 quoting); objects as JSON text. */
export function csvField(v: unknown, delimiter: string): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (s.includes(delimiter) || s.includes('"') || s.includes('\n') || s.includes('\r') || s !== s.trim()) return '"' + s.replace(/"/g, '""') + '"';
  return s;
}
