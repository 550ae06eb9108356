/** Shared shapes of the feed loaders. */
import type { Meta, TypeHint } from '../store.js';
import type { IndicatorStoreBuilder } from '../store-builder.js';

export type FeedFormat = 'auto' | 'list' | 'csv' | 'stix' | 'misp' | 'json';

/** Column / field names (or 0-based column indexes for CSV) to read per row. */
export interface ColumnMap {
  value?: string | number;
  type?: string | number;
  port?: string | number;
  first_seen?: string | number;
  last_seen?: string | number;
  tags?: string | number;
  description?: string | number;
  confidence?: string | number;
}

/** One feed (or allowlist entry) as configured under `with.feeds[]`. */
export interface FeedConfig {
  name: string;
  path?: string;
  url?: string;
  format: FeedFormat;
  exact: boolean;
  confidence?: number;
  tags?: string[];
  description?: string;
  refresh?: string;
  timeout: string;
  headers?: Record<string, string>;
  optional: boolean;
  columns?: ColumnMap;
  delimiter?: string;
  header?: 'auto' | 'yes' | 'no';
  misp_types?: string[];
  /** WebHDFS connection for an `hdfs://` path (defaults: http://127.0.0.1:9870, 30 s per call). */
  hdfs?: { url?: string; user?: string; delegation_token?: string; timeout_ms?: number };
}

/** One unit of feed text: a file, an HTTP body, or one MISP event of a feed folder. */
export interface FeedInput {
  label: string;
  /** The text (UTF-8). */
  readonly text: string;
  /** The bytes, for a unit read from a file (over a SharedArrayBuffer: a loader thread reads them too). */
  readonly bytes?: Buffer;
}

/** A feed file read as bytes: the plain-list loader reads the bytes; other formats decode the text on first use. */
export class FileFeedInput implements FeedInput {
  private decoded: string | undefined;

  constructor(
    readonly label: string,
    readonly bytes: Buffer,
  ) {}

  get text(): string {
    this.decoded ??= this.bytes.toString('utf8');
    return this.decoded;
  }
}

export interface SkipSample {
  reason: string;
  where: string;
  value: string;
}

/**
 * Counts rows of one feed load. A "row" is a line of a list/CSV, a JSON record, a STIX indicator
 * object or a MISP attribute; a row with several values (STIX `OR`, MISP `domain|ip`) counts each
 * value it could not use.
 */
export class Tally {
  rows = 0;
  skipped = 0;
  readonly reasons: Record<string, number> = {};
  /** Objects that are not indicators at all (STIX identities, relationships...): ignored, not skipped. */
  ignored = 0;
  readonly samples: SkipSample[] = [];

  skip(reason: string, where: string, value: unknown): void {
    this.skipped++;
    this.reasons[reason] = (this.reasons[reason] ?? 0) + 1;
    if (this.samples.length < 10) this.samples.push({ reason, where, value: String(value).slice(0, 200) });
  }
}

/** What every loader receives. */
export interface LoadContext {
  store: IndicatorStoreBuilder;
  feed: FeedConfig;
  tally: Tally;
  /** The feed-level Meta (shared by rows without metadata of their own). */
  base: Meta;
  /** Epoch ms used to decide STIX expiry. */
  now: number;
  /** The earliest time after `now` at which this load would come out differently (a STIX validity bound); Infinity: never. */
  stableUntil: number;
}

/** Map a feed's own type label (CSV `Type`, ThreatFox `ioc_type`, MISP type) to a store hint; null = unsupported. */
export function hintForType(t: string): TypeHint | null {
  switch (t.trim().toLowerCase()) {
    case '':
      return 'auto';
    case 'ip':
    case 'ipv4':
    case 'ipv6':
    case 'ipv4-addr':
    case 'ipv6-addr':
    case 'ip-dst':
    case 'ip-src':
    case 'ipaddress':
    case 'ip address':
    case 'ip_address':
    case 'ip-address':
    case 'cidr':
    case 'netblock':
    case 'ip-range':
      return 'ip';
    case 'ip:port':
    case 'ip-port':
    case 'ip-dst|port':
    case 'ip-src|port':
      return 'ip-port';
    case 'domain':
    case 'domainname':
    case 'domain-name':
    case 'hostname':
    case 'host':
    case 'fqdn':
      return 'domain';
    case 'url':
    case 'uri':
    case 'link':
      return 'url';
    default:
      return null;
  }
}

/** Split a tags cell: arrays kept, strings split on commas; `None`/`null`/empty dropped. */
export function toTags(v: unknown): string[] | undefined {
  let parts: unknown[];
  if (Array.isArray(v)) parts = v;
  else if (typeof v === 'string') parts = v.split(',');
  else return undefined;
  const out: string[] = [];
  for (const p of parts) {
    if (typeof p !== 'string') continue;
    const t = p.trim();
    if (t.length > 0 && t !== 'None' && t !== 'null' && t !== '-') out.push(t);
  }
  return out.length ? out : undefined;
}

/** A non-empty trimmed string, or undefined (`None`, `null`, `-` are placeholders). */
export function cell(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  const s = String(v).trim();
  return s.length === 0 || s === 'None' || s === 'null' || s === '-' ? undefined : s;
}

/** Merge feed-level and row-level metadata into one shared Meta. */
export function rowMeta(
  ctx: LoadContext,
  row: { first_seen?: string; last_seen?: string; tags?: string[]; description?: string; confidence?: number; port?: number },
): Meta {
  const b = ctx.base;
  if (
    row.first_seen === undefined &&
    row.last_seen === undefined &&
    row.tags === undefined &&
    row.description === undefined &&
    row.confidence === undefined &&
    row.port === undefined
  )
    return b;
  const tags = row.tags ? (b.tags ? [...b.tags, ...row.tags] : row.tags) : b.tags;
  return ctx.store.meta({
    exact: b.exact,
    confidence: row.confidence ?? b.confidence,
    tags,
    description: row.description ?? b.description,
    first_seen: row.first_seen,
    last_seen: row.last_seen,
    port: row.port,
  });
}

/** Parse a confidence cell: numbers 0–100, or High/Medium/Low. */
export function toConfidence(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.max(0, Math.min(100, v));
  const s = cell(v);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (Number.isFinite(n)) return Math.max(0, Math.min(100, n));
  switch (s.toLowerCase()) {
    case 'high':
      return 85;
    case 'medium':
      return 50;
    case 'low':
      return 15;
    default:
      return undefined;
  }
}

/** Header names recognised per role when `columns:` does not say (lower-cased, first match wins). */
export const COLUMN_CANDIDATES: Required<{ [K in keyof ColumnMap]: string[] }> = {
  value: ['ioc', 'indicator', 'value', 'url', 'dst_ip', 'ip_address', 'ipaddress', 'ip', 'domain', 'domainname', 'hostname', 'host', 'observable'],
  type: ['ioc_type', 'indicatortype', 'indicator_type', 'type'],
  port: ['dst_port', 'port'],
  first_seen: ['first_seen_utc', 'first_seen', 'firstseen', 'dateadded', 'date_added'],
  last_seen: ['last_online', 'last_seen', 'lastseen'],
  tags: ['tags'],
  description: ['malware', 'malware_printable', 'threat', 'description'],
  confidence: ['confidence', 'confidence_level'],
};
