/**
 * The per-record matcher. For each record it reads the configured fields once, normalises each
 * atom once (IP, host → label suffixes, URL → key), asks every feed store, drops allowlisted hits,
 * and returns enrichments. Nothing here allocates unless a field is present; nothing scans a feed.
 */
import { getPath, type Rec } from '../../../src/api.js';
import { type IpAtom, normaliseHost, normaliseUrl, parseIp, schemeEnd } from './normalise.js';
import { type Hit, type IndicatorStore, labelSuffixes } from './store.js';

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

/** An atom of the record, kept so allowlists can be asked about the same value. */
interface Atom {
  field: string;
  atomic: string;
  ip: IpAtom | null;
  suffixes: string[] | null;
  urlKey: string | null;
}

export class Matcher {
  constructor(private readonly fields: SweepFields) {}

  /** The atoms of one record, in field order; duplicates (same value in two fields) kept once. */
  atoms(rec: Rec): Atom[] {
    const out: Atom[] = [];
    const f = this.fields;
    for (let i = 0; i < f.ip.length; i++) {
      const v = getPath(rec, f.ip[i]!);
      if (typeof v !== 'string' || v.length === 0) continue;
      const ip = parseIp(v.trim());
      if (ip && !hasIp(out, ip)) out.push({ field: f.ip[i]!, atomic: v, ip, suffixes: null, urlKey: null });
    }
    for (let i = 0; i < f.host.length; i++) {
      const v = getPath(rec, f.host[i]!);
      if (typeof v !== 'string' || v.length === 0) continue;
      addHost(out, f.host[i]!, v, v);
    }
    for (let i = 0; i < f.url.length; i++) {
      const v = getPath(rec, f.url[i]!);
      if (typeof v !== 'string' || schemeEnd(v) < 0) continue; // CONNECT `host:443` is a host, not a URL
      const u = normaliseUrl(v);
      if (!u) continue;
      out.push({ field: f.url[i]!, atomic: v, ip: null, suffixes: null, urlKey: u.key });
      addHost(out, f.url[i]!, u.host, u.host); // the URL's host: IP literal or domain
    }
    return out;
  }

  /** Every indicator of `stores` that matches one of `atoms`, each indicator once. */
  match(atoms: Atom[], stores: readonly IndicatorStore[], out: Match[]): void {
    const tmp: Hit[] = [];
    for (let a = 0; a < atoms.length; a++) {
      const atom = atoms[a]!;
      for (let s = 0; s < stores.length; s++) {
        const st = stores[s]!;
        if (atom.ip) {
          if (atom.ip.v6 === null) { if (st.hasV4) st.matchV4(atom.ip.v4, tmp); }
          else if (st.hasV6) st.matchV6(atom.ip.v6, tmp);
        } else if (atom.suffixes) {
          if (st.hasDomains) st.matchDomain(atom.suffixes, tmp);
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
        addHost(hostAtoms, m.field, u.host, u.host);
        this.match(hostAtoms, allow, probe);
        if (probe.length > 0) return true;
      }
    }
    return false;
  }
}

function hasIp(atoms: Atom[], ip: IpAtom): boolean {
  for (const a of atoms) if (a.ip && a.ip.v4 === ip.v4 && a.ip.v6 === ip.v6) return true;
  return false;
}

function addHost(out: Atom[], field: string, raw: string, atomic: string): void {
  const h = normaliseHost(raw);
  if (!h) return;
  if (h.ip) {
    if (!hasIp(out, h.ip)) out.push({ field, atomic, ip: h.ip, suffixes: null, urlKey: null });
    return;
  }
  for (const a of out) if (a.suffixes && a.suffixes[0] === h.domain) return;
  out.push({ field, atomic, ip: null, suffixes: labelSuffixes(h.domain!), urlKey: null });
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
