/**
 * The raw-line pre-filter of an incremental sweep (`since_last_run`): told, from the bytes of an
 * archived JSON line, whether the record it holds could match one of the indicators being swept —
 * before the line is parsed or a record is built. It must never say "no" for a line whose record
 * the sweep would alert on (no false negatives); "yes" for a line that does not match only costs
 * the parse the line would have had anyway.
 *
 * Why tokens and not substrings: the sweep compares normalised values (hosts lower-cased with
 * their trailing dots and ports dropped, hosts of URLs read by WHATWG, IPv4 numbers, IPv6 folded,
 * CIDR containment, parent domains), so a needle searched as a substring would miss `EVIL.com`,
 * `http://0x7f.1/`, `10.1.2.3` inside `10.1.0.0/16`... Instead the line is cut into the tokens a
 * normalised value can come from, and each token is asked of the SAME indicator stores the sweep
 * uses, with the same lookups:
 *
 * - host tokens: maximal runs of `[A-Za-z0-9._%-]`, lower-cased, trailing dots dropped. Every host
 *   the sweep reads (from a host field, an IP field or a URL) is delimited in the line by a
 *   character outside that set (`"`, `:`, `/`, `@`, `?`, `#`, space...), so it is a whole token or,
 *   for a URL host WHATWG percent-decodes, a token holding `%` that is decoded here too. A token
 *   is asked as a domain (`matchHost`: the host and its parents), as the host of a URL indicator,
 *   and — when it is a dotted quad or, read the WHATWG way, ends in a number (`0x7f.1`,
 *   `2130706433`) — as an IPv4 address (`matchV4`: addresses and CIDRs).
 * - IPv6 runs: at a colon, the run of `[0-9A-Fa-f:.]` around it, when it holds `::` or six colons
 *   (what an IPv6 text needs), read by the sweep's own `parseIp` (IPv4-mapped addresses fold to
 *   IPv4), asked with `matchV6`/`matchV4`.
 * - A line holding a backslash (a JSON escape: `\u0065`, `\/`, `\t`, whose decoded text could
 *   spell something else) or any byte ≥ 0x80 (a non-ASCII host becomes punycode) is kept whole:
 *   such lines are rare, and reading them right would mean parsing them.
 *
 * Most tokens are answered from their bytes, without a string: a word without dot, digit or `%`
 * cannot be a host an indicator matches (domain indicators have two labels); a number or a dotted
 * quad is an IPv4 address computed in place; a name is looked at only when its last two labels
 * hash (FNV-1a, lower-cased) to those of some domain indicator or URL-indicator host — a host
 * matching a domain ends in the domain's last two labels, so a hash miss is a certain miss. The
 * rest (`%`, trailing dots, WHATWG number forms, names passing the hash) goes through `token`, on
 * the token's text, with a memo of verdicts.
 *
 * The indicators whose host a URL key names are kept in sets of their own (a URL indicator
 * matches only a URL on that host); everything else is looked up in the stores themselves, so the
 * filter costs no copy of a feed.
 */
import {
  keyAsLine,
  type LineFilter,
  TOKEN_BAD as BAD,
  TOKEN_CLASS as F,
  TOKEN_DIGIT as DIGIT,
  TOKEN_DOT as DOT,
  TOKEN_HEXCH as HEXCH,
  TOKEN_NONDIGIT as NONDIGIT,
  TOKEN_PCT as PCT,
  TOKEN_TOK as TOK,
} from '../../../src/internal.js';
import { parseIPv4, parseIp } from './normalise.js';
import type { Hit, IndicatorStore } from './store.js';

/**
 * Token verdicts kept before a memo starts over (logs repeat their hosts). Small: a memo that
 * grows into the old generation costs more in collections than it saves.
 */
const MEMO_MAX = 4096;

// Byte classes (F and its bits, imported above): one table with the key cutter of the archive's key
// indexes (src/line-keys.ts).

/** FNV-1a of the bytes `b[s, e)`, ASCII letters lower-cased (the same for a string: `fnvText`). */
function fnv(b: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let k = s; k < e; k++) {
    let c = b[k]!;
    if (c >= 65 && c <= 90) c |= 32;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

function fnvText(t: string): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < t.length; k++) {
    let c = t.charCodeAt(k);
    if (c >= 65 && c <= 90) c |= 32;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

/** The last two labels of a host (all of it when it has one dot or none). */
function lastTwo(host: string): string {
  const d1 = host.lastIndexOf('.');
  if (d1 <= 0) return host;
  const d2 = host.lastIndexOf('.', d1 - 1);
  return d2 < 0 ? host : host.slice(d2 + 1);
}

/** A canonical dotted quad in `b[s, e)` (what `parseIPv4` accepts), or -1. */
function dottedQuad(b: Uint8Array, s: number, e: number): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let k = s; k < e; k++) {
    const c = b[k]!;
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else {
      if (digits === 1 && part === 0) return -1; // a leading zero
      part = part * 10 + c - 48;
      if (part > 255 || ++digits > 3) return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return n * 256 + part;
}

/**
 * Whether a token starting at `s` can be the host of a URL (what follows `scheme:`, `//` or
 * user-info `@`): the byte before it is `/` or `@`, or a `:` after a letter. A JSON number value
 * (`"port":443`) follows `":`, a path segment `/`: those are looked at too, which only keeps more.
 */
function urlHostAt(b: Uint8Array, s: number): boolean {
  const p = s > 0 ? b[s - 1]! : 0;
  if (p === 47 || p === 64) return true;
  if (p !== 58 || s < 2) return false;
  const q = b[s - 2]! | 32;
  return q >= 97 && q <= 122;
}

/** The label `b[s, e)` is decimal digits or `0x` hex (WHATWG "ends in a number"). */
function lastLabelNumeric(b: Uint8Array, s: number, e: number): boolean {
  if (s >= e) return false;
  let k = s;
  if (e - s >= 2 && b[s] === 48 && (b[s + 1]! | 32) === 120) {
    for (k = s + 2; k < e; k++) if (!(F[b[k]!]! & HEXCH) || b[k] === 46 || b[k] === 58) return false;
    return true;
  }
  for (; k < e; k++) if (b[k]! < 48 || b[k]! > 57) return false;
  return true;
}

export class LinePrefilter implements LineFilter {
  private readonly v4Stores: IndicatorStore[];
  private readonly v6Stores: IndicatorStore[];
  private readonly domainStores: IndicatorStore[];
  /** Hosts of URL indicators: names, IPv4 numbers, IPv6 hex. */
  private readonly urlHosts = new Set<string>();
  private readonly urlV4 = new Set<number>();
  private readonly urlV6 = new Set<string>();
  /** A URL indicator on a host without a dot (`http://intranet/`): dotless tokens are asked too. */
  private dotlessUrlHost = false;
  /** FNV hashes of the last two labels of every domain indicator and URL-indicator host name. */
  private readonly l2 = new Set<number>();
  private readonly anyV4: boolean;
  private readonly anyV6: boolean;
  private readonly anyHost: boolean;
  private readonly memo = new Map<string, boolean>();
  private readonly v6Memo = new Map<string, boolean>();
  private readonly tmp: Hit[] = [];

  /** How many indicators it filters for (the stores' sizes). */
  readonly indicators: number;

  constructor(stores: readonly IndicatorStore[]) {
    this.v4Stores = stores.filter((s) => s.hasV4);
    this.v6Stores = stores.filter((s) => s.hasV6);
    this.domainStores = stores.filter((s) => s.hasDomains);
    let n = 0;
    for (const s of stores) {
      n += s.size;
      if (!s.hasUrls && !s.hasDomains) continue;
      s.forEachIndicator((key) => {
        const kind = key.charCodeAt(0);
        if (kind === 117 /* u */) this.addUrlHost(key.slice(2));
        else if (kind === 100 /* d */) this.l2.add(fnvText(lastTwo(key.slice(2))));
      });
    }
    this.indicators = n;
    this.anyV4 = this.v4Stores.length > 0 || this.urlV4.size > 0;
    this.anyV6 = this.anyV4 || this.v6Stores.length > 0 || this.urlV6.size > 0; // mapped IPv6 folds to IPv4
    this.anyHost = this.domainStores.length > 0 || this.urlHosts.size > 0;
  }

  /**
   * A key index (src/line-keys.ts) holds no word without dot, digit or `%`: those matter only when
   * a URL indicator names a dotless host.
   */
  get keyIndexUsable(): boolean {
    return !this.dotlessUrlHost;
  }

  private keyLine = new Uint8Array(256);

  /** A key of a key index: answered as the line holding only that token, in the place it was found. */
  mayMatchKey(key: string): boolean {
    if (key.length + 1 > this.keyLine.length) this.keyLine = new Uint8Array(2 * key.length + 2);
    const n = keyAsLine(key, this.keyLine);
    return this.mayMatch(this.keyLine, 0, n);
  }

  /** True when the filter can drop nothing (no indicator at all: it drops everything instead). */
  get empty(): boolean {
    return !this.anyV4 && !this.anyV6 && !this.anyHost;
  }

  /** A URL key (`scheme://host[:port]/...`, normalised): remember its host. */
  private addUrlHost(key: string): void {
    const s = key.indexOf('://');
    if (s < 0) return;
    let h = s + 3;
    let host: string;
    if (key.charCodeAt(h) === 91 /* [ */) {
      const close = key.indexOf(']', h);
      host = key.slice(h, close < 0 ? key.length : close + 1);
    } else {
      let e = h;
      while (e < key.length) {
        const c = key.charCodeAt(e);
        if (c === 58 || c === 47 || c === 63 || c === 35) break;
        e++;
      }
      host = key.slice(h, e);
      h = e;
    }
    const ip = parseIp(host);
    if (ip) {
      if (ip.v6 === null) this.urlV4.add(ip.v4);
      else this.urlV6.add(ip.v6);
      return;
    }
    this.urlHosts.add(host);
    this.l2.add(fnvText(lastTwo(host)));
    if (host.indexOf('.') < 0) this.dotlessUrlHost = true;
  }

  /**
   * Whether the line `b[start, end)` may hold a value that matches: one pass over its bytes, cutting
   * host tokens (and IPv6 runs at colons); only the tokens holding a dot, a `%` or a digit are
   * looked at (`check`), most of them from their bytes alone.
   */
  mayMatch(b: Uint8Array, start: number, end: number): boolean {
    const anyV6 = this.anyV6;
    let ts = -1; // start of the host token being read
    let fl = 0; // its character flags, or-ed
    let d1 = -1; // its last dot
    let d2 = -1; // the dot before
    let v6Done = -1; // the IPv6 run looked at last ends here
    let i = start;
    for (; i < end; i++) {
      const c = b[i]!;
      const f = F[c]!;
      if ((f & TOK) !== 0) {
        if (ts < 0) {
          ts = i;
          fl = f;
          d1 = d2 = -1;
        } else fl |= f;
        if (c === 46) {
          d2 = d1;
          d1 = i;
        }
        continue;
      }
      if (f !== 0) {
        if ((f & BAD) !== 0) return true;
        if (c === 58 && i >= v6Done && anyV6) {
          v6Done = this.v6Run(b, start, end, i);
          if (v6Done < 0) return true;
        }
      }
      if (ts >= 0) {
        if ((fl & (DOT | PCT | DIGIT)) !== 0 || this.dotlessUrlHost) {
          if (this.check(b, ts, i, fl, d1, d2)) return true;
        }
        ts = -1;
      }
    }
    return ts >= 0 && (fl & (DOT | PCT | DIGIT) || this.dotlessUrlHost) !== 0 && this.check(b, ts, i, fl, d1, d2);
  }

  /**
   * A colon at `i`: look at the run of IPv6 characters around it (an IPv6 text has "::" or at least
   * six colons; mapped IPv4 folds to IPv4). Returns where the run ends, or -1 when it may match.
   */
  private v6Run(b: Uint8Array, start: number, end: number, i: number): number {
    let s = i;
    while (s > start && (F[b[s - 1]!]! & HEXCH) !== 0) s--;
    let e = i;
    let colons = 0;
    let dbl = false;
    while (e < end && (F[b[e]!]! & HEXCH) !== 0) {
      if (b[e] === 58) {
        colons++;
        if (e > s && b[e - 1] === 58) dbl = true;
      }
      e++;
    }
    if ((dbl || colons >= 6) && this.v6Token(b, s, e)) return -1;
    return e;
  }

  /**
   * A host token `b[s, e)` with flags `fl` and its last two dots: the common cases (words, numbers,
   * dotted quads, host names whose last two labels no indicator ends with) are answered from the
   * bytes; anything else — `%`, trailing dots, WHATWG number forms, a name whose last two labels an
   * indicator has — by `token` on its text.
   */
  private check(b: Uint8Array, s: number, e: number, fl: number, d1: number, d2: number): boolean {
    if (fl & PCT || d1 === e - 1) return this.anyHostOrV4() && this.token(b, s, e);
    if ((fl & DOT) === 0) {
      // A number (`2130706433`, octal `017700000001`, `0x7f000001`) is an address only as a URL's
      // host, read by WHATWG; IP and host fields take dotted quads only.
      if (!this.anyV4 || !urlHostAt(b, s)) return this.dotlessUrlHost && this.token(b, s, e);
      if ((fl & NONDIGIT) === 0) {
        if (b[s] === 48 && e - s > 1) return this.token(b, s, e);
        if (e - s > 10) return false;
        let n = 0;
        for (let k = s; k < e; k++) n = n * 10 + b[k]! - 48;
        return n <= 0xffffffff && this.v4(n);
      }
      if (b[s] === 48 && (b[s + 1]! | 32) === 120) return this.token(b, s, e);
      return this.dotlessUrlHost && this.token(b, s, e);
    }
    if ((fl & NONDIGIT) === 0) {
      // digits and dots: a dotted quad (in any field), or another WHATWG number form (a URL's host)
      if (!this.anyV4) return false;
      const n = dottedQuad(b, s, e);
      if (n >= 0) return this.v4(n);
      return urlHostAt(b, s) && this.token(b, s, e);
    }
    // a name whose last label is a number (`0x7f.1`): WHATWG reads a URL host so as IPv4
    if (this.anyV4 && (b[d1 + 1] === 48 || (F[b[d1 + 1]!]! & NONDIGIT) === 0) && urlHostAt(b, s)) {
      if (lastLabelNumeric(b, d1 + 1, e)) return this.token(b, s, e);
    }
    if (!this.anyHost) return false;
    // a domain matches only a host ending in its last two labels: those must be an indicator's
    const h = fnv(b, d2 >= 0 ? d2 + 1 : s, e);
    if (!this.l2.has(h)) return false;
    return this.token(b, s, e);
  }

  private anyHostOrV4(): boolean {
    return this.anyHost || this.anyV4;
  }

  /** A host token `b[s, e)`: may it be (the host of) a value that matches? */
  private token(b: Uint8Array, s: number, e: number): boolean {
    while (e > s && b[e - 1] === 46) e--; // trailing dots
    if (e === s) return false;
    const raw = latin1(b, s, e);
    const memo = this.memo;
    const known = memo.get(raw);
    if (known !== undefined) return known;
    let v: boolean;
    const tok = raw.toLowerCase();
    if (tok.indexOf('%') >= 0) v = this.hostText(tok) || this.decoded(tok);
    else v = this.hostText(tok);
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(raw, v);
    return v;
  }

  /** A lower-case host text without trailing dots. */
  private hostText(tok: string): boolean {
    if (this.anyV4) {
      let n = parseIPv4(tok);
      if (n < 0 && endsInNumber(tok)) n = whatwgIPv4(tok);
      if (n >= 0 && this.v4(n)) return true;
    }
    if (this.anyHost && (this.dotlessUrlHost || tok.indexOf('.') >= 0)) {
      if (this.urlHosts.has(tok)) return true;
      const tmp = this.tmp;
      for (const st of this.domainStores) {
        st.matchHost(tok, tmp);
        if (tmp.length > 0) {
          tmp.length = 0;
          return true;
        }
      }
    }
    return false;
  }

  /** A token with `%`: WHATWG percent-decodes a URL's host before reading it. */
  private decoded(tok: string): boolean {
    let out = '';
    for (let i = 0; i < tok.length; i++) {
      const c = tok.charCodeAt(i);
      if (c === 37 && i + 2 < tok.length && isHex(tok.charCodeAt(i + 1)) && isHex(tok.charCodeAt(i + 2))) {
        const byte = Number.parseInt(tok.slice(i + 1, i + 3), 16);
        if (byte >= 128 || byte === 92) return true; // non-ASCII (punycode) or a backslash: keep the line
        out += String.fromCharCode(byte);
        i += 2;
      } else out += tok[i];
    }
    out = out.toLowerCase();
    // the decoded text may hold delimiters: ask each piece, as the line's own tokens are asked
    const bytes = Buffer.from(out, 'latin1');
    let s = -1;
    for (let i = 0; i <= bytes.length; i++) {
      const c = i < bytes.length ? bytes[i]! : 32;
      if (F[c]! & TOK) {
        if (s < 0) s = i;
        continue;
      }
      if (s >= 0) {
        let e = i;
        while (e > s && bytes[e - 1] === 46) e--;
        if (e > s && this.hostText(out.slice(s, e))) return true;
        s = -1;
      }
    }
    return false;
  }

  /** An IPv6 token `b[s, e)` (two or more colons). */
  private v6Token(b: Uint8Array, s: number, e: number): boolean {
    const raw = latin1(b, s, e);
    const memo = this.v6Memo;
    const known = memo.get(raw);
    if (known !== undefined) return known;
    const ip = parseIp(raw.toLowerCase());
    let v = false;
    if (ip) v = ip.v6 === null ? this.v4(ip.v4) : this.v6(ip.v6);
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(raw, v);
    return v;
  }

  private v4(n: number): boolean {
    if (this.urlV4.has(n)) return true;
    const tmp = this.tmp;
    for (const st of this.v4Stores) {
      st.matchV4(n, tmp);
      if (tmp.length > 0) {
        tmp.length = 0;
        return true;
      }
    }
    return false;
  }

  private v6(hex: string): boolean {
    if (this.urlV6.has(hex)) return true;
    const tmp = this.tmp;
    for (const st of this.v6Stores) {
      st.matchV6(hex, tmp);
      if (tmp.length > 0) {
        tmp.length = 0;
        return true;
      }
    }
    return false;
  }
}

function latin1(b: Uint8Array, s: number, e: number): string {
  return Buffer.prototype.latin1Slice.call(b, s, e) as string;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** WHATWG's "ends in a number": the last label (after dropping one empty one) is decimal digits or `0x` hex. */
export function endsInNumber(s: string): boolean {
  let e = s.length;
  if (e > 0 && s.charCodeAt(e - 1) === 46) e--;
  const dot = s.lastIndexOf('.', e - 1);
  const last = s.slice(dot + 1, e);
  if (last.length === 0) return false;
  if (/^[0-9]+$/.test(last)) return true;
  return /^0x[0-9a-f]*$/.test(last);
}

/**
 * The IPv4 address WHATWG reads a host ending in a number as (`0x7f.1` → 127.0.0.1, `2130706433`,
 * octal `0177.0.0.1`), or -1. A part with a leading 0 that is not octal is read as decimal too (WHATWG
 * fails the URL there; reading a number anyway only keeps more lines).
 */
export function whatwgIPv4(s: string): number {
  const parts = s.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 0 || parts.length > 4) return -1;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (p.length === 0) return -1;
    if (p.length >= 2 && p.charCodeAt(0) === 48 && (p.charCodeAt(1) | 32) === 120) {
      const h = p.slice(2);
      if (!/^[0-9a-f]*$/i.test(h)) return -1;
      n = h.length === 0 ? 0 : h.length > 12 ? Number.POSITIVE_INFINITY : Number.parseInt(h, 16);
    } else if (/^0[0-7]+$/.test(p)) n = p.length > 16 ? Number.POSITIVE_INFINITY : Number.parseInt(p, 8);
    else if (/^[0-9]+$/.test(p)) n = p.length > 15 ? Number.POSITIVE_INFINITY : Number.parseInt(p, 10);
    else return -1;
    nums.push(n);
  }
  const last = nums.length - 1;
  for (let i = 0; i < last; i++) if (nums[i]! > 255) return -1;
  if (nums[last]! >= 256 ** (5 - nums.length)) return -1;
  let v = nums[last]!;
  for (let i = 0; i < last; i++) v += nums[i]! * 256 ** (3 - i);
  return v;
}
