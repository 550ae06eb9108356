/**
 * The indicator store of ONE feed (or allowlist). Built once, then sealed and read-only; a refresh
 * builds a new one off to the side and the sweep swaps the reference between batches.
 *
 * Every table is flat (typed arrays over SharedArrayBuffers, see `flat.ts`) from the first insert,
 * so the tables that answer lookups are the ones `toShared()` hands to worker threads, and
 * `IndicatorStore.fromShared()` answers with the same code over the same memory. Lookups never scan
 * the indicator list, and a miss — almost every record — is meant to cost next to nothing:
 * - IPv4/IPv6: one table keyed by (masked prefix, prefix length). In front of it, a sealed store has
 *   a gate: a bitmap of the top bits of every IPv4 range (a /24-block bitmap for a large feed), and
 *   a hashed bitmap of the first 32 bits of every IPv6 prefix ≥ /32; an address whose bit is clear
 *   skips the per-length probes (only ranges broader than the gate are probed, if any).
 * - Domains: one table of names. The sweep hashes every label suffix of a host in one right-to-left
 *   pass (`hostSuffixes`) and probes only suffixes with a label count some indicator has; a probe
 *   compares hashes in the slot and compares text only when the hash is there.
 * - URLs: one table of normalised URLs, and a gate of the hosts that have URL indicators, so the
 *   sweep computes a record's URL key only when its host is among them (`urlHostMayMatch`).
 *
 * Per-indicator metadata is a `Meta` object shared by every indicator that has the same metadata
 * (usually the whole feed), referenced by index from the tables; the indicator's value itself is
 * rebuilt from the key on a hit.
 */
import {
  type IndicatorType, ipv4ToString, ipv6ToString, v4PrefixKey, v6PrefixKey, parseIPv4, parseIPv6,
  mappedV4, parseIp, parseHost, normaliseUrl, isIndicatorDomain, schemeEnd,
} from './normalise.js';
import {
  Arena, Bits, RefLists, StrTable, Suffixes, WordTable, gateBits, hashRange, hostSuffixes, fmix,
  type StrTableData, type WordTableData,
} from './flat.js';

/** Metadata carried into alerts. Shared between indicators (interned per store). */
export interface Meta {
  readonly feed: string;
  readonly confidence?: number;
  readonly tags?: readonly string[];
  readonly description?: string;
  readonly first_seen?: string;
  readonly last_seen?: string;
  /** Domain indicators only: match the host itself, not its subdomains. */
  readonly exact: boolean;
  /** The port the feed named with the address (`ip:port`, MISP `ip-dst|port`); informative only. */
  readonly port?: number;
}


/** One matched indicator. */
export interface Hit {
  type: IndicatorType;
  value: string;
  meta: Meta;
}

/** How a value was offered to the store: detected per value, or forced by the feed's type column. */
export type TypeHint = 'auto' | 'ip' | 'ip-port' | 'domain' | 'url';

/** Reason codes for values a store refuses (counted per feed, never fatal). */
export type SkipReason =
  | 'EMPTY'
  | 'BAD_IP'
  | 'BAD_CIDR'
  | 'CIDR_TOO_BROAD'
  | 'BAD_DOMAIN'
  | 'BAD_URL'
  | 'NOT_AN_INDICATOR'
  | 'PATH_ONLY'
  | 'TLD_ONLY';

export interface StoreCounts {
  'ipv4-addr': number;
  'ipv6-addr': number;
  'ipv4-cidr': number;
  'ipv6-cidr': number;
  'domain-name': number;
  url: number;
  duplicates: number;
  host_bits_masked: number;
}

/** Smallest CIDR prefix accepted: broader ranges would flag a large share of the Internet. */
export const MIN_V4_PREFIX = 8;
export const MIN_V6_PREFIX = 16;


/**
 * A sealed store in structured-cloneable form: SharedArrayBuffers (shared between threads, never
 * copied) plus plain metadata. Produced by `toShared()`, read by `IndicatorStore.fromShared()`.
 */
export interface SharedStoreData {
  kind: 'sluice.ioc-sweep.store';
  version: 1;
  feed: string;
  counts: StoreCounts;
  metas: Meta[];
  arena: { buf: SharedArrayBuffer; wide: boolean; used: number };
  lists: { buf: SharedArrayBuffer; used: number };
  v4: WordTableData & { lens: number[] };
  v6: WordTableData & { lens: number[] };
  domains: StrTableData & { labels: number };
  urls: StrTableData;
  gates: {
    v4: { bits: number; buf: SharedArrayBuffer; gated: number[]; broad: number[] };
    v6: { bits: number; buf: SharedArrayBuffer; gated: number[]; broad: number[] };
    url: { bits: number; buf: SharedArrayBuffer };
  };
}

/** Mask of the top `bits` bits of a 32-bit word (bits in 0…32). */
function topMask(bits: number): number {
  return bits <= 0 ? 0 : bits >= 32 ? -1 : -1 << (32 - bits);
}

function hexWord(hex: string, at: number): number {
  let w = 0;
  for (let i = at; i < at + 8; i++) {
    const c = hex.charCodeAt(i);
    w = (w << 4) | (c <= 57 ? c - 48 : (c | 32) - 87);
  }
  return w;
}

function wordHex(w: number): string {
  return (w >>> 0).toString(16).padStart(8, '0');
}

/** Where the host of a URL key is: `[start, end)` after `scheme://`, up to the port, path, query or fragment. */
function urlKeyHost(key: string): [number, number] {
  const i = key.indexOf('://');
  if (i < 0) return [0, 0];
  const hs = i + 3;
  if (key.charCodeAt(hs) === 91) {
    const close = key.indexOf(']', hs);
    return [hs, close < 0 ? key.length : close + 1];
  }
  let he = hs;
  for (; he < key.length; he++) {
    const c = key.charCodeAt(he);
    if (c === 58 || c === 47 || c === 63 || c === 35) break;
  }
  return [hs, he];
}

const scratch = new Suffixes();

export class IndicatorStore {
  private readonly metas: Meta[];
  /** Meta → its index in `metas`, while loading. */
  private metaIndex: Map<Meta, number> | null;
  private readonly lists: RefLists;
  private readonly arena: Arena;
  private readonly v4: WordTable;
  private v4Lens: number[];
  private readonly v6: WordTable;
  private v6Lens: number[];
  private readonly domains: StrTable;
  /** Bit min(labels, 31) is set when some domain indicator has that many labels. */
  private labelMask: number;
  private readonly urls: StrTable;
  /** The hash of the host of every URL key, while loading (the URL gate is built from it). */
  private urlHostHashes: Int32Array | null;
  private urlHostCount = 0;
  private readonly metaCache = new Map<string, Meta>();
  /** Gates, built by `seal()`; null before. */
  private v4Gate: Bits | null = null;
  private v4Gated: number[] = [];
  private v4Broad: number[] = [];
  private v6Gate: Bits | null = null;
  private v6Gated: number[] = [];
  private v6Broad: number[] = [];
  private urlGate: Bits | null = null;
  private sealed = false;
  readonly counts: StoreCounts;

  constructor(readonly feed: string, shared?: SharedStoreData) {
    if (shared) {
      if (shared.kind !== 'sluice.ioc-sweep.store' || shared.version !== 1) throw new Error('not a shared ioc-sweep store');
      this.counts = { ...shared.counts };
      this.metas = shared.metas;
      this.metaIndex = null;
      this.lists = new RefLists(shared.lists.buf, shared.lists.used);
      const a = shared.arena;
      this.arena = new Arena(a.wide ? new Uint16Array(a.buf) : new Uint8Array(a.buf), a.used);
      this.v4 = new WordTable(1, shared.v4);
      this.v4Lens = shared.v4.lens.slice();
      this.v6 = new WordTable(4, shared.v6);
      this.v6Lens = shared.v6.lens.slice();
      this.domains = new StrTable(this.arena, shared.domains);
      this.labelMask = shared.domains.labels;
      this.urls = new StrTable(this.arena, shared.urls);
      this.urlHostHashes = null;
      const g = shared.gates;
      this.v4Gate = new Bits(g.v4.bits, g.v4.buf);
      this.v4Gated = g.v4.gated.slice();
      this.v4Broad = g.v4.broad.slice();
      this.v6Gate = new Bits(g.v6.bits, g.v6.buf);
      this.v6Gated = g.v6.gated.slice();
      this.v6Broad = g.v6.broad.slice();
      this.urlGate = new Bits(g.url.bits, g.url.buf);
      this.sealed = true;
      return;
    }
    this.counts = {
      'ipv4-addr': 0, 'ipv6-addr': 0, 'ipv4-cidr': 0, 'ipv6-cidr': 0, 'domain-name': 0, url: 0, duplicates: 0, host_bits_masked: 0,
    };
    this.metas = [];
    this.metaIndex = new Map();
    this.lists = new RefLists();
    this.arena = new Arena();
    this.v4 = new WordTable(1);
    this.v4Lens = [];
    this.v6 = new WordTable(4);
    this.v6Lens = [];
    this.domains = new StrTable(this.arena);
    this.labelMask = 0;
    this.urls = new StrTable(this.arena);
    this.urlHostHashes = new Int32Array(16);
  }

  /** A store answering lookups over the tables of `data` (from `toShared()`, possibly in another thread): nothing is copied. */
  static fromShared(data: SharedStoreData): IndicatorStore {
    return new IndicatorStore(data.feed, data);
  }

  get size(): number {
    const c = this.counts;
    return c['ipv4-addr'] + c['ipv6-addr'] + c['ipv4-cidr'] + c['ipv6-cidr'] + c['domain-name'] + c.url;
  }

  get hasDomains(): boolean { return this.domains.n > 0; }
  get hasUrls(): boolean { return this.urls.n > 0; }
  get hasV4(): boolean { return this.v4Lens.length > 0; }
  get hasV6(): boolean { return this.v6Lens.length > 0; }
  get isSealed(): boolean { return this.sealed; }

  /** Bytes held by the flat tables (what `toShared()` shares), metadata objects not included. */
  get flatBytes(): number {
    let n = this.arena.data.byteLength + this.lists.data.byteLength + this.v4.bytes + this.v6.bytes + this.domains.bytes + this.urls.bytes;
    for (const g of [this.v4Gate, this.v6Gate, this.urlGate]) if (g) n += g.bytes;
    return n;
  }

  /**
   * The shared Meta for these fields: identical metadata yields the identical object, so a feed of
   * a million rows with a handful of distinct tag sets holds a handful of Meta objects.
   */
  meta(m: Omit<Meta, 'feed'>): Meta {
    const key = `${m.exact ? 1 : 0}|${m.confidence ?? ''}|${m.port ?? ''}|${m.first_seen ?? ''}|${m.last_seen ?? ''}|${m.tags ? m.tags.join('\u0001') : ''}|${m.description ?? ''}`;
    let out = this.metaCache.get(key);
    if (!out) {
      out = Object.freeze({ feed: this.feed, ...m });
      this.metaCache.set(key, out);
    }
    return out;
  }

  /**
   * The store is complete: build the gates, release load-time helpers and slack. Adding afterwards
   * throws (a sealed store may be read by other threads).
   */
  seal(): this {
    if (this.sealed) return this;
    this.sealed = true;
    this.metaCache.clear();
    this.metaIndex = null;
    this.arena.trim();
    this.lists.trim();
    this.domains.trim();
    this.urls.trim();
    this.buildV4Gate();
    this.buildV6Gate();
    const ug = new Bits(gateBits(this.urlHostCount));
    const hh = this.urlHostHashes!;
    for (let i = 0; i < this.urlHostCount; i++) ug.set(hh[i]! >>> ug.shift);
    this.urlGate = ug;
    this.urlHostHashes = null;
    return this;
  }

  /**
   * IPv4 gate: a bitmap over the top `bits` bits of an address. A range of length ≥ bits sets one
   * bit; a range up to 8 bits broader sets its (≤ 256) bits; broader ranges are probed always.
   */
  private buildV4Gate(): void {
    const bits = gateBits(this.v4.n);
    const g = new Bits(bits);
    this.v4Gated = this.v4Lens.filter((l) => l >= bits - 8);
    this.v4Broad = this.v4Lens.filter((l) => l < bits - 8);
    const slots = this.v4.slots;
    this.v4.forEach((k, len) => {
      if (len < bits - 8) return;
      const net = len === 0 ? 0 : (slots[k]! << (32 - len)) >>> 0;
      const first = net >>> g.shift;
      const count = len >= bits ? 1 : 2 ** (bits - len);
      for (let i = 0; i < count; i++) g.set(first + i);
    });
    this.v4Gate = g;
  }

  /** IPv6 gate: a hashed bitmap of the first 32 bits of every prefix of length ≥ 32; broader ones are probed always. */
  private buildV6Gate(): void {
    let n = 0;
    this.v6.forEach((_, len) => { if (len >= 32) n++; });
    const g = new Bits(gateBits(n));
    this.v6Gated = this.v6Lens.filter((l) => l >= 32);
    this.v6Broad = this.v6Lens.filter((l) => l < 32);
    const slots = this.v6.slots;
    this.v6.forEach((k, len) => { if (len >= 32) g.set(fmix(slots[k]!) >>> g.shift); });
    this.v6Gate = g;
  }

  /** The structured-cloneable form of this (sealed) store; seals it if needed. */
  toShared(): SharedStoreData {
    this.seal();
    const a = this.arena;
    return {
      kind: 'sluice.ioc-sweep.store',
      version: 1,
      feed: this.feed,
      counts: { ...this.counts },
      metas: this.metas,
      arena: { buf: a.data.buffer as SharedArrayBuffer, wide: a.wide, used: a.used },
      lists: { buf: this.lists.data.buffer as SharedArrayBuffer, used: this.lists.used },
      v4: { ...this.v4.data(), lens: this.v4Lens.slice() },
      v6: { ...this.v6.data(), lens: this.v6Lens.slice() },
      domains: { ...this.domains.data(), labels: this.labelMask },
      urls: this.urls.data(),
      gates: {
        v4: { bits: this.v4Gate!.bits, buf: this.v4Gate!.words.buffer as SharedArrayBuffer, gated: this.v4Gated.slice(), broad: this.v4Broad.slice() },
        v6: { bits: this.v6Gate!.bits, buf: this.v6Gate!.words.buffer as SharedArrayBuffer, gated: this.v6Gated.slice(), broad: this.v6Broad.slice() },
        url: { bits: this.urlGate!.bits, buf: this.urlGate!.words.buffer as SharedArrayBuffer },
      },
    };
  }

  // ---------------------------------------------------------------- insertion

  /**
   * A hint that about this many indicators of each kind are coming (`arena`: code units of domain
   * and URL text): the tables are sized for them now instead of doubling and rehashing on the way.
   * Only capacity changes; a wrong estimate costs memory or the usual growth, never a result.
   */
  reserve(n: { v4: number; v6: number; domains: number; urls: number; arena: number }): void {
    this.writable();
    this.v4.reserve(this.v4.n + n.v4);
    this.v6.reserve(this.v6.n + n.v6);
    this.domains.reserve(this.domains.n + n.domains);
    this.urls.reserve(this.urls.n + n.urls);
    this.arena.reserve(n.arena);
    if (this.urlHostCount + n.urls > this.urlHostHashes!.length) {
      const b = new Int32Array(this.urlHostCount + n.urls);
      b.set(this.urlHostHashes!.subarray(0, this.urlHostCount));
      this.urlHostHashes = b;
    }
  }

  private writable(): void {
    if (this.sealed) throw new Error(`indicator store '${this.feed}' is sealed`);
  }

  /** The last Meta `metaRef` resolved, and its index: a feed's rows usually share one Meta. */
  private lastMeta: Meta | null = null;
  private lastMetaRef = -1;

  private metaRef(meta: Meta): number {
    if (meta === this.lastMeta) return this.lastMetaRef;
    const i = this.metaIndexOf(meta);
    this.lastMeta = meta;
    this.lastMetaRef = i;
    return i;
  }

  private metaIndexOf(meta: Meta): number {
    const idx = this.metaIndex!;
    let i = idx.get(meta);
    if (i === undefined) {
      i = this.metas.length;
      this.metas.push(meta);
      idx.set(meta, i);
    }
    return i;
  }

  /** `ref` with `meta` added, or null when `meta` is already there. */
  private mergeRef(ref: number, meta: Meta): number | null {
    const i = this.metaRef(meta);
    if (ref >= 0) return ref === i ? null : this.lists.push([ref], 0, 1, i);
    const d = this.lists.data;
    const at = -ref - 1;
    const count = d[at]!;
    for (let k = 1; k <= count; k++) if (d[at + k] === i) return null;
    return this.lists.push(d, at + 1, count, i);
  }

  private addLen(lens: number[], len: number): number[] {
    return lens.includes(len) ? lens : [...lens, len].sort((a, b) => b - a);
  }

  addV4(n: number, len: number, meta: Meta): void {
    this.writable();
    const key = v4PrefixKey(n, len) | 0;
    if ((len < 32 && len > 0 && ((n << len) >>> 0) !== 0) || (len === 0 && n !== 0)) this.counts.host_bits_masked++;
    this.v4Lens = this.addLen(this.v4Lens, len);
    const t = this.v4;
    const slot = t.find(key, 0, 0, 0, len);
    let added = true;
    if (slot < 0) t.insert(key, 0, 0, 0, len, this.metaRef(meta));
    else {
      const r = this.mergeRef(t.ref(slot), meta);
      if (r === null) added = false;
      else t.setRef(slot, r);
    }
    if (added) this.counts[len === 32 ? 'ipv4-addr' : 'ipv4-cidr']++;
    else this.counts.duplicates++;
  }

  addV6(hex: string, len: number, meta: Meta): void {
    this.writable();
    const w = [hexWord(hex, 0), hexWord(hex, 8), hexWord(hex, 16), hexWord(hex, 24)];
    const m = [0, 1, 2, 3].map((i) => w[i]! & topMask(len - 32 * i));
    if (len < 128 && (m[0] !== w[0] || m[1] !== w[1] || m[2] !== w[2] || m[3] !== w[3])) this.counts.host_bits_masked++;
    this.v6Lens = this.addLen(this.v6Lens, len);
    const t = this.v6;
    const slot = t.find(m[0]!, m[1]!, m[2]!, m[3]!, len);
    let added = true;
    if (slot < 0) t.insert(m[0]!, m[1]!, m[2]!, m[3]!, len, this.metaRef(meta));
    else {
      const r = this.mergeRef(t.ref(slot), meta);
      if (r === null) added = false;
      else t.setRef(slot, r);
    }
    if (added) this.counts[len === 128 ? 'ipv6-addr' : 'ipv6-cidr']++;
    else this.counts.duplicates++;
  }

  /** Add `s` to a string table; false when it was there with this meta already. */
  private addString(t: StrTable, s: string, h: number, meta: Meta): boolean {
    const e = t.find(s, 0, s.length, h);
    if (e < 0) {
      t.insert(s, h, this.metaRef(meta));
      return true;
    }
    const r = this.mergeRef(t.ref(e), meta);
    if (r === null) return false;
    t.setRef(e, r);
    return true;
  }

  addDomain(d: string, meta: Meta): void {
    this.writable();
    let labels = 1;
    for (let i = d.indexOf('.'); i >= 0; i = d.indexOf('.', i + 1)) labels++;
    this.labelMask |= 1 << (labels > 31 ? 31 : labels);
    if (this.addString(this.domains, d, hashRange(d, 0, d.length), meta)) this.counts['domain-name']++;
    else this.counts.duplicates++;
  }

  addUrlKey(key: string, meta: Meta): void {
    this.writable();
    const [hs, he] = urlKeyHost(key);
    if (this.urlHostCount === this.urlHostHashes!.length) {
      const b = new Int32Array(2 * this.urlHostCount);
      b.set(this.urlHostHashes!);
      this.urlHostHashes = b;
    }
    this.urlHostHashes![this.urlHostCount++] = hashRange(key, hs, he);
    if (this.addString(this.urls, key, hashRange(key, 0, key.length), meta)) this.counts.url++;
    else this.counts.duplicates++;
  }

  /**
   * Add one value as a feed gives it. `hint` narrows the type when the feed says what it is.
   * Returns null when added, or the reason it was refused.
   *
   * Accepted shapes (type detected when hint is `auto`): `1.2.3.4`, `1.2.3.4:443`, `1.2.3.0/24`,
   * `2001:db8::1`, `[2001:db8::1]:443`, `2001:db8::/32`, `evil.example`, `evil.example:8080`,
   * `*.evil.example`, `http://…` URLs, and scheme-less URLs `evil.example/path` (stored for both
   * http and https). IPv6 `ip:port` without brackets is split on the LAST colon (hint `ip-port`,
   * or when the whole value is not a valid IPv6 address).
   */
  add(raw: string, hint: TypeHint, meta: Meta): SkipReason | null {
    const v = raw.trim();
    if (v.length === 0) return 'EMPTY';
    if (hint === 'url') return this.addUrl(v, meta, schemeEnd(v) > 0);
    if (schemeEnd(v) > 0) return hint === 'auto' ? this.addUrl(v, meta, true) : 'NOT_AN_INDICATOR';
    // maltrail path trails (`/wp-content/x.php`) match a path on any host: not comparable whole.
    if (v.charCodeAt(0) === 47) return 'PATH_ONLY';
    const slash = v.indexOf('/');
    if (slash >= 0) {
      const cidr = this.tryCidr(v, slash, meta);
      if (cidr !== undefined) return hint === 'domain' ? 'BAD_DOMAIN' : cidr;
      if (hint !== 'auto') return hint === 'domain' ? 'BAD_DOMAIN' : 'BAD_IP';
      return this.addUrl(v, meta, false);
    }
    if (hint === 'ip-port') return this.addIpPort(v, meta);
    const ip = parseIp(v);
    if (ip) {
      if (hint === 'domain') return 'BAD_DOMAIN';
      if (ip.v6 !== null) this.addV6(ip.v6, 128, meta);
      else this.addV4(ip.v4, 32, meta);
      return null;
    }
    // ip:port, [v6]:port, or a v6 ip:port without brackets.
    if (v.indexOf(':') >= 0 || v.charCodeAt(0) === 91) {
      const r = this.addIpPort(v, meta);
      if (r === null || hint === 'ip') return r;
    } else if (hint === 'ip') return 'BAD_IP';
    let host = v;
    if (host.startsWith('*.')) host = host.slice(2);
    else if (host.charCodeAt(0) === 46) {
      host = host.slice(1);
      // `.xyz`: a whole top-level domain would flag a registry's worth of hosts.
      if (host.indexOf('.') < 0) return 'TLD_ONLY';
    }
    const h = parseHost(host);
    if (!h) return 'BAD_DOMAIN';
    if (h.ip) {
      // `1.2.3.4.` or `1.2.3.4:80` read as host: still an address.
      if (h.ip.v6 !== null) this.addV6(h.ip.v6, 128, meta);
      else this.addV4(h.ip.v4, 32, meta);
      return null;
    }
    if (!isIndicatorDomain(h.domain!)) {
      if (/^[\d.]+$/.test(h.domain!)) return 'BAD_IP'; // 203.0.113.300, 107.183.86
      return hint === 'auto' && h.domain!.indexOf('.') < 0 ? 'NOT_AN_INDICATOR' : 'BAD_DOMAIN';
    }
    this.addDomain(h.domain!, meta);
    return null;
  }

  private tryCidr(v: string, slash: number, meta: Meta): SkipReason | null | undefined {
    const lenText = v.slice(slash + 1);
    if (lenText.length === 0 || lenText.length > 3) return undefined;
    let len = 0;
    for (let i = 0; i < lenText.length; i++) {
      const c = lenText.charCodeAt(i);
      if (c < 48 || c > 57) return undefined;
      len = len * 10 + c - 48;
    }
    const addr = v.slice(0, slash);
    const v4 = parseIPv4(addr);
    if (v4 >= 0) {
      if (len > 32) return 'BAD_CIDR';
      if (len < MIN_V4_PREFIX) return 'CIDR_TOO_BROAD';
      // Host bits set (89.160.20.129/24): the range is the network 89.160.20.0/24.
      this.addV4(v4, len, meta);
      return null;
    }
    if (addr.indexOf(':') < 0) return /^[\d.]+$/.test(addr) ? 'BAD_CIDR' : undefined; // evil.example/123 is a URL path
    const hex = parseIPv6(addr);
    if (hex === null || len > 128) return 'BAD_CIDR';
    const m = mappedV4(hex);
    if (m >= 0 && len >= 96) {
      this.addV4(m, len - 96, meta);
      return null;
    }
    if (len < MIN_V6_PREFIX) return 'CIDR_TOO_BROAD';
    this.addV6(hex, len, meta);
    return null;
  }

  private addIpPort(v: string, meta: Meta): SkipReason | null {
    let host: string;
    let portText: string;
    if (v.charCodeAt(0) === 91) {
      const close = v.indexOf(']');
      if (close < 0 || v.charCodeAt(close + 1) !== 58) return 'BAD_IP';
      host = v.slice(1, close);
      portText = v.slice(close + 2);
    } else {
      const c = v.lastIndexOf(':');
      if (c < 0) { host = v; portText = ''; }
      else { host = v.slice(0, c); portText = v.slice(c + 1); }
    }
    const ip = parseIp(host);
    if (!ip) return 'BAD_IP';
    let port: number | undefined;
    if (portText.length > 0) {
      port = Number(portText);
      if (!Number.isInteger(port) || port < 0 || port > 65535) return 'BAD_IP';
    }
    // The same address with another port is the same indicator (ports are informative): first wins.
    const existing = ip.v6 !== null
      ? this.v6.find(hexWord(ip.v6, 0), hexWord(ip.v6, 8), hexWord(ip.v6, 16), hexWord(ip.v6, 24), 128)
      : this.v4.find(ip.v4 | 0, 0, 0, 0, 32);
    if (existing >= 0) {
      this.counts.duplicates++;
      return null;
    }
    const m = port === undefined || meta.port === port ? meta : this.meta({ ...meta, port });
    if (ip.v6 !== null) this.addV6(ip.v6, 128, m);
    else this.addV4(ip.v4, 32, m);
    return null;
  }

  private addUrl(v: string, meta: Meta, hasScheme: boolean): SkipReason | null {
    if (hasScheme) {
      const u = normaliseUrl(v);
      if (!u) return 'BAD_URL';
      this.addUrlKey(u.key, meta);
      return null;
    }
    // Scheme-less (maltrail `domain/path`): the host must be a real host, then store http and https.
    const slash = v.indexOf('/');
    if (slash <= 0) return 'BAD_URL'; // `igfxtray.exe` typed as url: not a URL
    const h = parseHost(v.slice(0, slash));
    if (!h || (h.domain !== null && !isIndicatorDomain(h.domain))) return 'BAD_URL';
    const a = normaliseUrl(`http://${v}`);
    const b = normaliseUrl(`https://${v}`);
    if (!a || !b) return 'BAD_URL';
    this.addUrlKey(a.key, meta);
    this.counts.url--; // one indicator, two keys
    this.addUrlKey(b.key, meta);
    return null;
  }

  // ------------------------------------------------------------------ lookup

  private pushHits(out: Hit[], type: IndicatorType, value: string, ref: number, subdomain: boolean): void {
    const metas = this.metas;
    if (ref >= 0) {
      const meta = metas[ref]!;
      if (!(subdomain && meta.exact)) out.push({ type, value, meta });
      return;
    }
    const d = this.lists.data;
    const at = -ref - 1;
    const count = d[at]!;
    for (let k = 1; k <= count; k++) {
      const meta = metas[d[at + k]!]!;
      if (!(subdomain && meta.exact)) out.push({ type, value, meta });
    }
  }

  /** Push hits for an IPv4 address (every containing range, most specific first). */
  matchV4(n: number, out: Hit[]): void {
    const g = this.v4Gate;
    if (g === null) {
      this.probeV4(n, this.v4Lens, out);
      return;
    }
    if (this.v4Gated.length > 0 && g.has(n >>> g.shift)) this.probeV4(n, this.v4Gated, out);
    if (this.v4Broad.length > 0) this.probeV4(n, this.v4Broad, out);
  }

  private probeV4(n: number, lens: readonly number[], out: Hit[]): void {
    const t = this.v4;
    for (let i = 0; i < lens.length; i++) {
      const len = lens[i]!;
      const key = v4PrefixKey(n, len);
      const slot = t.find(key | 0, 0, 0, 0, len);
      if (slot < 0) continue;
      const value = len === 32 ? ipv4ToString(n) : `${ipv4ToString((key * 2 ** (32 - len)) >>> 0)}/${len}`;
      this.pushHits(out, 'ipv4-addr', value, t.ref(slot), false);
    }
  }

  /** Push hits for an IPv6 address given as 32 hex digits. */
  matchV6(hex: string, out: Hit[]): void {
    const w0 = hexWord(hex, 0);
    const g = this.v6Gate;
    if (g === null) {
      this.probeV6(hex, w0, this.v6Lens, out);
      return;
    }
    if (this.v6Gated.length > 0 && g.has(fmix(w0) >>> g.shift)) this.probeV6(hex, w0, this.v6Gated, out);
    if (this.v6Broad.length > 0) this.probeV6(hex, w0, this.v6Broad, out);
  }

  private probeV6(hex: string, w0: number, lens: readonly number[], out: Hit[]): void {
    const t = this.v6;
    const w1 = hexWord(hex, 8);
    const w2 = hexWord(hex, 16);
    const w3 = hexWord(hex, 24);
    for (let i = 0; i < lens.length; i++) {
      const len = lens[i]!;
      const m0 = w0 & topMask(len);
      const m1 = w1 & topMask(len - 32);
      const m2 = w2 & topMask(len - 64);
      const m3 = w3 & topMask(len - 96);
      const slot = t.find(m0, m1, m2, m3, len);
      if (slot < 0) continue;
      const value = len === 128 ? ipv6ToString(hex) : `${ipv6ToString(wordHex(m0) + wordHex(m1) + wordHex(m2) + wordHex(m3))}/${len}`;
      this.pushHits(out, 'ipv6-addr', value, t.ref(slot), false);
    }
  }

  /** `suffixes[0]` is the host; then each parent on a label boundary. */
  matchDomain(suffixes: readonly string[], out: Hit[]): void {
    const t = this.domains;
    for (let i = 0; i < suffixes.length; i++) {
      const d = suffixes[i]!;
      const e = t.find(d, 0, d.length, hashRange(d, 0, d.length));
      if (e >= 0) this.pushHits(out, 'domain-name', d, t.ref(e), i > 0);
    }
  }

  /** `matchDomain(labelSuffixes(host))` without building the list. */
  matchHost(host: string, out: Hit[]): void {
    hostSuffixes(host, 0, host.length, scratch);
    if (scratch.n < 0) this.matchDomain(labelSuffixes(host), out);
    else this.matchSuffixes(host, scratch, out);
  }

  /**
   * `matchHost(host)` with the suffixes of `host` already hashed (`hostSuffixes(host, 0,
   * host.length, suf)`), so that several stores share one pass over the host.
   */
  matchSuffixes(host: string, suf: Suffixes, out: Hit[]): void {
    const mask = this.labelMask;
    const t = this.domains;
    const whole = suf.n - 1;
    for (let i = whole; i >= 0; i--) {
      if ((mask & (1 << (i >= 30 ? 31 : i + 1))) === 0) continue;
      const start = suf.start[i]!;
      const e = t.find(host, start, host.length, suf.hash[i]!);
      if (e >= 0) this.pushHits(out, 'domain-name', start === 0 ? host : host.slice(start), t.ref(e), i !== whole);
    }
  }

  /**
   * False when no URL indicator of this store has a host whose `hashRange` is `hostHash`: a URL on
   * that host cannot match, and its key need not be computed. (True may be a false positive.)
   */
  urlHostMayMatch(hostHash: number): boolean {
    const g = this.urlGate;
    return g === null || g.has(hostHash >>> g.shift);
  }

  matchUrl(key: string, out: Hit[]): void {
    const t = this.urls;
    const e = t.find(key, 0, key.length, hashRange(key, 0, key.length));
    if (e >= 0) this.pushHits(out, 'url', key, t.ref(e), false);
  }
}

/** The label suffixes of a normalised host: `a.b.c` → [`a.b.c`, `b.c`, `c`]. */
export function labelSuffixes(host: string): string[] {
  const out = [host];
  let i = host.indexOf('.');
  while (i >= 0) {
    out.push(host.slice(i + 1));
    i = host.indexOf('.', i + 1);
  }
  return out;
}
