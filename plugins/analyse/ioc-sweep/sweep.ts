/**
 * The per-record matcher. For each record it reads the configured fields once, normalises each
 * atom once (IP, host → label suffixes, URL → key), asks every feed store, drops allowlisted hits,
 * and returns enrichments. Nothing here allocates unless a field is present; nothing scans a feed.
 */
import { getPath, type Rec } from '../../../src/api.js';
import { type IpAtom, fastUrlHost, fastUrlKey, isNormalHost, normaliseHost, normaliseUrl, parseIPv4, parseIp, schemeEnd } from './normalise.js';
import type { Hit, IndicatorStore } from './store.js';

export interface SweepFields {
  ip: readonly string[];
  host: readonly string[];
  url: readonly string[];
}

export interface Match {
  hit: Hit;
  field: string;
  atomic: string;
}

export interface Enrichment {
  indicator: {
    type: string;
    value: string;
    provider: string;
    confidence?: number;
    description?: string;
    first_seen?: string;
    last_seen?: string;
    tags?: readonly string[];
    port?: number;
  };
  matched: { field: string; atomic: string; type: 'indicator_match_rule' };
}

/**
 * An atom of the record, kept so allowlists can be asked about the same value. Exactly one of
 * `ip` (an address), `domain` (a normalised host name) and `urlKey` (a normalised URL) is set.
 */
export interface Atom {
  field: string;
  atomic: string;
  ip: IpAtom | null;
  domain: string | null;
  urlKey: string | null;
}

type Getter = (rec: Rec) => unknown;
const hasOwn = Object.prototype.hasOwnProperty;

/**
 * `getPath(rec, path)` for one fixed path, with the path split once: the flat key first, then the
 * nested walk (own properties only), exactly as `getPath` does.
 */
export function compileGetter(path: string): Getter {
  const keys = path.split('.');
  if (keys.length === 1) return (rec) => (hasOwn.call(rec, path) ? rec[path] : undefined);
  if (keys.length === 2) {
    const a = keys[0]!;
    const b = keys[1]!;
    return (rec) => {
      if (hasOwn.call(rec, path)) return rec[path];
      if (!hasOwn.call(rec, a)) return undefined;
      const x = rec[a];
      if (x === null || typeof x !== 'object' || !hasOwn.call(x, b)) return undefined;
      return x[b];
    };
  }
  return (rec) => getPath(rec, path);
}

interface CompiledField { name: string; get: Getter }

const compile = (paths: readonly string[]): CompiledField[] => paths.map((name) => ({ name, get: compileGetter(name) }));

export class Matcher {
  private readonly ipFields: CompiledField[];
  private readonly hostFields: CompiledField[];
  private readonly urlFields: CompiledField[];
  /** The atoms of the record being swept: one array and its Atom objects, reused record after record. */
  private readonly scratch: Atom[] = [];
  private readonly pool: Atom[] = [];
  private readonly tmp: Hit[] = [];

  constructor(fields: SweepFields) {
    this.ipFields = compile(fields.ip);
    this.hostFields = compile(fields.host);
    this.urlFields = compile(fields.url);
  }

  /**
   * The atoms of one record, in field order; duplicates (same value in two fields) kept once.
   * The array and its atoms are reused by the next call: read them before asking again.
   */
  atoms(rec: Rec): Atom[] {
    const out = this.scratch;
    out.length = 0;
    const pool = this.pool;
    const ipf = this.ipFields;
    for (let i = 0; i < ipf.length; i++) {
      const v = ipf[i]!.get(rec);
      if (typeof v !== 'string' || v.length === 0) continue;
      const n = parseIPv4(v);
      const ip = n >= 0 ? null : parseIp(v.trim());
      if (n >= 0 ? hasV4(out, n) : ip === null || hasIp(out, ip)) continue;
      const a = take(pool, out);
      a.field = ipf[i]!.name;
      a.atomic = v;
      a.ip = n >= 0 ? { v4: n, v6: null } : ip;
    }
    const hf = this.hostFields;
    for (let i = 0; i < hf.length; i++) {
      const v = hf[i]!.get(rec);
      if (typeof v !== 'string' || v.length === 0) continue;
      addHost(pool, out, hf[i]!.name, v, v);
    }
    const uf = this.urlFields;
    for (let i = 0; i < uf.length; i++) {
      const v = uf[i]!.get(rec);
      if (typeof v !== 'string' || schemeEnd(v) < 0) continue; // CONNECT `host:443` is a host, not a URL
      // the same text in two URL fields (url.full is url.original when already normal): its hits
      // would all be duplicates of the first field's, so it is swept once
      if (i > 0 && hasUrlText(out, v)) continue;
      let key = fastUrlKey(v);
      let host = fastUrlHost;
      if (key === null) {
        const u = normaliseUrl(v);
        if (!u) continue;
        key = u.key;
        host = u.host;
      }
      const a = take(pool, out);
      a.field = uf[i]!.name;
      a.atomic = v;
      a.urlKey = key;
      addHost(pool, out, uf[i]!.name, host, host); // the URL's host: IP literal or domain
    }
    return out;
  }

  /** Every indicator of `stores` that matches one of `atoms`, each indicator once. */
  match(atoms: Atom[], stores: readonly IndicatorStore[], out: Match[]): void {
    const tmp = this.tmp;
    tmp.length = 0;
    for (let a = 0; a < atoms.length; a++) {
      const atom = atoms[a]!;
      for (let s = 0; s < stores.length; s++) {
        const st = stores[s]!;
        if (atom.ip) {
          if (atom.ip.v6 === null) { if (st.hasV4) st.matchV4(atom.ip.v4, tmp); }
          else if (st.hasV6) st.matchV6(atom.ip.v6, tmp);
        } else if (atom.domain !== null) {
          if (st.hasDomains) st.matchHost(atom.domain, tmp);
        } else if (atom.urlKey !== null && st.hasUrls) st.matchUrl(atom.urlKey, tmp);
      }
      for (let h = 0; h < tmp.length; h++) {
        const hit = tmp[h]!;
        if (!seen(out, hit)) out.push({ hit, field: atom.field, atomic: atom.atomic });
      }
      tmp.length = 0;
    }
  }

  /** True when the allowlist covers this match: its atom, or (URL hits) the URL's host. */
  allowlisted(m: Match, atoms: Atom[], allow: readonly IndicatorStore[]): boolean {
    if (allow.length === 0) return false;
    const probe: Match[] = [];
    for (const atom of atoms) {
      if (atom.field !== m.field || atom.atomic !== m.atomic) continue;
      this.match([atom], allow, probe);
      if (probe.length > 0) return true;
    }
    if (m.hit.type === 'url') {
      // Allowlisting a host covers the URLs on it.
      const u = normaliseUrl(m.atomic);
      if (u) {
        const hostAtoms: Atom[] = [];
        addHost([], hostAtoms, m.field, u.host, u.host);
        this.match(hostAtoms, allow, probe);
        if (probe.length > 0) return true;
      }
    }
    return false;
  }
}

/** The next atom: reused from `pool` (fields cleared) and appended to `out`. */
function take(pool: Atom[], out: Atom[]): Atom {
  const k = out.length;
  let a = pool[k];
  if (a === undefined) {
    a = { field: '', atomic: '', ip: null, domain: null, urlKey: null };
    pool[k] = a;
  } else {
    a.ip = null;
    a.domain = null;
    a.urlKey = null;
  }
  out.push(a);
  return a;
}

function hasV4(atoms: Atom[], v4: number): boolean {
  for (let i = 0; i < atoms.length; i++) {
    const ip = atoms[i]!.ip;
    if (ip !== null && ip.v6 === null && ip.v4 === v4) return true;
  }
  return false;
}

function hasIp(atoms: Atom[], ip: IpAtom): boolean {
  for (let i = 0; i < atoms.length; i++) {
    const a = atoms[i]!.ip;
    if (a !== null && a.v4 === ip.v4 && a.v6 === ip.v6) return true;
  }
  return false;
}

function hasUrlText(atoms: Atom[], text: string): boolean {
  for (let i = 0; i < atoms.length; i++) if (atoms[i]!.urlKey !== null && atoms[i]!.atomic === text) return true;
  return false;
}

function hasDomain(atoms: Atom[], d: string): boolean {
  for (let i = 0; i < atoms.length; i++) if (atoms[i]!.domain === d) return true;
  return false;
}

function addHost(pool: Atom[], out: Atom[], field: string, raw: string, atomic: string): void {
  if (isNormalHost(raw)) {
    // already normal (what proxy-log writes): an IPv4 address or the domain itself
    const n = parseIPv4(raw);
    if (n >= 0) {
      if (hasV4(out, n)) return;
      const a = take(pool, out);
      a.field = field;
      a.atomic = atomic;
      a.ip = { v4: n, v6: null };
      return;
    }
    if (hasDomain(out, raw)) return;
    const a = take(pool, out);
    a.field = field;
    a.atomic = atomic;
    a.domain = raw;
    return;
  }
  const h = normaliseHost(raw);
  if (!h) return;
  if (h.ip) {
    if (hasIp(out, h.ip)) return;
    const a = take(pool, out);
    a.field = field;
    a.atomic = atomic;
    a.ip = h.ip;
    return;
  }
  if (hasDomain(out, h.domain!)) return;
  const a = take(pool, out);
  a.field = field;
  a.atomic = atomic;
  a.domain = h.domain;
}

function seen(out: Match[], hit: Hit): boolean {
  for (let i = 0; i < out.length; i++) {
    const o = out[i]!.hit;
    if (o.meta === hit.meta && o.value === hit.value && o.type === hit.type) return true;
  }
  return false;
}

export function enrichment(m: Match): Enrichment {
  const meta = m.hit.meta;
  const indicator: Enrichment['indicator'] = { type: m.hit.type, value: m.hit.value, provider: meta.feed };
  if (meta.confidence !== undefined) indicator.confidence = meta.confidence;
  if (meta.description !== undefined) indicator.description = meta.description;
  if (meta.first_seen !== undefined) indicator.first_seen = meta.first_seen;
  if (meta.last_seen !== undefined) indicator.last_seen = meta.last_seen;
  if (meta.tags !== undefined) indicator.tags = [...meta.tags];
  if (meta.port !== undefined) indicator.port = meta.port;
  return { indicator, matched: { field: m.field, atomic: m.atomic, type: 'indicator_match_rule' } };
}

/** The alert for one record: a deep copy of the record plus ECS alert fields. */
export function buildAlert(rec: Rec, ruleName: string, matches: Match[]): Rec {
  const alert = structuredClone(rec);
  const ts = rec['@timestamp'];
  alert['@timestamp'] = typeof ts === 'string' ? ts : new Date().toISOString();
  const ev = alert.event && typeof alert.event === 'object' && !Array.isArray(alert.event) ? alert.event : {};
  alert.event = { ...ev, kind: 'alert', category: ['threat'], type: ['indicator'] };
  alert.rule = { name: ruleName };
  const threat = alert.threat && typeof alert.threat === 'object' && !Array.isArray(alert.threat) ? alert.threat : {};
  alert.threat = { ...threat, enrichments: matches.map(enrichment) };
  return alert;
}
