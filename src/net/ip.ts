/**
 * IP addresses, once for the whole project: strict IPv4 and IPv6 parsing into compact keys, RFC 5952
 * text, IPv4-mapped detection and prefix keys for CIDR lookups. Exported through the public API
 * (`src/api.ts`) so that plugins share one implementation.
 */

/** Strict dotted-quad IPv4 → unsigned int, or -1. Leading zeros are refused (octal ambiguity). */
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
    if (c >= 48 && c <= 57) {
      if (digits === 1 && lead0) return -1;
      if (digits === 0) lead0 = c === 48;
      part = part * 10 + (c - 48);
      if (part > 255 || ++digits > 3) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return n * 256 + part;
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
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return null;
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
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      val = val * 16 + d;
      if (++nd > 4) return null;
      j++;
    }
    if (j < len && s.charCodeAt(j) === 46) {
      const v4 = parseIPv4(s.slice(i));
      if (v4 < 0 || groups.length > 6) return null;
      groups.push(v4 >>> 16, v4 & 0xffff);
      i = len;
      break;
    }
    if (nd === 0) return null;
    groups.push(val);
    if (groups.length > 8) return null;
    if (j === len) { i = len; break; }
    if (s.charCodeAt(j) !== 58) return null;
    if (j + 1 < len && s.charCodeAt(j + 1) === 58) {
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
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > length) { start = i; length = j - i; }
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
