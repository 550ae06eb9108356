/**
 * MISP events: `{"Event": {...}}` (feed and export format), a bare event (`{"Attribute": [...]}`),
 * a REST search answer (`{"response": [{"Event": ...}]}`) or an array of those. Attributes of the
 * event and of its Objects are read; only `to_ids` attributes that are not deleted become
 * indicators. Composite types are split: `ip-dst|port` → address (port kept as metadata),
 * `domain|ip` → both, `hostname|port` → host.
 */
import type { TypeHint } from '../store.js';
import type { LoadContext } from './types.js';
import { cell, rowMeta } from './types.js';

/** MISP attribute types read by default, and how. */
export const MISP_TYPES: Record<string, TypeHint | 'domain|ip'> = {
  'ip-dst': 'ip',
  'ip-src': 'ip',
  'ip-dst|port': 'ip-port',
  'ip-src|port': 'ip-port',
  domain: 'domain',
  hostname: 'domain',
  'hostname|port': 'domain',
  'domain|ip': 'domain|ip',
  url: 'url',
};

function isTrue(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || v === 'true';
}

function tagNames(tags: unknown): string[] | undefined {
  if (!Array.isArray(tags)) return undefined;
  const out: string[] = [];
  for (const t of tags) if (t && typeof t.name === 'string') out.push(t.name);
  return out.length ? out : undefined;
}

/** True when `o` looks like MISP (an event wrapper, a bare event, or a search answer). */
export function isMisp(o: any): boolean {
  return (
    o !== null &&
    typeof o === 'object' &&
    !Array.isArray(o) &&
    ((o.Event && typeof o.Event === 'object') || Array.isArray(o.Attribute) || Array.isArray(o.response))
  );
}

export function loadMispDocument(doc: any, where: string, ctx: LoadContext): void {
  if (Array.isArray(doc)) {
    for (let k = 0; k < doc.length; k++) loadMispDocument(doc[k], `${where}#${k}`, ctx);
    return;
  }
  if (doc && Array.isArray(doc.response)) return loadMispDocument(doc.response, where, ctx);
  if (doc?.__unreadable && typeof doc.__unreadable.reason === 'string') {
    // A unit of a MISP feed folder that could not be read (see feeds/index.ts).
    ctx.tally.rows++;
    ctx.tally.skip(doc.__unreadable.reason, where, doc.__unreadable.message);
    return;
  }
  const ev = doc && typeof doc === 'object' ? (doc.Event && typeof doc.Event === 'object' ? doc.Event : doc) : null;
  if (!ev || (!Array.isArray(ev.Attribute) && !Array.isArray(ev.Object))) {
    ctx.tally.rows++;
    ctx.tally.skip('NOT_A_MISP_EVENT', where, JSON.stringify(doc).slice(0, 120));
    return;
  }
  const evTags = tagNames(ev.Tag);
  const evInfo = cell(ev.info);
  const evDate = cell(ev.date);
  const attrs: any[] = Array.isArray(ev.Attribute) ? [...ev.Attribute] : [];
  if (Array.isArray(ev.Object)) for (const ob of ev.Object) if (ob && Array.isArray(ob.Attribute)) attrs.push(...ob.Attribute);
  const types = ctx.feed.misp_types ? new Set(ctx.feed.misp_types) : null;
  for (let k = 0; k < attrs.length; k++) loadAttribute(attrs[k], `${where} attribute ${k}`, ctx, types, evTags, evInfo, evDate);
}

function loadAttribute(
  a: any,
  where: string,
  ctx: LoadContext,
  types: Set<string> | null,
  evTags: string[] | undefined,
  evInfo: string | undefined,
  evDate: string | undefined,
): void {
  const { tally, store } = ctx;
  tally.rows++;
  if (!a || typeof a !== 'object' || typeof a.value !== 'string') return tally.skip('BAD_ATTRIBUTE', where, JSON.stringify(a)?.slice(0, 120));
  const type = String(a.type ?? '');
  const shown = `${type}: ${a.value}`;
  if (isTrue(a.deleted)) return tally.skip('DELETED', where, shown);
  if (!isTrue(a.to_ids)) return tally.skip('NOT_TO_IDS', where, shown);
  const how = MISP_TYPES[type];
  if (how === undefined || (types && !types.has(type))) return tally.skip('UNSUPPORTED_TYPE', where, shown);
  const attrTags = tagNames(a.Tag);
  const tags = evTags && attrTags ? [...evTags, ...attrTags] : (attrTags ?? evTags);
  const comment = cell(a.comment);
  const base = {
    tags,
    description: comment && evInfo ? `${evInfo} — ${comment}` : (comment ?? evInfo),
    first_seen: cell(a.first_seen) ?? evDate,
    last_seen: cell(a.last_seen),
  };
  const value: string = a.value;
  if (how === 'domain|ip') {
    const bar = value.indexOf('|');
    if (bar < 0) return tally.skip('BAD_ATTRIBUTE', where, shown);
    const meta = rowMeta(ctx, base);
    const r1 = store.add(value.slice(0, bar), 'domain', meta);
    if (r1 !== null) tally.skip(r1, where, shown);
    const r2 = store.add(value.slice(bar + 1), 'ip', meta);
    if (r2 !== null) tally.skip(r2, where, shown);
    return;
  }
  let v = value;
  let port: number | undefined;
  const bar = value.indexOf('|');
  if (bar >= 0) {
    if (how !== 'ip-port' && type !== 'hostname|port') return tally.skip('BAD_ATTRIBUTE', where, shown);
    v = value.slice(0, bar);
    const p = Number(value.slice(bar + 1));
    if (!Number.isInteger(p) || p < 0 || p > 65535) return tally.skip('BAD_IP', where, shown);
    port = p;
  }
  const reason = store.add(v, how === 'ip-port' ? 'ip' : how, rowMeta(ctx, { ...base, port }));
  if (reason !== null) tally.skip(reason, where, shown);
}
