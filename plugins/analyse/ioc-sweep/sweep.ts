/**
 * The per-record matcher. For each record it reads the configured fields once and looks each value
 * up as it reads it (`Matcher.sweep`): almost every record matches nothing, and is answered from
 * caches of the hosts and addresses seen lately without building anything. A record that may match
 * is split into atoms, each normalised once (IP, host → label suffixes, URL → key) and asked of
 * every feed store; allowlisted hits are dropped, and enrichments returned. Nothing here allocates
 * for a record that matches nothing; nothing scans a feed.
 */
import { copyRecord, spanText, textHash, type LineSpans, type Rec } from '../../../src/api.js';
import { FieldReader } from './field-reader.js';
import { type IpAtom, parseHost, normaliseUrl, parseIPv4, parseIp, schemeEnd } from './normalise.js';
import { HOST_DIGITS, HOST_NORMAL, HOST_NUMERIC_TLD, HOST_UNDERSCORE, HOST_XN, Suffixes, hostSuffixes } from './flat.js';
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
 * `ip` (an address), `domain` (a normalised host name) and URL (`url`: a URL, whose normalised
 * key `urlKey` is computed on demand) is set.
 */
export interface Atom {
  field: string;
  atomic: string;
  ip: IpAtom | null;
  domain: string | null;
  /** The normalised URL; null until computed for a `url` atom (see `urlPending`), and for other atoms. */
  urlKey: string | null;
  /** A URL atom (its text is `atomic`). */
  url?: boolean;
  /**
   * A URL atom whose key is not computed yet: it is computed the first time a store's URL gate
   * admits `urlHostHash` (the `hashRange` of the URL's host), so a URL on a host without URL
   * indicators is never normalised.
   */
  urlPending?: boolean;
  urlHostHash?: number;
  /** A domain atom's label suffixes, hashed once for every store (null: the store hashes them). */
  suf?: Suffixes | null;
  /** A domain atom's entry in the host memo (null: not memoised). */
  host?: HostInfo | null;
}

/**
 * What the matcher remembers of a host name it has read (logs repeat their hosts: a few thousand
 * names make most of a day's traffic): its `hostSuffixes` flags and hashes, its IPv4 value when it is
 * a dotted quad, and whether its domain lookups (and URL gates) found nothing in a given set of
 * stores. Entries are never changed once made except `missFor` and `urlMissFor`, which only ever
 * name the current stores array.
 */
export interface HostInfo {
  /** `hostSuffixes` flags. */
  readonly flags: number;
  /** The IPv4 address the host is (normal, digits and dots, a dotted quad), or -1. */
  readonly v4: number;
  /** The label suffixes (a domain host only). */
  readonly suf: Suffixes | null;
  /** The stores array in which every domain lookup of this host missed, or null. */
  missFor: readonly IndicatorStore[] | null;
  /**
   * The stores array whose URL gates all refused this host (no URL indicator on it), or null; set by
   * `sweep`'s miss path only.
   */
  urlMissFor: readonly IndicatorStore[] | null;
  /**
   * The IP field value of the last record whose first host field this host was ('' none), and its
   * entry in the IP cache; set by `sweep`'s miss path only.
   */
  lastIp: string;
  lastIpInfo: IpInfo | null;
  /** `lastIp`'s bytes (`asciiBytes`), for `missSpans`. */
  lastIpBytes: Uint8Array;
  /**
   * The stores array in which `lastIpInfo` needs no lookup (not an address, or every lookup of it
   * missed there), or null: set by `sweepSpans`'s miss path once it knows, cleared whenever the
   * last IP changes, so that a host's usual address is answered without reading its entry.
   */
  lastIpMissFor: readonly IndicatorStore[] | null;
  /**
   * Whether a URL on this host is read as the host itself (`hostSuffixes` flags normal, no `_`,
   * no `xn--`, not numeric, and label suffixes), and then the hash of its whole name (the URL gates').
   */
  readonly urlHost: boolean;
  readonly urlHash: number;
}

/** A host entry (the host cache's and the host memo's) from its `hostSuffixes` flags, IPv4 value and suffixes. */
function newHostInfo(flags: number, v4: number, suf: Suffixes | null): HostInfo {
  const urlHost = (flags & URL_HOST_FLAGS) === HOST_NORMAL && suf !== null && suf.n > 0;
  return {
    flags,
    v4,
    suf,
    missFor: null,
    urlMissFor: null,
    lastIp: '',
    lastIpInfo: null,
    lastIpBytes: NO_BYTES,
    lastIpMissFor: null,
    urlHost,
    urlHash: urlHost ? suf.hash[suf.n - 1]! : 0,
  };
}

/** `hostSuffixes` flags of a host the URL fast path reads as itself: normal, no `_`, no `xn--`, not numeric. */
const URL_HOST_FLAGS = HOST_NORMAL | HOST_UNDERSCORE | HOST_XN | HOST_NUMERIC_TLD;

/** Hosts kept in a matcher's memo before it starts over. */
const HOST_MEMO_MAX = 16384;
/** IP field values kept in a matcher's memo before it starts over. */
const IP_MEMO_MAX = 4096;

/** Slots of a matcher's host and IP caches (`hostInfo`, `ipInfo`; powers of two). */
const HOST_CACHE_SLOTS = 16384;
const IP_CACHE_SLOTS = 8192;

/** What `missFast` remembers of an IP field's value: the address it reads as, and the stores it missed in. */
interface IpInfo {
  /** The value, as the cache keeps it (a flat copy). */
  readonly text: string;
  /** Its bytes (`asciiBytes`). */
  readonly bytes: Uint8Array;
  /** `parseIp` of the trimmed value (null: not an address, no atom). */
  readonly ip: IpAtom | null;
  /** The stores array in which every lookup of this address missed, or null. */
  missFor: readonly IndicatorStore[] | null;
}

/**
 * A small cache from record values (host names, addresses) to what the matcher learnt of them:
 * two-way set-associative, indexed by `textHash`, the text compared with `===`. Record values are
 * fresh strings, most of them slices that V8 keeps as views of their line, whose hash V8 has not
 * computed: a `Map` computes and compares such a key in the runtime, at several times the cost of
 * this loop and one `===`. A collision only evicts; what is found is always the entry of exactly
 * this text.
 */
export class TextCache<T> {
  readonly keys: string[];
  /** Each key's bytes when it is ASCII (`asciiBytes`), for `findSpan`: a byte is compared with a byte, not a string's character. */
  private readonly keyBytes: Uint8Array[];
  readonly values: (T | null)[];
  private readonly mask: number;

  constructor(slots: number) {
    this.keys = new Array<string>(slots).fill('');
    this.keyBytes = new Array<Uint8Array>(slots).fill(NO_BYTES);
    this.values = new Array<T | null>(slots).fill(null);
    this.mask = slots - 2;
  }

  /** The slot holding the text of `bytes[from, to)` (non-empty, ASCII) whose `spanHash` is `hash`, or -1. */
  findSpan(bytes: Uint8Array, from: number, to: number, hash: number): number {
    const slot = hash & this.mask;
    const kb = this.keyBytes;
    if (bytesAre(bytes, from, to, kb[slot]!)) return slot;
    // one `slot + 1` for the test and the answer: an operation first run at the first second-way hit
    // would be compiled without type feedback, and that hit would throw the optimised caller away
    const second = slot + 1;
    return bytesAre(bytes, from, to, kb[second]!) ? second : -1;
  }

  /** The slot holding `v` (non-empty), or -1. */
  find(v: string): number {
    const slot = textHash(v) & this.mask;
    const keys = this.keys;
    if (keys[slot] === v) return slot;
    const second = slot + 1; // see findSpan
    return keys[second] === v ? second : -1;
  }

  /**
   * Remember `v` (not there yet) with `value`: it takes the first way, whose entry moves to the
   * second. `key` is the text kept (a flat copy of `v` unless given).
   */
  add(v: string, value: T, key = flatCopy(v)): void {
    const slot = textHash(v) & this.mask;
    const keys = this.keys;
    const kb = this.keyBytes;
    const values = this.values;
    keys[slot + 1] = keys[slot]!;
    kb[slot + 1] = kb[slot]!;
    values[slot + 1] = values[slot]!;
    keys[slot] = key;
    kb[slot] = asciiBytes(key);
    values[slot] = value;
  }
}

/** No bytes: what `asciiBytes` gives a text that is not ASCII (no span of an ASCII line equals it; the empty span is never asked). */
const NO_BYTES = new Uint8Array(0);

/** The bytes of an ASCII text (its character codes), or `NO_BYTES` when it is not ASCII. */
export function asciiBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return NO_BYTES;
    b[i] = c;
  }
  return b;
}

/** Are `bytes[from, to)` exactly the bytes `key`? */
function bytesAre(bytes: Uint8Array, from: number, to: number, key: Uint8Array): boolean {
  const n = to - from;
  if (key.length !== n) return false;
  for (let i = 0; i < n; i++) if (bytes[from + i] !== key[i]) return false;
  return true;
}

// The caches are indexed by the plugin API's `textHash` (FNV-1a of every character, murmur3's
// finaliser), so that a host a line probe hashed as it read it (`spanHash` of its bytes) finds its
// entry. Sampling a few characters instead was measured ≈ 5–10% cheaper per record, but names that
// differ in one unsampled place (`cdn100.`…`cdn109.`, `web-01.`…`web-99.`) then share a set and evict
// each other on every record, each time costing a host pass, an allocation and the domain probes again.
export { textHash };

/**
 * Whether the address of an IP field (`info`, its cache entry) matches no IP or CIDR indicator of
 * `stores`, its hits appended to `tmp` otherwise; a miss is remembered in `info.missFor`. A value that
 * is no address misses. `missFast` and `missSpans` ask it of each IP field.
 */
function addressMisses(info: IpInfo, stores: readonly IndicatorStore[], tmp: Hit[]): boolean {
  const ip = info.ip;
  if (ip === null || info.missFor === stores) return true;
  if (ip.v6 === null) {
    if (v4Hits(ip.v4, stores, tmp)) return false;
  } else {
    for (let s = 0; s < stores.length; s++) {
      const st = stores[s]!;
      if (st.hasV6) st.matchV6(ip.v6, tmp);
    }
    if (tmp.length > 0) return false;
  }
  info.missFor = stores;
  return true;
}

/**
 * Whether the host `v` (a domain; `info` its cache entry) matches no domain indicator of `stores`,
 * its hits appended to `tmp` otherwise; a miss is remembered in `info.missFor`. `missFast` and
 * `missSpans` ask it of each host field.
 */
function domainsMiss(v: string, info: HostInfo, stores: readonly IndicatorStore[], tmp: Hit[]): boolean {
  const suf = info.suf;
  for (let s = 0; s < stores.length; s++) {
    const st = stores[s]!;
    if (!st.hasDomains) continue;
    if (suf && suf.n >= 0) st.matchSuffixes(v, suf, tmp);
    else st.matchHost(v, tmp);
  }
  if (tmp.length > 0) return false;
  info.missFor = stores;
  return true;
}

/** The atoms the matcher pools: an Atom with its own reusable buffers. */
interface PooledAtom extends Atom {
  host: HostInfo | null;
  ipBuf: IpAtom;
  sufBuf: Suffixes;
  /** A domain atom's `hostSuffixes` flags. */
  hostFlags: number;
}

export class Matcher {
  /** The configured fields in order: ip fields, then host fields, then URL fields. */
  private readonly fields: FieldReader;
  private readonly nIp: number;
  private readonly nHost: number;
  /** The atoms of the record being swept: one array and its Atom objects, reused record after record. */
  private readonly scratch: PooledAtom[] = [];
  private readonly pool: PooledAtom[] = [];
  private readonly tmp: Hit[] = [];
  /** The label suffixes of the URL host being looked at. */
  private readonly urlSuf = new Suffixes();
  /** Host fields' values seen lately, for `missFast` (see HostInfo). */
  private readonly hostCache = new TextCache<HostInfo>(HOST_CACHE_SLOTS);
  /** IP fields' values seen lately, for `missFast` (see IpInfo). */
  private readonly ipCache = new TextCache<IpInfo>(IP_CACHE_SLOTS);
  /** `missFast`: the memo entry of each host field's value (a domain) in the record, by field index. */
  private readonly infos: (HostInfo | null)[];
  /** Host fields' values seen lately (see HostInfo). */
  private readonly hostMemo: HostMemo = new Map();
  /**
   * `parseIp(v.trim())` of IP fields' values seen lately (IPv6 parsing builds strings, and traffic
   * repeats its destinations). The atoms in it are shared: never mutated.
   */
  private readonly ipMemo = new Map<string, IpAtom | null>();

  /** The fields the matcher reads, as dotted paths (ip fields, then host fields, then URL fields). */
  get paths(): readonly string[] {
    return this.fields.names;
  }

  /** The host fields: the spans `sweepSpans` wants hashed (`spanHash`), for the host cache. */
  get hostPaths(): readonly string[] {
    return this.fields.names.slice(this.nIp, this.nIp + this.nHost);
  }

  constructor(fields: SweepFields) {
    this.fields = new FieldReader([...fields.ip, ...fields.host, ...fields.url]);
    this.nIp = fields.ip.length;
    this.nHost = fields.host.length;
    this.infos = new Array(this.fields.names.length).fill(null);
  }

  /**
   * Every indicator of `stores` that matches the record, appended to `out` (empty on entry), as
   * `match(atoms(rec), stores, out)` appends them. Returns the record's atoms (what `allowlisted`
   * asks about), or null when the record matched nothing: the common case is answered by looking
   * up each value as it is read (`missFast`), without building the atoms.
   */
  sweep(rec: Rec, stores: readonly IndicatorStore[], out: Match[]): Atom[] | null {
    const vals = this.fields.read(rec);
    if (this.missFast(vals, stores)) return null;
    const atoms = this.atomsOf(vals);
    if (atoms.length === 0) return null;
    this.match(atoms, stores, out);
    return out.length === 0 ? null : atoms;
  }

  /**
   * `sweep` of a record given as spans of its line (`LineSpans`, in `paths` order, the host
   * fields' spans hashed): the same answer, from the line in place (`missSpans`); only a record that
   * may match is cut into values, and goes through `atoms` + `match` as `sweep` takes it.
   */
  sweepSpans(bytes: Uint8Array, sp: LineSpans, stores: readonly IndicatorStore[], out: Match[]): Atom[] | null {
    if (this.missSpans(bytes, sp, stores)) return null;
    const n = this.fields.names.length;
    const vals: unknown[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const a = sp.start[k]!;
      vals[k] = a < 0 ? undefined : spanText(bytes, a, sp.end[k]!);
    }
    const atoms = this.atomsOf(vals);
    if (atoms.length === 0) return null;
    this.match(atoms, stores, out);
    return out.length === 0 ? null : atoms;
  }

  /**
   * `missFast` of the values `line[sp.start[k], sp.end[k])`, read in place: the same lookups, the
   * same caches, the same answer. Spans make two of its steps free: a value at the same place as an
   * earlier field's is the same text, and a URL whose host starts where a host field's span starts
   * spells that host.
   */
  private missSpans(bytes: Uint8Array, sp: LineSpans, stores: readonly IndicatorStore[]): boolean {
    const tmp = this.tmp;
    clear(tmp);
    const nIp = this.nIp;
    const hostEnd = nIp + this.nHost;
    const n = this.fields.names.length;
    const ss = sp.start;
    const se = sp.end;
    const infos = this.infos;
    let first: HostInfo | null = null;
    for (let i = nIp; i < hostEnd; i++) {
      infos[i] = null;
      const a = ss[i]!;
      const b = se[i]!;
      if (a < 0 || a === b || sameSpanAsEarlier(bytes, ss, se, nIp, i, a, b)) continue;
      const info = this.hostInfoAt(bytes, a, b, sp.hash[i]!);
      first ??= info;
      if ((info.flags & HOST_NORMAL) === 0) return false;
      if (info.v4 >= 0) {
        if (v4Hits(info.v4, stores, tmp)) return false;
        continue;
      }
      infos[i] = info;
      if (info.missFor === stores) continue;
      if (!domainsMiss(spanText(bytes, a, b), info, stores, tmp)) return false;
    }
    for (let i = 0; i < nIp; i++) {
      const a = ss[i]!;
      const b = se[i]!;
      if (a < 0 || a === b) continue;
      let info: IpInfo;
      if (first !== null && bytesAre(bytes, a, b, first.lastIpBytes)) {
        if (first.lastIpMissFor === stores) continue;
        info = first.lastIpInfo!;
      } else info = this.addressOf(spanText(bytes, a, b), first);
      if (!addressMisses(info, stores, tmp)) return false;
      if (first !== null && first.lastIpInfo === info) first.lastIpMissFor = stores;
    }
    for (let i = hostEnd; i < n; i++) {
      const a = ss[i]!;
      const b = se[i]!;
      if (a < 0 || sameSpanAsEarlier(bytes, ss, se, hostEnd, i, a, b)) continue;
      const hs = httpHostStartAt(bytes, a, b);
      if (hs < 0) {
        if (schemeEndAt(bytes, a, b) < 0) continue;
        return false;
      }
      let info: HostInfo | null = null;
      let he = 0;
      for (let k = nIp; k < hostEnd; k++) {
        const h = infos[k];
        if (h == null) continue;
        const da = ss[k]!;
        he = hs + se[k]! - da;
        if (he > b || (da !== hs && !sameBytes(bytes, da, hs, he - hs))) continue;
        const c = he < b ? bytes[he]! : 0;
        if (he === b || c === 58 || c === 47 || c === 63 || c === 35) {
          info = h;
          break;
        }
      }
      if (info === null || !info.urlHost) return false;
      if (he < b && bytes[he] === 58 && !plainPortBytes(bytes, he, b)) return false;
      if (info.urlMissFor === stores) continue;
      const hash = info.urlHash;
      for (let s = 0; s < stores.length; s++) {
        const st = stores[s]!;
        if (st.hasUrls && st.urlHostMayMatch(hash)) return false;
      }
      info.urlMissFor = stores;
    }
    return true;
  }

  /** `hostInfo` of the text of `bytes[from, to)`, whose `spanHash` is `hash`: a string made only when first seen. */
  private hostInfoAt(bytes: Uint8Array, from: number, to: number, hash: number): HostInfo {
    const cache = this.hostCache;
    const slot = cache.findSpan(bytes, from, to, hash);
    if (slot >= 0) return cache.values[slot]!;
    return this.hostInfo(spanText(bytes, from, to));
  }

  /**
   * True when the record whose field values are `vals` (`fields.read`) matches nothing in
   * `stores`; false when it may match or when its values are not all of the shapes this path
   * reads (the atoms then decide). It asks the stores every lookup `atoms` + `match` would ask,
   * or a broader one (a URL gate instead of the URL's key), so true is only ever said of a record
   * that `match` would find nothing for. Read here: IPv4/IPv6 address fields (through the IP
   * cache); host fields in normal form (through the host cache, which also remembers that a host's domain lookups and URL gates
   * all missed in these stores); `http(s)://` URLs whose host is the value of a host field
   * followed by the end, `/`, `?`, `#` or a plain port; values that are not URLs (no scheme).
   */
  private missFast(vals: unknown[], stores: readonly IndicatorStore[]): boolean {
    const tmp = this.tmp;
    clear(tmp);
    const nIp = this.nIp;
    const hostEnd = nIp + this.nHost;
    const infos = this.infos;
    let first: HostInfo | null = null;
    for (let i = nIp; i < hostEnd; i++) {
      infos[i] = null;
      const v = vals[i];
      if (typeof v !== 'string' || v.length === 0 || sameAsEarlier(vals, nIp, i, v)) continue;
      const info = this.hostInfo(v);
      first ??= info;
      if ((info.flags & HOST_NORMAL) === 0) return false;
      if (info.v4 >= 0) {
        if (v4Hits(info.v4, stores, tmp)) return false;
        continue;
      }
      infos[i] = info;
      if (info.missFor === stores) continue;
      if (!domainsMiss(v, info, stores, tmp)) return false;
    }
    // IP fields: a host is served from one address or a few, so the address the record's first
    // host had last time is compared first, without hashing it
    for (let i = 0; i < nIp; i++) {
      const v = vals[i];
      if (typeof v !== 'string' || v.length === 0) continue;
      let info: IpInfo;
      if (first !== null && first.lastIp === v) info = first.lastIpInfo!;
      else info = this.addressOf(v, first);
      if (!addressMisses(info, stores, tmp)) return false;
    }
    for (let i = hostEnd; i < vals.length; i++) {
      const v = vals[i];
      if (typeof v !== 'string' || sameAsEarlier(vals, hostEnd, i, v)) continue;
      const hs = httpHostStart(v);
      if (hs < 0) {
        if (schemeEnd(v) < 0) continue; // not a URL (CONNECT `host:443`): `atoms` skips it too
        return false;
      }
      // the URL's host is a host field's value (proxy-log writes both from the same text)
      let info: HostInfo | null = null;
      let he = 0;
      for (let k = nIp; k < hostEnd; k++) {
        const h = infos[k];
        if (h == null) continue;
        const d = vals[k] as string;
        // (`indexOf` reads a slice's characters in place: several times cheaper than `startsWith` here)
        if (v.indexOf(d, hs) !== hs) continue;
        he = hs + d.length;
        const c = he < v.length ? v.charCodeAt(he) : 0;
        if (he === v.length || c === 58 || c === 47 || c === 63 || c === 35) {
          info = h;
          break;
        }
      }
      if (info === null || (info.flags & URL_HOST_FLAGS) !== HOST_NORMAL || info.suf === null || info.suf.n <= 0) return false;
      if (he < v.length && v.charCodeAt(he) === 58 && !plainPort(v, he)) return false;
      if (info.urlMissFor === stores) continue;
      const hash = info.suf.hash[info.suf.n - 1]!;
      for (let s = 0; s < stores.length; s++) {
        const st = stores[s]!;
        if (st.hasUrls && st.urlHostMayMatch(hash)) return false;
      }
      info.urlMissFor = stores;
    }
    return true;
  }

  /** The host cache's entry for a host field's value (made on first sight). */
  private hostInfo(v: string): HostInfo {
    const cache = this.hostCache;
    const slot = cache.find(v);
    if (slot >= 0) return cache.values[slot]!;
    const suf = this.urlSuf;
    const f = hostSuffixes(v, 0, v.length, suf);
    const v4 = (f & HOST_NORMAL) !== 0 && (f & HOST_DIGITS) !== 0 ? parseIPv4(v) : -1;
    const info = newHostInfo(f, v4, (f & HOST_NORMAL) !== 0 && v4 < 0 ? suf.copy() : null);
    cache.add(v, info);
    return info;
  }

  /**
   * The IP cache's entry for an IP field's value `v`, remembered as the last address of `first` (the
   * record's first host, if any) so the next record of that host compares it before hashing.
   */
  private addressOf(v: string, first: HostInfo | null): IpInfo {
    const info = this.ipInfo(v);
    if (first !== null) {
      first.lastIp = info.text;
      first.lastIpBytes = info.bytes;
      first.lastIpInfo = info;
      first.lastIpMissFor = null;
    }
    return info;
  }

  /** The IP cache's entry for an IP field's value (made on first sight). */
  private ipInfo(v: string): IpInfo {
    const cache = this.ipCache;
    const slot = cache.find(v);
    if (slot >= 0) return cache.values[slot]!;
    const text = flatCopy(v);
    const info: IpInfo = { text, bytes: asciiBytes(text), ip: parseIp(v.trim()), missFor: null };
    cache.add(v, info, info.text);
    return info;
  }

  /**
   * The atoms of one record, in field order; duplicates (same value in two fields) kept once.
   * The array and its atoms are reused by the next call: read them before asking again.
   */
  atoms(rec: Rec): Atom[] {
    return this.atomsOf(this.fields.read(rec));
  }

  /** `atoms` of the field values `vals` (`fields.read`). */
  private atomsOf(vals: unknown[]): Atom[] {
    const out = this.scratch;
    clear(out);
    const pool = this.pool;
    const names = this.fields.names;
    const nIp = this.nIp;
    const hostEnd = nIp + this.nHost;
    for (let i = 0; i < nIp; i++) {
      const v = vals[i];
      if (typeof v !== 'string' || v.length === 0) continue;
      const n = parseIPv4(v);
      if (n >= 0) {
        if (!hasV4(out, n)) addV4(pool, out, names[i]!, v, n);
        continue;
      }
      const ip = this.parseIpMemo(v);
      if (ip === null || hasIp(out, ip)) continue;
      take(pool, out, names[i]!, v).ip = ip;
    }
    for (let i = nIp; i < hostEnd; i++) {
      const v = vals[i];
      if (typeof v !== 'string' || v.length === 0) continue;
      addHost(pool, out, names[i]!, v, v, this.hostMemo);
    }
    for (let i = hostEnd; i < vals.length; i++) {
      const v = vals[i];
      if (typeof v !== 'string') continue;
      // the same text in two URL fields (url.full is url.original when already normal): its hits
      // would all be duplicates of the first field's, so it is swept once
      if (i > hostEnd && hasUrlText(out, v)) continue;
      // (a URL the fast path takes starts with `http://` or `https://`: it has a scheme)
      if (this.plainUrl(pool, out, names[i]!, v)) continue;
      if (schemeEnd(v) < 0) continue; // CONNECT `host:443` is a host, not a URL
      const u = normaliseUrl(v);
      if (!u) continue;
      const a = take(pool, out, names[i]!, v);
      a.url = true;
      a.urlKey = u.key;
      addHost(pool, out, names[i]!, u.host, u.host); // the URL's host: IP literal or domain
    }
    return out;
  }

  private parseIpMemo(v: string): IpAtom | null {
    const memo = this.ipMemo;
    let ip = memo.get(v);
    if (ip !== undefined) return ip;
    ip = parseIp(v.trim());
    if (memo.size >= IP_MEMO_MAX) memo.clear();
    memo.set(v, ip);
    return ip;
  }

  /**
   * The fast path for `http(s)://host[:port]…` whose host is already normal: adds the URL atom with
   * its key pending and the host atom, and returns true; returns false (nothing added) for anything
   * whose host WHATWG might read otherwise — upper case, `xn--`, `_`, numbers that are not a dotted
   * quad, user-info, odd ports, `\`, `%`, spaces — which takes the general path.
   */
  private plainUrl(pool: PooledAtom[], out: Atom[], field: string, v: string): boolean {
    if (v.charCodeAt(0) !== 104 || v.charCodeAt(1) !== 116 || v.charCodeAt(2) !== 116 || v.charCodeAt(3) !== 112) return false;
    let hs = 4;
    if (v.charCodeAt(hs) === 115) hs++;
    if (v.charCodeAt(hs) !== 58 || v.charCodeAt(hs + 1) !== 47 || v.charCodeAt(hs + 2) !== 47) return false;
    hs += 3;
    const len = v.length;
    let he = hs;
    let c = 0;
    // a host field usually gave this host already: a domain atom (a normal host, so without
    // `:/?#`) that the URL spells right after `//`, up to a terminator, is where the scan would stop
    let same: PooledAtom | null = null;
    for (let k = 0; k < out.length; k++) {
      const d = out[k]!.domain;
      if (d === null || !v.startsWith(d, hs)) continue;
      const e = hs + d.length;
      c = e < len ? v.charCodeAt(e) : 0;
      if (e === len || c === 58 || c === 47 || c === 63 || c === 35) {
        same = out[k] as PooledAtom;
        he = e;
        break;
      }
    }
    if (same === null) {
      for (; he < len; he++) {
        c = v.charCodeAt(he);
        if (c === 58 || c === 47 || c === 63 || c === 35) break;
      }
    }
    if (he === hs) return false;
    if (he < len && c === 58 && !plainPort(v, he)) return false;
    // the host field's atom: reuse its flags and hashes
    let f: number;
    let suf: Suffixes;
    if (same?.suf) {
      f = same.hostFlags;
      suf = same.suf;
    } else {
      suf = this.urlSuf;
      f = hostSuffixes(v, hs, he, suf);
    }
    if ((f & HOST_NORMAL) === 0 || (f & (HOST_UNDERSCORE | HOST_XN)) !== 0) return false;
    let v4 = -1;
    if ((f & HOST_NUMERIC_TLD) !== 0) {
      // WHATWG reads a host ending in a number as IPv4: only a canonical dotted quad reads as itself
      if ((f & HOST_DIGITS) === 0) return false;
      v4 = parseIPv4(v.slice(hs, he));
      if (v4 < 0) return false;
    }
    const a = take(pool, out, field, v);
    a.url = true;
    a.urlPending = true;
    a.urlHostHash = suf.hash[suf.n - 1]!;
    // the URL's host, unless a host field already gave it
    if (same !== null) return true;
    if (v4 >= 0) {
      if (!hasV4(out, v4)) addV4(pool, out, field, v.slice(hs, he), v4);
      return true;
    }
    const host = v.slice(hs, he);
    const h = take(pool, out, field, host);
    h.domain = host;
    h.hostFlags = f;
    const hsuf = h.sufBuf;
    const n = suf.n;
    for (let k = 0; k < n; k++) {
      hsuf.start[k] = suf.start[k]! - hs;
      hsuf.hash[k] = suf.hash[k]!;
    }
    hsuf.n = n;
    h.suf = hsuf;
    return true;
  }

  /** Every indicator of `stores` that matches one of `atoms`, each indicator once. */
  match(atoms: Atom[], stores: readonly IndicatorStore[], out: Match[]): void {
    const tmp = this.tmp;
    clear(tmp);
    for (let a = 0; a < atoms.length; a++) {
      const atom = atoms[a]!;
      const host = atom.host;
      // a memoised host whose domain lookups all missed in these stores: nothing to ask again
      if (host != null && host.missFor === stores) continue;
      for (let s = 0; s < stores.length; s++) {
        const st = stores[s]!;
        if (atom.ip) {
          if (atom.ip.v6 === null) {
            if (st.hasV4) st.matchV4(atom.ip.v4, tmp);
          } else if (st.hasV6) st.matchV6(atom.ip.v6, tmp);
        } else if (atom.domain !== null) {
          if (st.hasDomains) {
            const suf = atom.suf;
            if (suf && suf.n >= 0) st.matchSuffixes(atom.domain, suf, tmp);
            else st.matchHost(atom.domain, tmp);
          }
        } else if (st.hasUrls) {
          if (atom.urlPending) {
            if (!st.urlHostMayMatch(atom.urlHostHash!)) continue;
            atom.urlPending = false;
            atom.urlKey = normaliseUrl(atom.atomic)?.key ?? null;
          }
          if (atom.urlKey !== null) st.matchUrl(atom.urlKey, tmp);
        }
      }
      if (tmp.length === 0) {
        if (host != null) host.missFor = stores;
        continue;
      }
      for (let h = 0; h < tmp.length; h++) {
        const hit = tmp[h]!;
        if (!seen(out, hit)) out.push({ hit, field: atom.field, atomic: atom.atomic });
      }
      clear(tmp);
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

/**
 * Empty a reused array. `a.length = 0` goes through V8's length setter, which also drops the
 * backing store (the next push allocates a new one); popping the few items keeps it.
 */
export function clear(a: unknown[]): void {
  while (a.length > 0) a.pop();
}

/** The next atom of `out` (taken from `pool`, fields cleared, then appended). */
function take(pool: PooledAtom[], out: Atom[], field: string, atomic: string): PooledAtom {
  const a = peek(pool, out.length);
  a.field = field;
  a.atomic = atomic;
  out.push(a);
  return a;
}

/** The atom `take` would return next, cleared, not appended yet (its buffers can be filled first). */
function peek(pool: PooledAtom[], k: number): PooledAtom {
  let a = pool[k];
  if (a === undefined) {
    a = {
      field: '',
      atomic: '',
      ip: null,
      domain: null,
      urlKey: null,
      url: false,
      urlPending: false,
      urlHostHash: 0,
      suf: null,
      host: null,
      ipBuf: { v4: -1, v6: null },
      sufBuf: new Suffixes(),
      hostFlags: 0,
    };
    pool[k] = a;
  } else {
    a.ip = null;
    a.domain = null;
    a.urlKey = null;
    a.url = false;
    a.urlPending = false;
    a.suf = null;
    a.host = null;
  }
  return a;
}

/**
 * A flat string with the text of `s`, for keeping: V8 makes a slice of 13 or more characters a view
 * of its parent (the whole line), which comparing then reads through and which keeps the line alive.
 * Shorter slices are copies already; very long values are kept as they are.
 */
function flatCopy(s: string): string {
  const len = s.length;
  if (len < 13 || len > 1024) return s;
  const codes: number[] = new Array<number>(len);
  for (let i = 0; i < len; i++) codes[i] = s.charCodeAt(i);
  return String.fromCharCode.apply(null, codes);
}

/** `matchV4` of every store into `tmp` (empty on entry): true when something matched (`tmp` then holds it). */
function v4Hits(n: number, stores: readonly IndicatorStore[], tmp: Hit[]): boolean {
  for (let s = 0; s < stores.length; s++) {
    const st = stores[s]!;
    if (st.hasV4) st.matchV4(n, tmp);
  }
  return tmp.length > 0;
}

/** True when `vals[from, i)` holds a string equal to `v`. */
function sameAsEarlier(vals: unknown[], from: number, i: number, v: string): boolean {
  for (let k = from; k < i; k++) if (vals[k] === v) return true;
  return false;
}

/** True when `spans[from, i)` holds a span whose text is that of `bytes[a, b)`. */
function sameSpanAsEarlier(bytes: Uint8Array, ss: Int32Array, se: Int32Array, from: number, i: number, a: number, b: number): boolean {
  for (let k = from; k < i; k++) {
    const ka = ss[k]!;
    if (ka >= 0 && se[k]! - ka === b - a && (ka === a || sameBytes(bytes, ka, a, b - a))) return true;
  }
  return false;
}

/** Are `bytes[p, p + len)` and `bytes[q, q + len)` the same? */
function sameBytes(bytes: Uint8Array, p: number, q: number, len: number): boolean {
  for (let k = 0; k < len; k++) if (bytes[p + k] !== bytes[q + k]) return false;
  return true;
}

/** `httpHostStart` of the value `bytes[a, b)`: where its host starts in `bytes`, or -1. */
function httpHostStartAt(bytes: Uint8Array, a: number, b: number): number {
  if (b - a < 7 || bytes[a] !== 104 || bytes[a + 1] !== 116 || bytes[a + 2] !== 116 || bytes[a + 3] !== 112) return -1;
  let hs = a + 4;
  if (bytes[hs] === 115) {
    if (b - a < 8) return -1;
    hs++;
  }
  if (bytes[hs] !== 58 || bytes[hs + 1] !== 47 || bytes[hs + 2] !== 47) return -1;
  return hs + 3;
}

/**
 * `schemeEnd` of the value `bytes[a, b)` (where its `://` stands, relative to `a`, or -1): the same
 * character rule, read from the start up to the first character it refuses, which must begin `://`.
 */
function schemeEndAt(bytes: Uint8Array, a: number, b: number): number {
  let k = a;
  for (; k < b; k++) {
    const c = bytes[k]! | 32;
    if (!((c >= 97 && c <= 122) || (k > a && ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)))) break;
  }
  if (k === a || k + 3 > b || bytes[k] !== 58 || bytes[k + 1] !== 47 || bytes[k + 2] !== 47) return -1;
  return k - a;
}

/** Where the host of `http://…` or `https://…` starts in `v`, or -1. */
function httpHostStart(v: string): number {
  if (v.charCodeAt(0) !== 104 || v.charCodeAt(1) !== 116 || v.charCodeAt(2) !== 116 || v.charCodeAt(3) !== 112) return -1;
  let hs = 4;
  if (v.charCodeAt(hs) === 115) hs++;
  if (v.charCodeAt(hs) !== 58 || v.charCodeAt(hs + 1) !== 47 || v.charCodeAt(hs + 2) !== 47) return -1;
  return hs + 3;
}

/**
 * True when the `:` at `v[colon]` starts a port the URL fast path takes: decimal, no leading zero,
 * ≤ 65535, followed by the end, `/`, `?` or `#` (the check `plainUrl` makes).
 */
function plainPort(v: string, colon: number): boolean {
  const len = v.length;
  let p = colon + 1;
  let port = 0;
  for (; p < len && p - colon <= 6; p++) {
    const d = v.charCodeAt(p);
    if (d < 48 || d > 57) break;
    port = port * 10 + d - 48;
  }
  if (p === colon + 1 || v.charCodeAt(colon + 1) === 48 || port > 65535) return false;
  if (p < len) {
    const d = v.charCodeAt(p);
    if (d !== 47 && d !== 63 && d !== 35) return false;
  }
  return true;
}

/** `plainPort` of the value `bytes[…, end)` whose `:` is at `colon`. */
function plainPortBytes(bytes: Uint8Array, colon: number, end: number): boolean {
  let p = colon + 1;
  let port = 0;
  for (; p < end && p - colon <= 6; p++) {
    const d = bytes[p]!;
    if (d < 48 || d > 57) break;
    port = port * 10 + d - 48;
  }
  if (p === colon + 1 || bytes[colon + 1] === 48 || port > 65535) return false;
  if (p < end) {
    const d = bytes[p]!;
    if (d !== 47 && d !== 63 && d !== 35) return false;
  }
  return true;
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
  for (let i = 0; i < atoms.length; i++) if (atoms[i]!.url === true && atoms[i]!.atomic === text) return true;
  return false;
}

function hasDomain(atoms: Atom[], d: string): boolean {
  for (let i = 0; i < atoms.length; i++) if (atoms[i]!.domain === d) return true;
  return false;
}

/** A host memo: host text → what `addHost` learnt of it. */
export type HostMemo = Map<string, HostInfo>;

function addHost(pool: PooledAtom[], out: Atom[], field: string, raw: string, atomic: string, memo?: HostMemo): void {
  // every domain atom is a host in normal form, so the same text would give the same atom
  if (hasDomain(out, raw)) return;
  // the memo's entry, or the suffixes hashed into the atom `take` would use next
  const next = peek(pool, out.length);
  let info = memo?.get(raw);
  if (memo !== undefined && info === undefined) {
    const f = hostSuffixes(raw, 0, raw.length, next.sufBuf);
    const v4 = (f & HOST_NORMAL) !== 0 && (f & HOST_DIGITS) !== 0 ? parseIPv4(raw) : -1;
    info = newHostInfo(f, v4, (f & HOST_NORMAL) !== 0 && v4 < 0 ? next.sufBuf.copy() : null);
    if (memo.size >= HOST_MEMO_MAX) memo.clear();
    memo.set(raw, info);
  }
  const f = info !== undefined ? info.flags : hostSuffixes(raw, 0, raw.length, next.sufBuf);
  if ((f & HOST_NORMAL) !== 0) {
    // already normal (what proxy-log writes): an IPv4 address or the domain itself
    const n = info !== undefined ? info.v4 : (f & HOST_DIGITS) !== 0 ? parseIPv4(raw) : -1;
    if (n >= 0) {
      if (!hasV4(out, n)) addV4(pool, out, field, atomic, n);
      return;
    }
    const a = take(pool, out, field, atomic);
    a.domain = raw;
    a.suf = info !== undefined ? info.suf : a.sufBuf;
    a.hostFlags = f;
    a.host = info ?? null;
    return;
  }
  const h = parseHost(raw);
  if (!h) return;
  if (h.ip) {
    if (hasIp(out, h.ip)) return;
    take(pool, out, field, atomic).ip = h.ip;
    return;
  }
  const d = h.domain!;
  if (hasDomain(out, d)) return;
  const a = take(pool, out, field, atomic);
  a.domain = d;
  a.hostFlags = hostSuffixes(d, 0, d.length, a.sufBuf);
  a.suf = a.sufBuf;
}

/** Append an IPv4 atom (callers check `hasV4` first where a duplicate is possible). */
function addV4(pool: PooledAtom[], out: Atom[], field: string, atomic: string, v4: number): void {
  const a = take(pool, out, field, atomic);
  a.ip = a.ipBuf;
  a.ipBuf.v4 = v4;
  a.ipBuf.v6 = null;
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
  const alert = copyRecord(rec);
  const ts = rec['@timestamp'];
  alert['@timestamp'] = typeof ts === 'string' ? ts : new Date().toISOString();
  const ev = alert.event && typeof alert.event === 'object' && !Array.isArray(alert.event) ? alert.event : {};
  alert.event = { ...ev, kind: 'alert', category: ['threat'], type: ['indicator'] };
  alert.rule = { name: ruleName };
  const threat = alert.threat && typeof alert.threat === 'object' && !Array.isArray(alert.threat) ? alert.threat : {};
  alert.threat = { ...threat, enrichments: matches.map(enrichment) };
  return alert;
}
