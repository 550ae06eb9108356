/**
 * The indicator store of ONE feed (or allowlist). Built once, then read-only; a refresh builds a
 * new one off to the side and the sweep swaps the reference between batches.
 *
 * Lookups never scan the indicator list:
 * - IPv4/IPv6 exact addresses are prefixes of length 32/128; each prefix length present in the feed
 *   has a Map of masked keys, so an address costs one Map lookup per distinct prefix length.
 * - Domains: the host and each of its label suffixes is one Map lookup (`a.b.c` → `a.b.c`, `b.c`, `c`).
 * - URLs: one Map lookup of the normalised URL.
 *
 * Per-indicator metadata is a `Meta` object shared by every indicator that has the same metadata
 * (usually the whole feed); the indicator's value itself is recovered from the Map key on a hit.
 */
import {
  type IndicatorType, ipv4ToString, ipv6ToString, v4PrefixKey, v6PrefixKey, parseIPv4, parseIPv6,
  mappedV4, parseIp, normaliseHost, normaliseUrl, isIndicatorDomain, schemeEnd,
} from './normalise.js';
import { U32Map } from './u32map.js';

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

type Slot = Meta | Meta[];

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

interface SlotMap<K> { get(k: K): Slot | undefined; set(k: K, v: Slot): unknown }

function pushSlot<K>(map: SlotMap<K>, key: K, meta: Meta): boolean {
  const cur = map.get(key);
  if (cur === undefined) { map.set(key, meta); return true; }
  if (Array.isArray(cur)) {
    if (cur.includes(meta)) return false;
    cur.push(meta);
    return true;
  }
  if (cur === meta) return false;
  map.set(key, [cur, meta]);
  return true;
}

export class IndicatorStore {
  /** v4[len] → Map(masked address → slot); v4Lens lists the lengths present, most specific first. */
  private readonly v4: (U32Map<Slot> | undefined)[] = new Array(33);
  private v4Lens: number[] = [];
  private readonly v6: (Map<string, Slot> | undefined)[] = new Array(129);
  private v6Lens: number[] = [];
  private readonly domains = new Map<string, Slot>();
  private readonly urls = new Map<string, Slot>();
  private readonly metaCache = new Map<string, Meta>();
  readonly counts: StoreCounts = {
    'ipv4-addr': 0, 'ipv6-addr': 0, 'ipv4-cidr': 0, 'ipv6-cidr': 0, 'domain-name': 0, url: 0, duplicates: 0, host_bits_masked: 0,
  };

  constructor(readonly feed: string) {}

  get size(): number {
    const c = this.counts;
    return c['ipv4-addr'] + c['ipv6-addr'] + c['ipv4-cidr'] + c['ipv6-cidr'] + c['domain-name'] + c.url;
  }

  get hasDomains(): boolean { return this.domains.size > 0; }
  get hasUrls(): boolean { return this.urls.size > 0; }
  get hasV4(): boolean { return this.v4Lens.length > 0; }
  get hasV6(): boolean { return this.v6Lens.length > 0; }

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

  /** Drop load-time helpers once the store is complete. */
  seal(): this {
    this.metaCache.clear();
    return this;
  }

  // ---------------------------------------------------------------- insertion

  addV4(n: number, len: number, meta: Meta): void {
    const key = v4PrefixKey(n, len);
    if ((len < 32 && len > 0 && ((n << len) >>> 0) !== 0) || (len === 0 && n !== 0)) this.counts.host_bits_masked++;
    let m = this.v4[len];
    if (!m) {
      m = this.v4[len] = new U32Map();
      this.v4Lens = [...this.v4Lens, len].sort((a, b) => b - a);
    }
    if (pushSlot(m, key, meta)) this.counts[len === 32 ? 'ipv4-addr' : 'ipv4-cidr']++;
    else this.counts.duplicates++;
  }

  addV6(hex: string, len: number, meta: Meta): void {
    const key = v6PrefixKey(hex, len);
    if (len < 128 && key.padEnd(32, '0') !== hex) this.counts.host_bits_masked++;
    let m = this.v6[len];
    if (!m) {
      m = this.v6[len] = new Map();
      this.v6Lens = [...this.v6Lens, len].sort((a, b) => b - a);
    }
    if (pushSlot(m, key, meta)) this.counts[len === 128 ? 'ipv6-addr' : 'ipv6-cidr']++;
    else this.counts.duplicates++;
  }

  addDomain(d: string, meta: Meta): void {
    if (pushSlot(this.domains, d, meta)) this.counts['domain-name']++;
    else this.counts.duplicates++;
  }

  addUrlKey(key: string, meta: Meta): void {
    if (pushSlot(this.urls, key, meta)) this.counts.url++;
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
    const h = normaliseHost(host);
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
    const existing = ip.v6 !== null ? this.v6[128]?.get(ip.v6) : this.v4[32]?.get(ip.v4);
    if (existing !== undefined) {
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
    const h = normaliseHost(v.slice(0, slash));
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

  /** Push hits for an IPv4 address (every containing range, most specific first). */
  matchV4(n: number, out: Hit[]): void {
    const lens = this.v4Lens;
    for (let i = 0; i < lens.length; i++) {
      const len = lens[i]!;
      const slot = this.v4[len]!.get(v4PrefixKey(n, len));
      if (slot === undefined) continue;
      const base = len === 32 ? n : (v4PrefixKey(n, len) * 2 ** (32 - len));
      const value = len === 32 ? ipv4ToString(n) : `${ipv4ToString(base >>> 0)}/${len}`;
      pushHits(out, 'ipv4-addr', value, slot, false);
    }
  }

  matchV6(hex: string, out: Hit[]): void {
    const lens = this.v6Lens;
    for (let i = 0; i < lens.length; i++) {
      const len = lens[i]!;
      const key = v6PrefixKey(hex, len);
      const slot = this.v6[len]!.get(key);
      if (slot === undefined) continue;
      const value = len === 128 ? ipv6ToString(hex) : `${ipv6ToString(key.padEnd(32, '0'))}/${len}`;
      pushHits(out, 'ipv6-addr', value, slot, false);
    }
  }

  /** `suffixes[0]` is the host; then each parent on a label boundary. */
  matchDomain(suffixes: readonly string[], out: Hit[]): void {
    const d = this.domains;
    for (let i = 0; i < suffixes.length; i++) {
      const slot = d.get(suffixes[i]!);
      if (slot !== undefined) pushHits(out, 'domain-name', suffixes[i]!, slot, i > 0);
    }
  }

  /** `matchDomain(labelSuffixes(host))` without building the list. */
  matchHost(host: string, out: Hit[]): void {
    const d = this.domains;
    let slot = d.get(host);
    if (slot !== undefined) pushHits(out, 'domain-name', host, slot, false);
    for (let i = host.indexOf('.'); i >= 0; i = host.indexOf('.', i + 1)) {
      const suffix = host.slice(i + 1);
      slot = d.get(suffix);
      if (slot !== undefined) pushHits(out, 'domain-name', suffix, slot, true);
    }
  }

  matchUrl(key: string, out: Hit[]): void {
    const slot = this.urls.get(key);
    if (slot !== undefined) pushHits(out, 'url', key, slot, false);
  }
}

function pushHits(out: Hit[], type: IndicatorType, value: string, slot: Slot, subdomain: boolean): void {
  if (Array.isArray(slot)) {
    for (const meta of slot) if (!(subdomain && meta.exact)) out.push({ type, value, meta });
  } else if (!(subdomain && slot.exact)) out.push({ type, value, meta: slot });
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
