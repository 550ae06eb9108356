/**
 * The indicator store of ONE feed (or allowlist): sealed and read-only. `IndicatorStoreBuilder`
 * (store-builder.ts) loads the indicators and seals them into one; a refresh builds a new store off
 * to the side and the sweep swaps the reference between batches.
 *
 * Every table is flat (typed arrays over SharedArrayBuffers, see `flat.ts`), so the tables that
 * answer lookups are the ones `toShared()` hands to worker threads, and `IndicatorStore.fromShared()`
 * answers with the same code over the same memory. Lookups never scan the indicator list, and a
 * miss — almost every record — is meant to cost next to nothing:
 * - IPv4/IPv6: one table keyed by (masked prefix, prefix length). In front of it a gate: a bitmap of
 *   the top bits of every IPv4 range (a /24-block bitmap for a large feed), and a hashed bitmap of
 *   the first 32 bits of every IPv6 prefix ≥ /32; an address whose bit is clear skips the
 *   per-length probes (only ranges broader than the gate are probed, if any).
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
import { type IndicatorType, ipv4ToString, ipv6ToString, v4PrefixKey } from './normalise.js';
import { Arena, Bits, RefLists, StrTable, Suffixes, WordTable, hashRange, hostSuffixes, fmix, type StrTableData, type WordTableData } from './flat.js';

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
export type SkipReason = 'EMPTY' | 'BAD_IP' | 'BAD_CIDR' | 'CIDR_TOO_BROAD' | 'BAD_DOMAIN' | 'BAD_URL' | 'NOT_AN_INDICATOR' | 'PATH_ONLY' | 'TLD_ONLY';

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
export function topMask(bits: number): number {
  return bits <= 0 ? 0 : bits >= 32 ? -1 : -1 << (32 - bits);
}

export function hexWord(hex: string, at: number): number {
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

/** The tables and gates of a sealed store: what the builder hands over, and what `fromShared` rebuilds. */
export interface StoreTables {
  counts: StoreCounts;
  metas: Meta[];
  lists: RefLists;
  arena: Arena;
  v4: WordTable;
  /** The IPv4 prefix lengths present, longest first. */
  v4Lens: number[];
  v6: WordTable;
  v6Lens: number[];
  domains: StrTable;
  /** Bit min(labels, 31) is set when some domain indicator has that many labels. */
  labelMask: number;
  urls: StrTable;
  v4Gate: Bits;
  /** The IPv4 prefix lengths the gate covers, and those probed always. */
  v4Gated: number[];
  v4Broad: number[];
  v6Gate: Bits;
  v6Gated: number[];
  v6Broad: number[];
  urlGate: Bits;
}

// Scratch for matchHost: filled and read within one call, so one per thread serves every store.
const scratch = new Suffixes();

export class IndicatorStore {
  readonly counts: StoreCounts;
  private readonly metas: Meta[];
  private readonly lists: RefLists;
  private readonly arena: Arena;
  private readonly v4: WordTable;
  private readonly v4Lens: readonly number[];
  private readonly v6: WordTable;
  private readonly v6Lens: readonly number[];
  private readonly domains: StrTable;
  private readonly labelMask: number;
  private readonly urls: StrTable;
  private readonly v4Gate: Bits;
  private readonly v4Gated: readonly number[];
  private readonly v4Broad: readonly number[];
  private readonly v6Gate: Bits;
  private readonly v6Gated: readonly number[];
  private readonly v6Broad: readonly number[];
  private readonly urlGate: Bits;

  /** A store over sealed tables: made by `IndicatorStoreBuilder.seal()` or `fromShared()`. */
  constructor(
    readonly feed: string,
    t: StoreTables,
  ) {
    this.counts = t.counts;
    this.metas = t.metas;
    this.lists = t.lists;
    this.arena = t.arena;
    this.v4 = t.v4;
    this.v4Lens = t.v4Lens;
    this.v6 = t.v6;
    this.v6Lens = t.v6Lens;
    this.domains = t.domains;
    this.labelMask = t.labelMask;
    this.urls = t.urls;
    this.v4Gate = t.v4Gate;
    this.v4Gated = t.v4Gated;
    this.v4Broad = t.v4Broad;
    this.v6Gate = t.v6Gate;
    this.v6Gated = t.v6Gated;
    this.v6Broad = t.v6Broad;
    this.urlGate = t.urlGate;
  }

  /** A store answering lookups over the tables of `data` (from `toShared()`, possibly in another thread): nothing is copied. */
  static fromShared(data: SharedStoreData): IndicatorStore {
    if (data.kind !== 'sluice.ioc-sweep.store' || data.version !== 1) throw new Error('not a shared ioc-sweep store');
    const a = data.arena;
    const arena = new Arena(a.wide ? new Uint16Array(a.buf) : new Uint8Array(a.buf), a.used);
    const g = data.gates;
    return new IndicatorStore(data.feed, {
      counts: { ...data.counts },
      metas: data.metas,
      lists: new RefLists(data.lists.buf, data.lists.used),
      arena,
      v4: new WordTable(1, data.v4),
      v4Lens: data.v4.lens.slice(),
      v6: new WordTable(4, data.v6),
      v6Lens: data.v6.lens.slice(),
      domains: new StrTable(arena, data.domains),
      labelMask: data.domains.labels,
      urls: new StrTable(arena, data.urls),
      v4Gate: new Bits(g.v4.bits, g.v4.buf),
      v4Gated: g.v4.gated.slice(),
      v4Broad: g.v4.broad.slice(),
      v6Gate: new Bits(g.v6.bits, g.v6.buf),
      v6Gated: g.v6.gated.slice(),
      v6Broad: g.v6.broad.slice(),
      urlGate: new Bits(g.url.bits, g.url.buf),
    });
  }

  get size(): number {
    const c = this.counts;
    return c['ipv4-addr'] + c['ipv6-addr'] + c['ipv4-cidr'] + c['ipv6-cidr'] + c['domain-name'] + c.url;
  }

  get hasDomains(): boolean {
    return this.domains.n > 0;
  }
  get hasUrls(): boolean {
    return this.urls.n > 0;
  }
  get hasV4(): boolean {
    return this.v4Lens.length > 0;
  }
  get hasV6(): boolean {
    return this.v6Lens.length > 0;
  }

  /** Bytes held by the flat tables (what `toShared()` shares), metadata objects not included. */
  get flatBytes(): number {
    return (
      this.arena.data.byteLength +
      this.lists.data.byteLength +
      this.v4.bytes +
      this.v6.bytes +
      this.domains.bytes +
      this.urls.bytes +
      this.v4Gate.bytes +
      this.v6Gate.bytes +
      this.urlGate.bytes
    );
  }

  /**
   * Every indicator as a canonical key with its metadata: `4:<hex>/<len>` and `6:<hex×4>/<len>`
   * (masked prefix words), `d:<domain>`, `u:<URL key>`. Load-time use only (the incremental sweep
   * compares a feed's keys with those of the last run); lookups never call it.
   */
  forEachIndicator(fn: (key: string, metas: readonly Meta[]) => void): void {
    const metasOf = (ref: number): Meta[] => {
      if (ref >= 0) return [this.metas[ref]!];
      const d = this.lists.data;
      const at = -ref - 1;
      const out: Meta[] = [];
      for (let k = 1; k <= d[at]!; k++) out.push(this.metas[d[at + k]!]!);
      return out;
    };
    const s4 = this.v4.slots;
    this.v4.forEach((k, len) => {
      fn(`4:${wordHex(s4[k]!)}/${len}`, metasOf(this.v4.ref(k)));
    });
    const s6 = this.v6.slots;
    this.v6.forEach((k, len) => {
      fn(`6:${wordHex(s6[k]!)}${wordHex(s6[k + 1]!)}${wordHex(s6[k + 2]!)}${wordHex(s6[k + 3]!)}/${len}`, metasOf(this.v6.ref(k)));
    });
    for (let e = 0; e < this.domains.n; e++) fn(`d:${this.domains.text(e)}`, metasOf(this.domains.ref(e)));
    for (let e = 0; e < this.urls.n; e++) fn(`u:${this.urls.text(e)}`, metasOf(this.urls.ref(e)));
  }

  /** The structured-cloneable form of this store: the buffers are shared, not copied. */
  toShared(): SharedStoreData {
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
        v4: { bits: this.v4Gate.bits, buf: this.v4Gate.words.buffer as SharedArrayBuffer, gated: this.v4Gated.slice(), broad: this.v4Broad.slice() },
        v6: { bits: this.v6Gate.bits, buf: this.v6Gate.words.buffer as SharedArrayBuffer, gated: this.v6Gated.slice(), broad: this.v6Broad.slice() },
        url: { bits: this.urlGate.bits, buf: this.urlGate.words.buffer as SharedArrayBuffer },
      },
    };
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
    return g.has(hostHash >>> g.shift);
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
