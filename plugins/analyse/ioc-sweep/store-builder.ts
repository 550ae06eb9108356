/**
 * Loading one feed (or allowlist) into an `IndicatorStore`: the builder takes values as feeds give
 * them (`add`), normalises and classifies each, fills the flat tables, and `seal()` builds the gates
 * and hands the tables to a read-only store. Everything here is load-time state (metadata interning,
 * the hosts of URL keys for the URL gate); the store keeps none of it.
 */
import { v4PrefixKey, parseIPv4, parseIPv6, mappedV4, parseIp, parseHost, normaliseUrl, isIndicatorDomain, isNormalHost, schemeEnd } from './normalise.js';
import { Arena, Bits, PLACE_BATCH, RefLists, StrTable, WordTable, batchHomeSlots, batchSlotOrder, gateBits, hashRange, fmix } from './flat.js';
import { IndicatorStore, MIN_V4_PREFIX, MIN_V6_PREFIX, hexWord, topMask, type Meta, type SkipReason, type StoreCounts, type TypeHint } from './store.js';

/** Labels of a domain (dots + 1). */
export function domainLabels(d: string): number {
  let labels = 1;
  for (let i = d.indexOf('.'); i >= 0; i = d.indexOf('.', i + 1)) labels++;
  return labels;
}

/** The hash of the host of a URL key (the URL gate is built from them). */
export function urlKeyHostHash(key: string): number {
  const [hs, he] = urlKeyHost(key);
  return hashRange(key, hs, he);
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

/**
 * The parse half of loading: reads one value as a feed gives it (`add`), and hands what it found,
 * normalised and classified, to the `add*` methods of a subclass. Nothing here reads a table, so a
 * value parses alike wherever it is parsed: `IndicatorStoreBuilder` inserts at once, the recorder of
 * the parallel list loader (feeds/split.ts) writes the same calls down, in order, for the builder to
 * replay.
 */
export abstract class IndicatorParser {
  abstract addV4(n: number, len: number, meta: Meta): void;
  abstract addV6(hex: string, len: number, meta: Meta): void;
  /** An IPv6 prefix given as its four 32-bit words (host bits may be set: they are masked). */
  abstract addV6Words(w0: number, w1: number, w2: number, w3: number, len: number, meta: Meta): void;
  abstract addDomain(d: string, meta: Meta): void;
  abstract addUrlKey(key: string, meta: Meta): void;
  /** A scheme-less URL: one indicator stored under two keys (`http://…` and `https://…`). */
  abstract addUrlPair(http: string, https: string, meta: Meta): void;
  /** `ip:port` (port -1: none given): added unless the address is there already (first wins). */
  abstract addV4Port(n: number, port: number, meta: Meta): void;
  abstract addV6Port(w0: number, w1: number, w2: number, w3: number, port: number, meta: Meta): void;
  /**
   * A domain in normal form given as the bytes `b[s, e)` of a feed file (ASCII), with its
   * `hashRange` (of its text) and label count: what `addDomain` does for the same text, with no string made.
   */
  abstract addDomainBytes(b: Uint8Array, s: number, e: number, h: number, labels: number, meta: Meta): void;
  /** A URL key given as the bytes `b[s, e)` (ASCII), with its `hashRange` and that of its host: `addUrlKey` without a string. */
  abstract addUrlKeyBytes(b: Uint8Array, s: number, e: number, h: number, hostHash: number, meta: Meta): void;

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
    let domain: string;
    if (isNormalHost(host)) {
      // Already in normal form (most of a feed): what parseHost returns for it, without its passes.
      const v4 = parseIPv4(host);
      if (v4 >= 0) {
        this.addV4(v4, 32, meta);
        return null;
      }
      domain = host;
    } else {
      const h = parseHost(host);
      if (!h) return 'BAD_DOMAIN';
      if (h.ip) {
        // `1.2.3.4.` or `1.2.3.4:80` read as host: still an address.
        if (h.ip.v6 !== null) this.addV6(h.ip.v6, 128, meta);
        else this.addV4(h.ip.v4, 32, meta);
        return null;
      }
      domain = h.domain!;
    }
    if (!isIndicatorDomain(domain)) {
      if (/^[\d.]+$/.test(domain)) return 'BAD_IP'; // 203.0.113.300, 107.183.86
      return hint === 'auto' && domain.indexOf('.') < 0 ? 'NOT_AN_INDICATOR' : 'BAD_DOMAIN';
    }
    this.addDomain(domain, meta);
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
      if (c < 0) {
        host = v;
        portText = '';
      } else {
        host = v.slice(0, c);
        portText = v.slice(c + 1);
      }
    }
    const ip = parseIp(host);
    if (!ip) return 'BAD_IP';
    let port = -1;
    if (portText.length > 0) {
      port = Number(portText);
      if (!Number.isInteger(port) || port < 0 || port > 65535) return 'BAD_IP';
    }
    if (ip.v6 !== null) this.addV6Port(hexWord(ip.v6, 0), hexWord(ip.v6, 8), hexWord(ip.v6, 16), hexWord(ip.v6, 24), port, meta);
    else this.addV4Port(ip.v4, port, meta);
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
    this.addUrlPair(a.key, b.key, meta);
    return null;
  }
}

export class IndicatorStoreBuilder extends IndicatorParser {
  private readonly tally: StoreCounts = {
    'ipv4-addr': 0,
    'ipv6-addr': 0,
    'ipv4-cidr': 0,
    'ipv6-cidr': 0,
    'domain-name': 0,
    url: 0,
    duplicates: 0,
    host_bits_masked: 0,
  };
  private readonly metas: Meta[] = [];
  /** Meta → its index in `metas`. */
  private readonly metaIndex = new Map<Meta, number>();
  /** Interned metadata: the key of its fields → the one Meta object (see `meta`). */
  private readonly metaCache = new Map<string, Meta>();
  private readonly lists = new RefLists();
  private readonly arena = new Arena();
  private readonly v4 = new WordTable(1);
  private v4Lens: number[] = [];
  private readonly v6 = new WordTable(4);
  private v6Lens: number[] = [];
  private readonly domains = new StrTable(this.arena);
  /** Bit min(labels, 31) is set when some domain indicator has that many labels. */
  private labelMask = 0;
  private readonly urls = new StrTable(this.arena);
  /** The hash of the host of every URL key (the URL gate is built from them). */
  private urlHostHashes = new Int32Array(16);
  private urlHostCount = 0;
  private sealed = false;

  constructor(readonly feed: string) {
    super();
  }

  /** Indicators by type, duplicates and masked host bits so far. */
  get counts(): StoreCounts {
    this.flush();
    return this.tally;
  }

  get size(): number {
    const c = this.counts;
    return c['ipv4-addr'] + c['ipv6-addr'] + c['ipv4-cidr'] + c['ipv6-cidr'] + c['domain-name'] + c.url;
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
   * The store is complete: trim the tables, build the gates, and return the read-only store over
   * them. The builder is spent: adding afterwards throws (the store may be read by other threads).
   */
  seal(): IndicatorStore {
    this.writable();
    this.flush();
    this.v4Pend = this.v6Pend = null;
    this.sealed = true;
    this.arena.trim();
    this.lists.trim();
    this.domains.trim();
    this.urls.trim();
    const v4 = this.v4Gate();
    const v6 = this.v6Gate();
    const ug = new Bits(gateBits(this.urlHostCount));
    const hh = this.urlHostHashes;
    for (let i = 0; i < this.urlHostCount; i++) ug.set(hh[i]! >>> ug.shift);
    return new IndicatorStore(this.feed, {
      counts: { ...this.tally },
      metas: this.metas,
      lists: this.lists,
      arena: this.arena,
      v4: this.v4,
      v4Lens: this.v4Lens,
      v6: this.v6,
      v6Lens: this.v6Lens,
      domains: this.domains,
      labelMask: this.labelMask,
      urls: this.urls,
      v4Gate: v4.gate,
      v4Gated: v4.gated,
      v4Broad: v4.broad,
      v6Gate: v6.gate,
      v6Gated: v6.gated,
      v6Broad: v6.broad,
      urlGate: ug,
    });
  }

  /**
   * IPv4 gate: a bitmap over the top `bits` bits of an address. A range of length ≥ bits sets one
   * bit; a range up to 8 bits broader sets its (≤ 256) bits; broader ranges are probed always.
   */
  private v4Gate(): { gate: Bits; gated: number[]; broad: number[] } {
    const bits = gateBits(this.v4.n);
    const g = new Bits(bits);
    const slots = this.v4.slots;
    this.v4.forEach((k, len) => {
      if (len < bits - 8) return;
      const net = len === 0 ? 0 : (slots[k]! << (32 - len)) >>> 0;
      const first = net >>> g.shift;
      const count = len >= bits ? 1 : 2 ** (bits - len);
      for (let i = 0; i < count; i++) g.set(first + i);
    });
    return { gate: g, gated: this.v4Lens.filter((l) => l >= bits - 8), broad: this.v4Lens.filter((l) => l < bits - 8) };
  }

  /** IPv6 gate: a hashed bitmap of the first 32 bits of every prefix of length ≥ 32; broader ones are probed always. */
  private v6Gate(): { gate: Bits; gated: number[]; broad: number[] } {
    let n = 0;
    this.v6.forEach((_, len) => {
      if (len >= 32) n++;
    });
    const g = new Bits(gateBits(n));
    const slots = this.v6.slots;
    this.v6.forEach((k, len) => {
      if (len >= 32) g.set(fmix(slots[k]!) >>> g.shift);
    });
    return { gate: g, gated: this.v6Lens.filter((l) => l >= 32), broad: this.v6Lens.filter((l) => l < 32) };
  }

  // ---------------------------------------------------------------- insertion

  /**
   * A hint that about this many indicators of each kind are coming (`arena`: code units of domain
   * and URL text): the tables are sized for them now instead of doubling and rehashing on the way.
   * Only capacity changes; a wrong estimate costs memory or the usual growth, never a result.
   */
  reserve(n: { v4: number; v6: number; domains: number; urls: number; arena: number }): void {
    this.writable();
    this.v4.reserve(this.v4.n + this.v4Pending + n.v4);
    this.v6.reserve(this.v6.n + this.v6Pending + n.v6);
    this.domains.reserve(this.domains.n + n.domains);
    this.urls.reserve(this.urls.n + n.urls);
    this.arena.reserve(n.arena);
    if (this.urlHostCount + n.urls > this.urlHostHashes.length) {
      const b = new Int32Array(this.urlHostCount + n.urls);
      b.set(this.urlHostHashes.subarray(0, this.urlHostCount));
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
    const idx = this.metaIndex;
    let i = idx.get(meta);
    if (i === undefined) {
      i = this.metas.length;
      this.metas.push(meta);
      idx.set(meta, i);
    }
    return i;
  }

  /** `ref` with the meta of index `i` added, or null when it is already there. */
  private mergeRefIndex(ref: number, i: number): number | null {
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

  /** The prefix length `addV4` saw last (in `v4Lens` already: a feed's addresses repeat one length). */
  private lastV4Len = -1;

  addV4(n: number, len: number, meta: Meta): void {
    this.writable();
    const key = v4PrefixKey(n, len) | 0;
    if (len !== 32 && ((len > 0 && (n << len) >>> 0 !== 0) || (len === 0 && n !== 0))) this.tally.host_bits_masked++;
    if (len !== this.lastV4Len) {
      this.v4Lens = this.addLen(this.v4Lens, len);
      this.lastV4Len = len;
    }
    const at = this.v4Pending;
    const pend = (this.v4Pend ??= new Int32Array(3 * PLACE_BATCH));
    pend[3 * at] = key;
    pend[3 * at + 1] = len;
    pend[3 * at + 2] = this.metaRef(meta);
    this.v4Pending = at + 1;
    if (at + 1 === PLACE_BATCH) this.flushV4();
  }

  /** IPv4 prefixes added but not yet in the table: `[key, len, meta index]` (`addV4` defers; `flushV4` inserts them in slot order). */
  private v4Pending = 0;
  private v4Pend: Int32Array | null = null;

  /**
   * Insert the pending IPv4 prefixes: the table sized for all of them first, then each inserted in
   * the order of its home slot (line order among equal slots, so the first of equal keys is the one
   * kept and metadata merge in line order). The same keys, refs and counts as inserting each at once.
   */
  private flushV4(): void {
    const n = this.v4Pending;
    if (n === 0) return;
    this.v4Pending = 0;
    const t = this.v4;
    t.reserve(t.n + n);
    const pend = this.v4Pend!;
    const counts = this.tally;
    // the home slots in a function of their own: a loop compiled on the spot (on-stack replacement)
    // was thrown away on reaching the code after it, batch after batch (see `StrTable.placePending`)
    v4Homes(t, pend, n);
    const order = batchSlotOrder(n, t.slotBits);
    for (let k = 0; k < n; k++) {
      const i = 3 * order[k]!;
      const len = pend[i + 1]!;
      const slot = t.findOrAdd1(pend[i]!, len, pend[i + 2]!);
      if (slot >= 0) {
        const r = this.mergeRefIndex(t.ref(slot), pend[i + 2]!);
        if (r === null) {
          counts.duplicates++;
          continue;
        }
        t.setRef(slot, r);
      }
      if (len === 32) counts['ipv4-addr']++;
      else counts['ipv4-cidr']++;
    }
  }

  addV6(hex: string, len: number, meta: Meta): void {
    this.addV6Words(hexWord(hex, 0), hexWord(hex, 8), hexWord(hex, 16), hexWord(hex, 24), len, meta);
  }

  /** An IPv6 prefix given as its four 32-bit words (host bits may be set: they are masked). */
  addV6Words(w0: number, w1: number, w2: number, w3: number, len: number, meta: Meta): void {
    this.writable();
    const m0 = w0 & topMask(len);
    const m1 = w1 & topMask(len - 32);
    const m2 = w2 & topMask(len - 64);
    const m3 = w3 & topMask(len - 96);
    if (len < 128 && (m0 !== w0 || m1 !== w1 || m2 !== w2 || m3 !== w3)) this.tally.host_bits_masked++;
    if (len !== this.lastV6Len) {
      this.v6Lens = this.addLen(this.v6Lens, len);
      this.lastV6Len = len;
    }
    const at = this.v6Pending;
    const pend = (this.v6Pend ??= new Int32Array(6 * PLACE_BATCH));
    pend[6 * at] = m0;
    pend[6 * at + 1] = m1;
    pend[6 * at + 2] = m2;
    pend[6 * at + 3] = m3;
    pend[6 * at + 4] = len;
    pend[6 * at + 5] = this.metaRef(meta);
    this.v6Pending = at + 1;
    if (at + 1 === PLACE_BATCH) this.flushV6();
  }

  /** The prefix length `addV6Words` saw last (in `v6Lens` already). */
  private lastV6Len = -1;
  /** IPv6 prefixes added but not yet in the table: `[word × 4, len, meta index]` (as the IPv4 ones). */
  private v6Pending = 0;
  private v6Pend: Int32Array | null = null;

  /** `flushV4` for the IPv6 prefixes. */
  private flushV6(): void {
    const n = this.v6Pending;
    if (n === 0) return;
    this.v6Pending = 0;
    const t = this.v6;
    t.reserve(t.n + n);
    const pend = this.v6Pend!;
    const counts = this.tally;
    v6Homes(t, pend, n); // (see flushV4)
    const order = batchSlotOrder(n, t.slotBits);
    for (let k = 0; k < n; k++) {
      const i = 6 * order[k]!;
      const len = pend[i + 4]!;
      const slot = t.findOrAdd(pend[i]!, pend[i + 1]!, pend[i + 2]!, pend[i + 3]!, len, pend[i + 5]!);
      if (slot >= 0) {
        const r = this.mergeRefIndex(t.ref(slot), pend[i + 5]!);
        if (r === null) {
          counts.duplicates++;
          continue;
        }
        t.setRef(slot, r);
      }
      if (len === 128) counts['ipv6-addr']++;
      else counts['ipv6-cidr']++;
    }
  }

  /**
   * Everything added goes into the tables: the pending IPv4 prefixes, and the slots of the pending
   * domain and URL entries (each table filled in the order of its slots, see `flushV4` and
   * `StrTable.placePending`). Counts are complete after it.
   */
  private flush(): void {
    this.flushV4();
    this.flushV6();
    this.flushStrings(this.domains, 'domain-name');
    this.flushStrings(this.urls, 'url');
  }

  /** Place a string table's pending entries; an entry whose text is there already merges its meta into it, as `addString` did. */
  private flushStrings(t: StrTable, kind: 'domain-name' | 'url'): void {
    const tally = this.tally;
    const pending = t.pendingCount;
    const dropped = t.placePending((kept, dup) => {
      const r = this.mergeRefIndex(t.ref(kept), t.ref(dup));
      if (r === null) tally.duplicates++;
      else {
        t.setRef(kept, r);
        tally[kind]++;
      }
    });
    tally[kind] += pending - dropped;
  }

  addDomainBytes(b: Uint8Array, s: number, e: number, h: number, labels: number, meta: Meta): void {
    this.writable();
    this.labelMask |= 1 << (labels > 31 ? 31 : labels);
    this.domains.appendBytes(b, s, e, h, this.metaRef(meta));
    if (this.domains.pendingCount === PLACE_BATCH) this.flushStrings(this.domains, 'domain-name');
  }

  addUrlKeyBytes(b: Uint8Array, s: number, e: number, h: number, hostHash: number, meta: Meta): void {
    this.writable();
    this.noteUrlHost(hostHash);
    this.urls.appendBytes(b, s, e, h, this.metaRef(meta));
    if (this.urls.pendingCount === PLACE_BATCH) this.flushStrings(this.urls, 'url');
  }

  private noteUrlHost(hostHash: number): void {
    if (this.urlHostCount === this.urlHostHashes.length) {
      const b = new Int32Array(2 * this.urlHostCount);
      b.set(this.urlHostHashes);
      this.urlHostHashes = b;
    }
    this.urlHostHashes[this.urlHostCount++] = hostHash;
  }

  addDomain(d: string, meta: Meta): void {
    this.addDomainHashed(d, hashRange(d, 0, d.length), domainLabels(d), meta);
  }

  /** `addDomain` with the hash and label count of `d` computed already (`hashRange`, `domainLabels`). */
  addDomainHashed(d: string, h: number, labels: number, meta: Meta): void {
    this.writable();
    this.labelMask |= 1 << (labels > 31 ? 31 : labels);
    this.domains.appendString(d, h, this.metaRef(meta));
    if (this.domains.pendingCount === PLACE_BATCH) this.flushStrings(this.domains, 'domain-name');
  }

  addUrlKey(key: string, meta: Meta): void {
    this.addUrlKeyHashed(key, hashRange(key, 0, key.length), urlKeyHostHash(key), meta);
  }

  /** `addUrlKey` with the hash of the key and of its host computed already (`hashRange`, `urlKeyHostHash`). */
  addUrlKeyHashed(key: string, h: number, hostHash: number, meta: Meta): void {
    this.writable();
    this.noteUrlHost(hostHash);
    this.urls.appendString(key, h, this.metaRef(meta));
    if (this.urls.pendingCount === PLACE_BATCH) this.flushStrings(this.urls, 'url');
  }

  addUrlPair(http: string, https: string, meta: Meta): void {
    this.addUrlKey(http, meta);
    this.tally.url--; // one indicator, two keys
    this.addUrlKey(https, meta);
  }

  /** `addUrlPair` with both keys' hashes computed already. */
  addUrlPairHashed(http: string, hHttp: number, hostHttp: number, https: string, hHttps: number, hostHttps: number, meta: Meta): void {
    this.addUrlKeyHashed(http, hHttp, hostHttp, meta);
    this.tally.url--;
    this.addUrlKeyHashed(https, hHttps, hostHttps, meta);
  }

  // The same address with another port is the same indicator (ports are informative): first wins.
  addV4Port(n: number, port: number, meta: Meta): void {
    this.flushV4();
    if (this.v4.find(n | 0, 0, 0, 0, 32) >= 0) {
      this.tally.duplicates++;
      return;
    }
    this.addV4(n, 32, this.portMeta(meta, port));
  }

  addV6Port(w0: number, w1: number, w2: number, w3: number, port: number, meta: Meta): void {
    this.flushV6();
    if (this.v6.find(w0, w1, w2, w3, 128) >= 0) {
      this.tally.duplicates++;
      return;
    }
    this.addV6Words(w0, w1, w2, w3, 128, this.portMeta(meta, port));
  }

  private portMeta(meta: Meta, port: number): Meta {
    return port < 0 || meta.port === port ? meta : this.meta({ ...meta, port });
  }

  /**
   * Add an indicator by the canonical key `IndicatorStore.forEachIndicator` gives (`4:`, `6:`, `d:`,
   * `u:`): the key is already normalised, so it goes into its table as it is.
   */
  addKey(key: string, meta: Meta): void {
    const kind = key.charCodeAt(0);
    if (kind === 100 /* d */) return this.addDomain(key.slice(2), meta);
    if (kind === 117 /* u */) return this.addUrlKey(key.slice(2), meta);
    const slash = key.lastIndexOf('/');
    const hex = key.slice(2, slash);
    const len = Number(key.slice(slash + 1));
    if (kind === 52 /* 4 */) {
      const w = Number.parseInt(hex, 16);
      return this.addV4(len === 0 ? 0 : (w << (32 - len)) >>> 0, len, meta);
    }
    if (kind === 54 /* 6 */) return this.addV6(hex, len, meta);
    throw new Error(`not an indicator key: ${key}`);
  }
}

/** The home slots of `n` pending IPv4 prefixes (`[key, len, meta]` triples) into `batchHomeSlots()`. */
function v4Homes(t: WordTable, pend: Int32Array, n: number): void {
  const homes = batchHomeSlots();
  for (let i = 0; i < n; i++) homes[i] = t.home1(pend[3 * i]!, pend[3 * i + 1]!);
}

/** The home slots of `n` pending IPv6 prefixes (`[w0, w1, w2, w3, len, meta]`) into `batchHomeSlots()`. */
function v6Homes(t: WordTable, pend: Int32Array, n: number): void {
  const homes = batchHomeSlots();
  for (let i = 0; i < n; i++) homes[i] = t.home(pend[6 * i]!, pend[6 * i + 1]!, pend[6 * i + 2]!, pend[6 * i + 3]!, pend[6 * i + 4]!);
}
