/**
 * JSON feeds: one document (object or array) or JSON lines. Each object is routed by shape:
 * STIX (bundle or indicator) → STIX rules; MISP event → MISP rules; anything else is a record
 * read through a field mapping (`columns:`, or common names: ThreatFox `ioc`/`ioc_type`,
 * URLhaus `url`, Feodo `ip_address`/`port`, ...). ThreatFox `ip:port` values split on the LAST
 * colon, so bracket-less IPv6 (`2a02:cf40:1::5:40669`) works.
 */
import { getPath } from '../../../../src/api.js';
import type { FeedInput, LoadContext } from './types.js';
import { cell, hintForType, rowMeta, toConfidence, toTags } from './types.js';
import { COLUMN_CANDIDATES } from './types.js';
import { loadStixObject } from './stix.js';
import { isMisp, loadMispDocument } from './misp.js';

function isStix(o: any): boolean {
  return o !== null && typeof o === 'object' && typeof o.type === 'string' && (o.type === 'bundle' || (typeof o.id === 'string' && o.id.includes('--')));
}

function pick(o: any, spec: string | number | undefined, candidates: readonly string[]): unknown {
  if (typeof spec === 'string') return getPath(o, spec);
  if (typeof spec === 'number') return undefined;
  for (const c of candidates) if (o[c] !== undefined && o[c] !== null) return o[c];
  return undefined;
}

const JSON_VALUE_CANDIDATES = ['ioc', 'ioc_value', 'indicator', 'value', 'url', 'ip_address', 'dst_ip', 'ip', 'domain', 'hostname', 'host', 'observable'];

export function loadJsonRecord(o: any, where: string, ctx: LoadContext, forced: 'stix' | 'misp' | null): void {
  const { tally, store, feed } = ctx;
  if (forced === 'stix' || (forced === null && isStix(o))) return loadStixObject(o, where, ctx);
  if (forced === 'misp' || (forced === null && isMisp(o))) return loadMispDocument(o, where, ctx);
  tally.rows++;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return tally.skip('NOT_AN_OBJECT', where, JSON.stringify(o));
  const cols = feed.columns ?? {};
  const raw = pick(o, cols.value, JSON_VALUE_CANDIDATES);
  const value = typeof raw === 'string' || typeof raw === 'number' ? cell(raw) : undefined;
  if (value === undefined) return tally.skip('EMPTY', where, JSON.stringify(o).slice(0, 120));
  const typeCell = pick(o, cols.type, COLUMN_CANDIDATES.type);
  const hint = typeof typeCell === 'string' ? hintForType(typeCell) : 'auto';
  if (hint === null) return tally.skip('UNSUPPORTED_TYPE', where, `${typeCell}: ${value}`);
  const portRaw = pick(o, cols.port, COLUMN_CANDIDATES.port);
  const port = typeof portRaw === 'number' || (typeof portRaw === 'string' && /^\d{1,5}$/.test(portRaw)) ? Number(portRaw) : undefined;
  const desc = pick(o, cols.description, COLUMN_CANDIDATES.description);
  const first = pick(o, cols.first_seen, COLUMN_CANDIDATES.first_seen);
  const last = pick(o, cols.last_seen, COLUMN_CANDIDATES.last_seen);
  const meta = rowMeta(ctx, {
    first_seen: cell(first),
    last_seen: cell(last),
    tags: toTags(pick(o, cols.tags, COLUMN_CANDIDATES.tags)),
    description: typeof desc === 'string' ? cell(desc) : undefined,
    confidence: toConfidence(pick(o, cols.confidence, COLUMN_CANDIDATES.confidence)),
    port: port !== undefined && port <= 65535 ? port : undefined,
  });
  const reason = store.add(value, hint, meta);
  if (reason !== null) tally.skip(reason, where, value);
}

/** Load a JSON document or JSON lines. `forced` pins the object shape (format stix / misp). */
export function loadJson(input: FeedInput, ctx: LoadContext, forced: 'stix' | 'misp' | null): void {
  const text = input.text.charCodeAt(0) === 0xfeff ? input.text.slice(1) : input.text;
  let doc: unknown;
  let whole = true;
  try {
    doc = JSON.parse(text);
  } catch {
    whole = false;
  }
  if (whole) {
    if (Array.isArray(doc) && !(forced === 'misp')) {
      for (let k = 0; k < doc.length; k++) loadJsonRecord(doc[k], `${input.label}#${k}`, ctx, forced);
    } else loadJsonRecord(doc, input.label, ctx, forced);
    return;
  }
  let start = 0;
  let lineNo = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line.length === 0 || line.charCodeAt(0) === 35) continue;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      ctx.tally.rows++;
      ctx.tally.skip('BAD_JSON', `${input.label}:${lineNo}`, line);
      continue;
    }
    loadJsonRecord(o, `${input.label}:${lineNo}`, ctx, forced);
  }
}
