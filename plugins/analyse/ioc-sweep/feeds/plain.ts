/**
 * Plain indicator lists: one value per line, type detected per line. Handles `#` comment lines and
 * blocks, inline comments (`5.63.151.0/24 # scanner`), extra columns after the value (ipsum
 * `IP<TAB>count`), CRLF, a UTF-8 BOM, quoted values, and a one-word header line (`IP`, `Domain`).
 *
 * A list is read as bytes (`plainBytes`): the shapes most of a feed is made of — a dotted IPv4
 * address or CIDR, an IPv6 address or CIDR of hex groups, a domain already in normal form, an
 * `http(s)://` URL that is its own comparison key — are recognised and hashed in the bytes and go
 * into the store with no string made. Any other value is decoded and offered to
 * `IndicatorParser.add` as before, and a line that is not ASCII goes whole through the string loop
 * (`plainLines`: Unicode trims, IDN). Each byte shape is accepted only where `add` stores the same
 * thing (tests compare the two loops, store byte for byte).
 */
import { FNV_OFFSET, FNV_PRIME, fmix } from '../flat.js';
import type { IndicatorParser, IndicatorStoreBuilder } from '../store-builder.js';
import { MIN_V4_PREFIX, MIN_V6_PREFIX, type Meta } from '../store.js';
import type { FeedInput, LoadContext } from './types.js';

/**
 * From this many bytes on, a list may be parsed on two threads where there are two cores (split.ts,
 * `splitWanted`). Below it the worker's start (≈ 0.1 s of CPU: an isolate, the modules, a cold JIT)
 * is not repaid.
 */
export const SPLIT_MIN_CHARS = 8 << 20;

/**
 * Whether large lists are parsed on two threads: only with `SLUICE_FEED_THREADS=2` in the
 * environment. With the byte loop one thread loads the 1M-indicator bench feed in less wall time
 * than two in a fresh process on the shared two-core machine, and with ~0.3 s less CPU
 * (bench/RESULTS.md, "Feed load from bytes"); the worker's start and a second cold JIT cost more
 * than the parsing it takes over.
 */
export function splitWanted(): boolean {
  return process.env.SLUICE_FEED_THREADS === '2';
}

/** Below this many lines (estimated), or bytes, a list is loaded without sizing the store first. */
const RESERVE_MIN_LINES = 4096;
const RESERVE_MIN_CHARS = 32768;
/** Lines sampled (evenly over the text) to estimate the mix of indicator kinds. */
const RESERVE_SAMPLES = 1024;

/** ASCII whitespace `String#trim` removes: \t \n \v \f \r and space. */
function isAsciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** The bytes of a feed input: the file's own, or its text encoded as UTF-8. */
export function feedBytes(input: FeedInput): Buffer {
  return input.bytes ?? Buffer.from(input.text, 'utf8');
}

/** Bytes of a UTF-8 byte order mark at the start of `b` (3 or 0). */
export function bomLength(b: Uint8Array): number {
  return b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
}

export function loadPlain(input: FeedInput, ctx: LoadContext): void {
  const { store, tally, base } = ctx;
  const bytes = feedBytes(input);
  reserveFor(store, bytes);
  const at: PlainPosition = { lineNo: 0, firstData: true, rows: 0 };
  plainBytes(bytes, bomLength(bytes), bytes.length, store, base, at, (reason, lineNo, value) => {
    tally.skip(reason, `${input.label}:${lineNo}`, value);
  });
  tally.rows += at.rows ?? 0;
}

/** Where a pass over a list is: the number of the last line read, and whether a data line was seen yet. */
export interface PlainPosition {
  lineNo: number;
  firstData: boolean;
  /** Data lines (rows) offered to the parser so far. */
  rows?: number;
}

/** What `plainLines` reports for a row the parser refused (`HEADER`: a lone word on the first data line). */
export type PlainSkip = (reason: string, lineNo: number, value: string) => void;

/**
 * The lines of `text[from, to)` (`from` at a line start; `to` at the end of the text or just after a
 * newline): each data line's value goes to `parser.add`, refusals to `skip`. `at` carries the line
 * number and the first-data-line state from one call to the next, so a list can be read in pieces.
 */
export function plainLines(text: string, from: number, to: number, parser: IndicatorParser, base: Meta, at: PlainPosition, skip: PlainSkip): void {
  let start = from;
  let lineNo = at.lineNo;
  let firstData = at.firstData;
  let rows = 0;
  while (start < to) {
    let end = text.indexOf('\n', start);
    if (end < 0 || end > to) end = to;
    lineNo++;
    // the line trimmed, as `[s, e)` of the text while both ends are ASCII; else as its own string
    let line = text;
    let s = start;
    let e = end;
    start = end + 1;
    while (s < e && isAsciiSpace(text.charCodeAt(s))) s++;
    while (e > s && isAsciiSpace(text.charCodeAt(e - 1))) e--;
    if (s === e) continue;
    if (text.charCodeAt(s) >= 127 || text.charCodeAt(e - 1) >= 127) {
      line = text.slice(s, e).trim(); // also drops NBSP and other Unicode spaces
      s = 0;
      e = line.length;
      if (e === 0) continue;
    }
    const c0 = line.charCodeAt(s);
    if (c0 === 35 /* # */ || c0 === 59 /* ; */ || (c0 === 47 && e - s > 1 && line.charCodeAt(s + 1) === 47)) continue;
    // The value is the first token; what follows whitespace (counts, `# comments`) is not part of it.
    let cut = e;
    for (let i = s; i < e; i++) {
      const c = line.charCodeAt(i);
      if (c === 32 || c === 9 || c === 0xa0) {
        cut = i;
        break;
      }
    }
    if (line.charCodeAt(cut - 1) === 44) cut--; // `1.2.3.4,`
    if (cut - s >= 2 && line.charCodeAt(s) === 34 && line.charCodeAt(cut - 1) === 34) {
      s++;
      cut--;
    } // `"value"`
    const value = s === 0 && cut === line.length ? line : line.slice(s, cut);
    rows++;
    addValue(value, parser, base, firstData, lineNo, skip);
    firstData = false;
  }
  at.lineNo = lineNo;
  at.firstData = firstData;
  at.rows = (at.rows ?? 0) + rows;
}

/** Offers one value to the parser; a refusal goes to `skip`, a lone word on the first data line (`IP`, `URL`, `Domain`) as a column header. */
function addValue(value: string, parser: IndicatorParser, base: Meta, firstData: boolean, lineNo: number, skip: PlainSkip): void {
  const reason = parser.add(value, 'auto', base);
  if (reason === null) return;
  const header = firstData && reason === 'NOT_AN_INDICATOR' && /^[A-Za-z][A-Za-z_ ]*$/.test(value);
  skip(header ? 'HEADER' : reason, lineNo, value);
}

/**
 * The lines of the bytes `b[from, to)` (`from` at a line start; `to` at the end or just after a
 * newline), as `plainLines` reads the same text decoded: each data line's value goes into `parser`,
 * refusals to `skip`, `at` carries the position from one call to the next.
 */
export function plainBytes(b: Buffer, from: number, to: number, parser: IndicatorParser, base: Meta, at: PlainPosition, skip: PlainSkip): void {
  let start = from;
  let lineNo = at.lineNo;
  let firstData = at.firstData;
  let rows = 0;
  while (start < to) {
    const first = b[start]!;
    if (first >= 48 && first <= 57) {
      // a dotted quad or IPv4 CIDR alone on its line (the commonest line): read to the newline once
      const next = lineV4(b, start, to, parser, base);
      if (next >= 0) {
        lineNo++;
        rows++;
        firstData = false;
        start = next;
        continue;
      }
    }
    let end = start;
    let high = 0;
    let spaced = false; // a byte ≤ 32 (space, tab, CR...): trim and cut the token; else the line is the token
    for (; end < to; end++) {
      const c = b[end]!;
      if (c === 10) break;
      high |= c;
      if (c <= 32) spaced = true;
    }
    lineNo++;
    let s = start;
    let e = end;
    start = end + 1;
    if (high >= 128) {
      // not ASCII: the line decoded, through the string loop (Unicode spaces, IDN, U+FEFF...)
      const line = b.toString('utf8', s, e);
      const p: PlainPosition = { lineNo: lineNo - 1, firstData, rows: 0 };
      plainLines(line, 0, line.length, parser, base, p, skip);
      firstData = p.firstData;
      rows += p.rows!;
      continue;
    }
    if (spaced) {
      while (s < e && isAsciiSpace(b[s]!)) s++;
      while (e > s && isAsciiSpace(b[e - 1]!)) e--;
    }
    if (s === e) continue;
    const c0 = b[s]!;
    if (c0 === 35 /* # */ || c0 === 59 /* ; */ || (c0 === 47 && e - s > 1 && b[s + 1] === 47)) continue;
    let cut = e;
    if (spaced) {
      for (let i = s; i < e; i++) {
        const c = b[i]!;
        if (c === 32 || c === 9) {
          cut = i;
          break;
        }
      }
    }
    if (b[cut - 1] === 44) cut--; // `1.2.3.4,`
    if (cut - s >= 2 && b[s] === 34 && b[cut - 1] === 34) {
      s++;
      cut--;
    } // `"value"`
    rows++;
    if (!addFast(b, s, cut, parser, base)) {
      const value = b.toString('latin1', s, cut); // ASCII: latin1 is its text
      addValue(value, parser, base, firstData, lineNo, skip);
    }
    firstData = false;
  }
  at.lineNo = lineNo;
  at.firstData = firstData;
  at.rows = (at.rows ?? 0) + rows;
}

/**
 * Add the ASCII value `b[s, e)` when it has one of the common shapes, as `parser.add(value, 'auto')`
 * would add it, and return true; false (nothing added) for anything else.
 */
function addFast(b: Uint8Array, s: number, e: number, p: IndicatorParser, meta: Meta): boolean {
  if (e - s < 3) return false;
  const c0 = b[s]!;
  if (c0 === 104 /* h */ && e - s > 8 && b[s + 1] === 116 && b[s + 2] === 116 && b[s + 3] === 112) {
    const colon = b[s + 4] === 115 ? s + 5 : s + 4;
    if (b[colon] === 58 && b[colon + 1] === 47 && b[colon + 2] === 47) return addFastUrl(b, s, colon + 3, e, p, meta);
  }
  if (c0 >= 48 && c0 <= 57 && addFastV4(b, s, e, p, meta)) return true;
  return addFastDomain(b, s, e, p, meta) || addFastV6(b, s, e, p, meta);
}

/** `a.b.c.d` or `a.b.c.d/len` (len 8…32): a strict dotted quad as `parseIPv4` reads one. */
function addFastV4(b: Uint8Array, s: number, e: number, p: IndicatorParser, meta: Meta): boolean {
  const i = readQuad(b, s, e);
  if (i < 0) return false;
  const v4 = quadValue;
  if (i === e) {
    p.addV4(v4, 32, meta);
    return true;
  }
  // `/len` of 1 to 3 digits, as tryCidr reads it; lengths it refuses are left to it
  if (b[i] !== 47 || e - i - 1 < 1 || e - i - 1 > 3) return false;
  let len = 0;
  for (let k = i + 1; k < e; k++) {
    const c = b[k]!;
    if (c < 48 || c > 57) return false;
    len = len * 10 + c - 48;
  }
  if (len > 32 || len < MIN_V4_PREFIX) return false;
  p.addV4(v4, len, meta);
  return true;
}

/**
 * A line of `b` from `s` that is a dotted quad or `quad/len` (len 8…32) and nothing else but its
 * newline (`\n`, `\r\n`, or the end at `to`): added as `addFastV4` adds it, and the start of the next
 * line returned. -1 for any other line (nothing added; the general loop reads it).
 */
function lineV4(b: Uint8Array, s: number, to: number, p: IndicatorParser, meta: Meta): number {
  let i = readQuad(b, s, to);
  if (i < 0) return -1;
  const v4 = quadValue;
  let len = 32;
  if (i < to && b[i] === 47) {
    // `/len` of 1 to 3 digits, as `addFastV4` reads it
    const d = i + 1;
    len = 0;
    for (i = d; i < to && i < d + 3; i++) {
      const c = b[i]!;
      if (c < 48 || c > 57) break;
      len = len * 10 + c - 48;
    }
    if (i === d || len > 32 || len < MIN_V4_PREFIX) return -1;
  }
  if (i < to && b[i] === 13) i++;
  if (i < to) {
    if (b[i] !== 10) return -1;
    i++;
  }
  p.addV4(v4, len, meta);
  return i;
}

/** The groups of an IPv6 address as read (`addFastV6`), and the eight of the full address. */
const v6Read = new Int32Array(8);
const v6Full = new Int32Array(8);

/**
 * An IPv6 address of hex groups and colons only (any case, one `::` at most; no embedded IPv4, no
 * zone), or such an address `/len` (len 16…128), read as `parseIPv6` reads it. An IPv4-mapped address
 * (folded to IPv4) and everything else are left to `add`.
 */
function addFastV6(b: Uint8Array, s: number, e: number, p: IndicatorParser, meta: Meta): boolean {
  let end = s;
  while (end < e && b[end] !== 47) end++;
  if (!readV6(b, s, end)) return false;
  const w0 = (v6Full[0]! << 16) | v6Full[1]!;
  const w1 = (v6Full[2]! << 16) | v6Full[3]!;
  const w2 = (v6Full[4]! << 16) | v6Full[5]!;
  const w3 = (v6Full[6]! << 16) | v6Full[7]!;
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return false; // IPv4-mapped
  let len = 128;
  if (end < e) {
    if (e - end - 1 < 1 || e - end - 1 > 3) return false;
    len = 0;
    for (let k = end + 1; k < e; k++) {
      const c = b[k]!;
      if (c < 48 || c > 57) return false;
      len = len * 10 + c - 48;
    }
    if (len > 128 || len < MIN_V6_PREFIX) return false;
  }
  p.addV6Words(w0, w1, w2, w3, len, meta);
  return true;
}

/** Read `b[s, end)` as `parseIPv6` would, hex groups and colons only, into `v6Full`; false for anything else. */
function readV6(b: Uint8Array, s: number, end: number): boolean {
  if (end - s < 2 || end - s > 45) return false;
  let count = 0;
  let dbl = -1;
  let i = s;
  if (b[s] === 58) {
    if (b[s + 1] !== 58) return false;
    dbl = 0;
    i = s + 2;
  }
  while (i < end) {
    let val = 0;
    let nd = 0;
    for (; i < end; i++) {
      const c = b[i]!;
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      val = val * 16 + d;
      if (++nd > 4) return false;
    }
    if (nd === 0 || count === 8) return false;
    v6Read[count++] = val;
    if (i === end) break;
    if (b[i] !== 58) return false; // a dot (IPv4 tail), `%` (zone), anything else
    if (i + 1 < end && b[i + 1] === 58) {
      if (dbl >= 0) return false;
      dbl = count;
      i += 2;
    } else if (++i === end) return false; // a trailing single colon
  }
  if (dbl >= 0) {
    if (count > 7) return false;
    const gap = 8 - count;
    for (let k = 0; k < 8; k++) v6Full[k] = k < dbl ? v6Read[k]! : k < dbl + gap ? 0 : v6Read[k - gap]!;
  } else {
    if (count !== 8) return false;
    v6Full.set(v6Read);
  }
  return true;
}

/**
 * True when `b[s, end)` is the IPv6 address in `v6Full` as the WHATWG URL serializer writes it:
 * lower-case groups without leading zeros, the first longest run of two or more zero groups as `::`.
 */
function isWhatwgV6(b: Uint8Array, s: number, end: number): boolean {
  let zs = -1;
  let zl = 1;
  for (let i = 0; i < 8; ) {
    if (v6Full[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && v6Full[j] === 0) j++;
    if (j - i > zl) {
      zs = i;
      zl = j - i;
    }
    i = j;
  }
  let at = s;
  for (let k = 0; k < 8; k++) {
    if (k === zs) {
      if (k === 0 && b[at++] !== 58) return false;
      if (b[at++] !== 58) return false;
      k += zl - 1;
      continue;
    }
    const g = v6Full[k]!;
    for (let shift = g >= 0x1000 ? 12 : g >= 0x100 ? 8 : g >= 0x10 ? 4 : 0; shift >= 0; shift -= 4) {
      const d = (g >>> shift) & 15;
      if (b[at++] !== (d < 10 ? 48 + d : 87 + d)) return false;
    }
    if (k < 7 && b[at++] !== 58) return false;
  }
  return at === end;
}

/**
 * A domain already in normal form and usable as an indicator: labels of `[a-z0-9_-]` joined by
 * single dots, ≤ 253 bytes, at least two labels, a top-level label that is not all digits (so not an
 * address either). Hashed right to left as `hashRange` hashes its text, labels counted on the way.
 */
function addFastDomain(b: Uint8Array, s: number, e: number, p: IndicatorParser, meta: Meta): boolean {
  if (e - s > 253) return false;
  let h = FNV_OFFSET;
  let labels = 1;
  let prevDot = true; // a trailing dot is refused like an empty label
  let inTld = true;
  let tldAlpha = false;
  for (let i = e - 1; i >= s; i--) {
    const c = b[i]!;
    if (c === 46) {
      if (prevDot) return false;
      prevDot = true;
      inTld = false;
      labels++;
    } else {
      prevDot = false;
      if ((c >= 97 && c <= 122) || c === 45 || c === 95) {
        if (inTld) tldAlpha = true;
      } else if (c < 48 || c > 57) return false;
    }
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  if (prevDot || labels < 2 || !tldAlpha) return false;
  p.addDomainBytes(b, s, e, fmix(h), labels, meta);
  return true;
}

/** Bytes a plain URL keeps as they are after its host (normalise.ts `PLAIN_URL`, without `#`). */
const URL_KEPT = (() => {
  const t = new Uint8Array(256);
  for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/%?") t[c.charCodeAt(0)] = 1;
  return t;
})();

/**
 * An `http(s)://` URL (lower-case scheme, host from `hs`) that is its own comparison key: the cases
 * where `fastUrlKey` returns the value unchanged — a host of `[a-z0-9.-]` (no `xn--`, no empty label,
 * a numeric last label only in a canonical dotted quad), no port, a path, only kept characters, no
 * fragment, no empty query, no `'` in the query, no dot segments — and the same with a bracketed
 * IPv6 host already in the form WHATWG serialises (which `fastUrlKey` leaves to the WHATWG parser).
 * Anything else is left to `add`.
 */
function addFastUrl(b: Uint8Array, s: number, hs: number, e: number, p: IndicatorParser, meta: Meta): boolean {
  let he: number;
  if (b[hs] === 91) {
    // `[IPv6]`, written as WHATWG writes it back
    let close = hs + 1;
    while (close < e && b[close] !== 93) close++;
    if (close === e || !readV6(b, hs + 1, close) || !isWhatwgV6(b, hs + 1, close)) return false;
    he = close + 1;
    if (he === e || b[he] !== 47) return false;
  } else {
    he = hostEnd(b, hs, e);
    if (he < 0) return false;
  }
  return addUrlPath(b, s, hs, he, e, p, meta);
}

/**
 * Where a host of `[a-z0-9.-]` labels starting at `hs` ends (at its path's `/`), when `fastUrlKey`
 * would keep it as it is: no empty label, no `xn--`, a numeric last label only in a dotted quad.
 * -1 otherwise.
 */
function hostEnd(b: Uint8Array, hs: number, e: number): number {
  let he = hs;
  let lastDot = hs - 1;
  let xn = false;
  for (; he < e; he++) {
    const c = b[he]!;
    if (c === 46) {
      if (lastDot === he - 1) return -1; // `..`, or a leading dot
      lastDot = he;
    } else if (c === 47) break;
    else if (c >= 97 && c <= 122) {
      // `xn--` (a match cannot run past the host: a `/` ends it)
      if (c === 120 && b[he + 1] === 110 && b[he + 2] === 45 && b[he + 3] === 45) xn = true;
    } else if (!((c >= 48 && c <= 57) || c === 45)) return -1;
  }
  if (he === e || he === hs || lastDot === he - 1 || xn) return -1;
  const ll = lastDot + 1;
  if (b[ll] === 48 && b[ll + 1] === 120) return -1; // 0x…: WHATWG reads a number
  let numeric = true;
  for (let k = ll; k < he; k++) {
    const c = b[k]!;
    if (c < 48 || c > 57) {
      numeric = false;
      break;
    }
  }
  return numeric && !isQuad(b, hs, he) ? -1 : he;
}

/** The rest of `addFastUrl`: the path and query from `he` (a `/`) kept as they are, then the key added. */
function addUrlPath(b: Uint8Array, s: number, hs: number, he: number, e: number, p: IndicatorParser, meta: Meta): boolean {
  // the path and query: kept characters only; `'` not in the query; before the query no dot
  // segment (`/./`, `/../`, also at the end: WHATWG resolves them) and no `%2e`
  let q = -1;
  for (let i = he; i < e; i++) {
    const c = b[i]!;
    if (URL_KEPT[c] === 0) return false;
    if (c === 47) {
      if (q < 0 && i + 1 < e && b[i + 1] === 46 && (isPathEnd(b, i + 2, e) || (i + 2 < e && b[i + 2] === 46 && isPathEnd(b, i + 3, e)))) return false;
    } else if (c === 37) {
      if (q < 0 && i + 2 < e && b[i + 1] === 50 && (b[i + 2]! | 32) === 101) return false;
    } else if (c === 63) {
      if (q < 0) q = i;
    } else if (c === 39 && q >= 0) return false;
  }
  if (q >= 0 && q + 1 === e) return false; // an empty query is dropped
  // `hashRange` of the key and of its host, right to left, sharing the pass over the host
  let hk = FNV_OFFSET;
  for (let i = e - 1; i >= he; i--) hk = Math.imul(hk ^ b[i]!, FNV_PRIME);
  let hh = FNV_OFFSET;
  for (let i = he - 1; i >= hs; i--) {
    const c = b[i]!;
    hk = Math.imul(hk ^ c, FNV_PRIME);
    hh = Math.imul(hh ^ c, FNV_PRIME);
  }
  for (let i = hs - 1; i >= s; i--) hk = Math.imul(hk ^ b[i]!, FNV_PRIME);
  p.addUrlKeyBytes(b, s, e, fmix(hk), fmix(hh), meta);
  return true;
}

/** A dot segment ends at `i`: the end of the path, a `/`, or the `?` of the query. */
function isPathEnd(b: Uint8Array, i: number, e: number): boolean {
  if (i >= e) return true;
  const c = b[i];
  return c === 47 || c === 63;
}

/** The value of the dotted quad `readQuad` read last. */
let quadValue = 0;

/**
 * Reads a dotted quad (four decimal parts ≤ 255, no leading zero) from `b[s, e)`, up to the first byte
 * that is neither a digit nor a dot: returns where it stopped (the value in `quadValue`), or -1.
 */
function readQuad(b: Uint8Array, s: number, e: number): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  let lead0 = false;
  let i = s;
  for (; i < e; i++) {
    const c = b[i]!;
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
    } else break;
  }
  if (dots !== 3 || digits === 0) return -1;
  quadValue = n * 256 + part;
  return i;
}

/** `parseIPv4(text of b[s, e)) >= 0`. */
function isQuad(b: Uint8Array, s: number, e: number): boolean {
  return e - s >= 7 && e - s <= 15 && readQuad(b, s, e) === e;
}

/**
 * Size the store for a large list before loading it: look at a sample of lines spread evenly over
 * the bytes, estimate the number of lines from their mean length (a count would be one more pass
 * over a million lines) and reserve room for each kind in proportion (a little more, so a fair
 * estimate does not end in one last doubling). Only capacity: what is loaded is unchanged.
 */
export function reserveFor(store: IndicatorStoreBuilder, b: Buffer): void {
  if (b.length < RESERVE_MIN_CHARS) return;
  let v4 = 0,
    v6 = 0,
    domains = 0,
    urls = 0,
    units = 0,
    sampled = 0,
    sampledChars = 0;
  const step = Math.floor(b.length / RESERVE_SAMPLES);
  for (let k = 0; k < RESERVE_SAMPLES; k++) {
    // the line after the one holding position k * step: picked independently of its own length
    const at = b.indexOf(10, k * step);
    if (at < 0) break;
    let end = b.indexOf(10, at + 1);
    if (end < 0) end = b.length;
    sampled++;
    sampledChars += end - at;
    const line = b.toString('utf8', at + 1, end).trim();
    const c0 = line.charCodeAt(0);
    if (line.length === 0 || c0 === 35 || c0 === 59) continue;
    if (line.indexOf('://') >= 0) {
      urls++;
      units += line.length;
    } else if (line.indexOf(':') >= 0) v6++;
    else if (/^[\d./]+(?:\s|$)/.test(line)) v4++;
    else {
      domains++;
      units += line.length;
    }
  }
  if (sampled < RESERVE_SAMPLES / 2) return;
  const lines = (b.length * sampled) / sampledChars;
  if (lines < RESERVE_MIN_LINES) return;
  const scale = (1.05 * lines) / sampled;
  const est = (n: number) => (n === 0 ? 0 : Math.ceil(n * scale) + 16);
  store.reserve({ v4: est(v4), v6: est(v6), domains: est(domains), urls: est(urls), arena: Math.ceil(units * scale) });
}
