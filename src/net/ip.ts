/**
 * IP addresses, once for the whole project: strict IPv4 and IPv6 parsing into compact keys, the
 * canonical text of an address (what records hold), RFC 5952 text, IPv4-mapped detection and prefix
 * keys for CIDR lookups. Exported through the public API (`src/api.ts`) so that the parser, the sweep
 * and the rules read an address the same way.
 *
 * The IPv4 rule (docs/feeds.md, "IP addresses"): a dotted quad of four decimal octets 0–255 written
 * without leading zeros. `010.1.2.3` is not an address here: inet_aton and the WHATWG URL parser read
 * it as octal (8.1.2.3), other readers as decimal (10.1.2.3), inet_pton refuses it; Squid prints
 * addresses with inet_ntop and never writes one. Refusing it everywhere means no reading of ours can
 * disagree with the reader that actually connected.
 */
import { Ch } from './charcodes.js';

/** Strict dotted-quad IPv4 → unsigned int, or -1 (leading zeros refused: see the rule above). */
export function parseIPv4(s: string): number {
  const len = s.length;
  if (len < 7 || len > 15) return -1;
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  let lead0 = false;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c >= Ch.Zero && c <= Ch.Nine) {
      if (digits === 1 && lead0) return -1;
      if (digits === 0) lead0 = c === Ch.Zero;
      part = part * 10 + (c - Ch.Zero);
      if (part > 255 || ++digits > 3) return -1;
    } else if (c === Ch.Dot) {
      if (digits === 0 || ++dots > 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return n * 256 + part;
}

// The codes `parseIPv4Span` and `ipv4End` compare against, as constants of this module: the built
// code reads the imported `Ch` as an object (a property load per comparison in the loop)
const QUAD_DOT = 0x2e;
const QUAD_ZERO = 0x30;
const QUAD_NINE = 0x39;

/**
 * `parseIPv4(s.slice(from, to))` without the slice: a parser checks a column of its line in place
 * and slices only what it keeps (a strict dotted quad is its own canonical text). Read octet by
 * octet, which is quicker than `parseIPv4`'s one loop; a property test holds the two equal.
 */
export function parseIPv4Span(s: string, from: number, to: number): number {
  const len = to - from;
  if (len < 7 || len > 15) return -1;
  // octet by octet: a first digit, then up to two more unless it is a 0, then a dot (three times)
  let i = from;
  let n = 0;
  for (let k = 0; ; k++) {
    let v = s.charCodeAt(i++) - QUAD_ZERO;
    if (!(v >= 0 && v <= 9)) return -1;
    if (v !== 0) {
      let d = i < to ? s.charCodeAt(i) - QUAD_ZERO : -1;
      if (d >= 0 && d <= 9) {
        v = v * 10 + d;
        i++;
        d = i < to ? s.charCodeAt(i) - QUAD_ZERO : -1;
        if (d >= 0 && d <= 9) {
          v = v * 10 + d;
          i++;
          if (v > 255) return -1;
        }
      }
    }
    n = n * 256 + v;
    if (k === 3) return i === to ? n : -1;
    if (i >= to || s.charCodeAt(i) !== QUAD_DOT) return -1;
    i++;
    if (i >= to) return -1;
  }
}

/**
 * Where the strict dotted quad that starts `s` at `from` ends (the index after its last digit), or -1
 * when none starts there or the text goes on with a digit or a dot (`1.2.3.4.5`, `1.2.3.045`); no
 * character at or after `to` is read. A parser reading a line column by column learns the column's
 * end and its validity in one pass: `s.slice(from, end)` is then exactly what `parseIPv4` accepts
 * (a property test holds it).
 */
export function ipv4End(s: string, from: number, to: number): number {
  let i = from;
  for (let k = 0; ; k++) {
    if (i >= to) return -1;
    let v = s.charCodeAt(i++) - QUAD_ZERO;
    if (v < 0 || v > 9) return -1;
    if (v !== 0 && i < to) {
      let d = s.charCodeAt(i) - QUAD_ZERO;
      if (d >= 0 && d <= 9) {
        v = v * 10 + d;
        i++;
        if (i < to) {
          d = s.charCodeAt(i) - QUAD_ZERO;
          if (d >= 0 && d <= 9) {
            v = v * 10 + d;
            i++;
            if (v > 255) return -1;
          }
        }
      }
    }
    if (i >= to) return k === 3 ? i : -1;
    const c = s.charCodeAt(i);
    if (k === 3) return (c >= QUAD_ZERO && c <= QUAD_NINE) || c === QUAD_DOT ? -1 : i;
    if (c !== QUAD_DOT) return -1;
    i++;
  }
}

/** `ipv4End` of the bytes `b[from, to)` (ASCII): the same rule, read from a line's bytes. */
export function ipv4EndBytes(b: Uint8Array, from: number, to: number): number {
  let i = from;
  for (let k = 0; ; k++) {
    if (i >= to) return -1;
    let v = b[i++]! - QUAD_ZERO;
    if (v < 0 || v > 9) return -1;
    if (v !== 0 && i < to) {
      let d = b[i]! - QUAD_ZERO;
      if (d >= 0 && d <= 9) {
        v = v * 10 + d;
        i++;
        if (i < to) {
          d = b[i]! - QUAD_ZERO;
          if (d >= 0 && d <= 9) {
            v = v * 10 + d;
            i++;
            if (v > 255) return -1;
          }
        }
      }
    }
    // the end of the span and the byte after the fourth number go through the same tests: a test first
    // run late (an address at the very end of its span) would be compiled without type feedback
    const c = i < to ? b[i]! : -1;
    if (k === 3) return (c >= QUAD_ZERO && c <= QUAD_NINE) || c === QUAD_DOT ? -1 : i;
    if (c !== QUAD_DOT) return -1;
    i++;
  }
}

/**
 * Canonical IPv4 text, or undefined when `s` is not a dotted quad. A strict dotted quad is its own
 * canonical form, so this returns `s` itself (no new string on the parser's hot path).
 */
export function canonicalIpv4(s: string): string | undefined {
  return parseIPv4(s) >= 0 ? s : undefined;
}

export function ipv4ToString(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

const HEX = '0123456789abcdef';
const MAPPED_PREFIX = '00000000000000000000ffff';

/**
 * IPv6 text (any case, `::` compression, embedded IPv4 tail) → 32 hex digits, or null.
 * Zone ids (`%eth0`) are refused: they never name a remote host.
 */
export function parseIPv6(s: string): string | null {
  if (s.length < 2 || s.length > 45) return null;
  const groups: number[] = [];
  let dbl = -1;
  let i = 0;
  const len = s.length;
  if (s.charCodeAt(0) === Ch.Colon) {
    if (s.charCodeAt(1) !== Ch.Colon) return null;
    dbl = 0;
    i = 2;
    if (i === len) return '0'.repeat(32);
  }
  while (i < len) {
    // An embedded IPv4 tail: the rest contains a dot.
    let j = i;
    let val = 0;
    let nd = 0;
    while (j < len) {
      const c = s.charCodeAt(j);
      let d: number;
      if (c >= Ch.Zero && c <= Ch.Nine) d = c - Ch.Zero;
      else if (c >= Ch.a && c <= Ch.f) d = c - Ch.a + 10;
      else if (c >= Ch.A && c <= Ch.F) d = c - Ch.A + 10;
      else break;
      val = val * 16 + d;
      if (++nd > 4) return null;
      j++;
    }
    if (j < len && s.charCodeAt(j) === Ch.Dot) {
      const v4 = parseIPv4(s.slice(i));
      if (v4 < 0 || groups.length > 6) return null;
      groups.push(v4 >>> 16, v4 & 0xffff);
      i = len;
      break;
    }
    if (nd === 0) return null;
    groups.push(val);
    if (groups.length > 8) return null;
    if (j === len) {
      i = len;
      break;
    }
    if (s.charCodeAt(j) !== Ch.Colon) return null;
    if (j + 1 < len && s.charCodeAt(j + 1) === Ch.Colon) {
      if (dbl >= 0) return null;
      dbl = groups.length;
      i = j + 2;
      if (i === len) break;
    } else {
      i = j + 1;
      if (i === len) return null; // trailing single colon
    }
  }
  let full: number[];
  if (dbl >= 0) {
    if (groups.length > 7) return null;
    full = groups.slice(0, dbl);
    for (let k = groups.length; k < 8; k++) full.push(0);
    for (let k = dbl; k < groups.length; k++) full.push(groups[k]!);
  } else {
    if (groups.length !== 8) return null;
    full = groups;
  }
  let out = '';
  for (const g of full) out += HEX[(g >>> 12) & 15]! + HEX[(g >>> 8) & 15]! + HEX[(g >>> 4) & 15]! + HEX[g & 15]!;
  return out;
}

/** 32 hex digits → RFC 5952 text (lower case, longest zero run of ≥2 groups compressed). */
export function ipv6ToString(hex: string): string {
  const g: number[] = [];
  for (let i = 0; i < 32; i += 4) g.push(parseInt(hex.slice(i, i + 4), 16));
  return groupsToString(g);
}

/** Where RFC 5952 puts `::` in eight 16-bit groups: the longest run (first on ties) of two or more zero groups. */
export function zeroRun(g: ArrayLike<number>): { start: number; length: number } {
  let start = -1;
  let length = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > length) {
      start = i;
      length = j - i;
    }
    i = j;
  }
  return { start, length };
}

/** Eight 16-bit groups → RFC 5952 text. */
export function groupsToString(g: ArrayLike<number>): string {
  const { start, length } = zeroRun(g);
  let out = '';
  for (let k = 0; k < 8; k++) {
    if (k === start) {
      out += k === 0 ? '::' : ':';
      k += length - 1;
      continue;
    }
    out += g[k]!.toString(16);
    if (k < 7) out += ':';
  }
  return out;
}

/** If `hex` is an IPv4-mapped IPv6 address, its IPv4 number; else -1. */
export function mappedV4(hex: string): number {
  if (!hex.startsWith(MAPPED_PREFIX)) return -1;
  return parseInt(hex.slice(24), 16) >>> 0;
}

/** Mask a 32-hex-digit IPv6 key to a prefix of `len` bits (string of ceil(len/4) digits). */
export function v6PrefixKey(hex: string, len: number): string {
  const full = len >>> 2;
  const rem = len & 3;
  if (rem === 0) return hex.slice(0, full);
  const d = parseInt(hex[full]!, 16) & ((0xf << (4 - rem)) & 0xf);
  return hex.slice(0, full) + HEX[d]!;
}

/** Mask an IPv4 number to a prefix of `len` bits (the key used in the per-length Map). */
export function v4PrefixKey(n: number, len: number): number {
  return len === 0 ? 0 : n >>> (32 - len);
}

/** Canonical IPv6 (RFC 5952: compressed, lower-case; IPv4-mapped as IPv4), or undefined. Brackets must already be stripped. */
export function canonicalIpv6(s: string): string | undefined {
  if (s.length < 2 || s.length > 45 || s.indexOf(':') === -1) return undefined;
  const fast = plainIpv6(s);
  if (fast !== null) return fast;
  // The zone index (`%eth0`) is not part of the address an indicator names.
  const pct = s.indexOf('%');
  const hex = parseIPv6(pct === -1 ? s : s.slice(0, pct));
  if (hex === null) return undefined;
  const v4 = mappedV4(hex);
  return v4 >= 0 ? ipv4ToString(v4) : ipv6ToString(hex);
}

// Scratch for plainIpv6: filled and read within one call (which calls nothing that could re-enter),
// so one buffer per thread serves every caller without an allocation per address.
const v6Groups = new Uint16Array(8);

/**
 * Canonical text of an IPv6 address written with hex groups and colons only (no embedded IPv4, no
 * zone): `s` itself when already canonical (as logs mostly write them). Returns null when it cannot
 * tell (other syntax, IPv4-mapped): `parseIPv6` decides then. A property test holds the two equal.
 */
function plainIpv6(s: string): string | null {
  const n = s.length;
  const g = v6Groups;
  let count = 0;
  let dbl = -1; // group index where '::' stands
  let canonicalDigits = true; // lower-case, no leading zeros
  let i = 0;
  if (s.charCodeAt(0) === Ch.Colon) {
    if (s.charCodeAt(1) !== Ch.Colon) return null;
    dbl = 0;
    i = 2;
  }
  while (i < n) {
    let v = 0;
    const start = i;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      let d: number;
      if (c >= Ch.Zero && c <= Ch.Nine) d = c - Ch.Zero;
      else if (c >= Ch.a && c <= Ch.f) d = c - Ch.a + 10;
      else if (c >= Ch.A && c <= Ch.F) {
        d = c - Ch.A + 10;
        canonicalDigits = false;
      } else break;
      v = v * 16 + d;
    }
    const len = i - start;
    if (len === 0 || len > 4 || count === 8) return null;
    if (len > 1 && s.charCodeAt(start) === Ch.Zero) canonicalDigits = false;
    g[count++] = v;
    if (i === n) break;
    if (s.charCodeAt(i) !== Ch.Colon) return null;
    if (s.charCodeAt(i + 1) === Ch.Colon) {
      if (dbl !== -1) return null;
      dbl = count;
      i += 2;
    } else {
      i++;
      if (i === n) return null;
    }
  }
  let elided = 0;
  if (dbl === -1) {
    if (count !== 8) return null;
  } else {
    if (count > 7) return null;
    elided = 8 - count;
    for (let k = count - 1; k >= dbl; k--) g[k + elided] = g[k]!;
    for (let k = dbl; k < dbl + elided; k++) g[k] = 0;
  }
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) return null; // IPv4-mapped
  const { start: best, length: bestLen } = zeroRun(g);
  if (canonicalDigits && (best === -1 ? dbl === -1 : dbl === best && elided === bestLen)) return s;
  return groupsToString(g);
}

/**
 * The canonical text of an IPv4 or IPv6 literal (IPv6 may be bracketed), or undefined when `s` is
 * not one: what records hold in `*.ip`, and what a URL host that is an address becomes.
 */
export function canonicalIp(s: string): string | undefined {
  const c0 = s.charCodeAt(0);
  if (c0 === Ch.LBracket) {
    return s.charCodeAt(s.length - 1) === Ch.RBracket ? canonicalIpv6(s.slice(1, -1)) : undefined;
  }
  // a dotted quad first (most addresses in logs): it cannot hold a ':', and fails at once on a name
  if (c0 >= Ch.Zero && c0 <= Ch.Nine && parseIPv4(s) >= 0) return s;
  return s.indexOf(':') !== -1 ? canonicalIpv6(s) : undefined;
}
