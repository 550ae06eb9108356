/**
 * Squid native access.log:
 *   time elapsed client action/code size method URL user hierarchy/peer type [trailing fields]
 * plus the tolerated variants documented in docs/formats.md: a client port after the client, extra
 * size columns before the method, an HTTP version after the URL, user names with spaces, a peer port
 * before the type, and trailing fields (quoted Referer/User-Agent, or BlueCoat's unquoted
 * category + User-Agent).
 */
import type { Rec } from '../../../src/api.js';
import { canonicalIp, ipv4End, parseIPv4Span } from '../../../src/internal.js';
import { ERR, ParseError } from './errors.js';
import { parseUint, parseUintSpan } from './numbers.js';
import { SecondCache, epochSecondsToIso, epochSpanRead, epochSpanToIso } from './time.js';
import { fillUrl, setSource } from './url.js';
import { QuoteEscape, Tokens, scanSpans, tokenize } from './lex.js';
import { addTag, newDestination, newEvent, newHttp, newRecord, newRequest, newResponse, newUrl, newUserAgent } from './record.js';
import type { ProxyRecord, SourceFields } from './record.js';

// The character codes this file compares against, as constants of its own (see charcodes.ts)
const Ch_Cr = 0x0d;
const Ch_Space = 0x20;
const Ch_Quote = 0x22; // "
const Ch_Dash = 0x2d; // -
const Ch_Dot = 0x2e; // .
const Ch_Slash = 0x2f; // /
const Ch_Zero = 0x30;
const Ch_Nine = 0x39;
const Ch_Colon = 0x3a; // :
const Ch_A = 0x41;
const Ch_H = 0x48;
const Ch_Z = 0x5a;
const Ch_Underscore = 0x5f; // _
const Ch_a = 0x61;
const Ch_e = 0x65;
const Ch_h = 0x68;
const Ch_p = 0x70;
const Ch_s = 0x73;
const Ch_t = 0x74;
const Ch_z = 0x7a;

/**
 * What the squid parser keeps from line to line: one per parser instance (`ProxyLogParser`), so two
 * parsers in one thread never see each other's lines.
 */
export class SquidState {
  /** The current line's tokens: scratch, overwritten by every line. */
  readonly tk = new Tokens();
  /** The last second formatted (lines come in time order). */
  readonly clock = new SecondCache();
  /** The last hierarchy code seen, and whether it names a direct request (a handful of codes repeat). */
  lastHierarchy = '';
  lastDirect = false;
  /** Scratch: where the last number `dashOrUintAt` read ends. */
  at = 0;
  /**
   * Whether the record `parseSquid` last returned holds to the record schema by construction (the fast
   * path, a host of at most 253 characters): every value it sets is a slice checked character by
   * character, a bounded number, a timestamp of time.ts, an address of `canonicalIp` or a dotted quad
   * checked by `ipv4End`/`parseIPv4Span` (the same rule, and its own canonical text). A property
   * test holds every such record to the published schema. Only `origin`, which the parser copies from
   * its input, is left to the caller to check.
   */
  valid = false;
  // What `scanSquid` read of a line in the default layout (its spans are in `tk`):
  ts = '';
  duration = 0;
  /** Where the action/code column's slash stands. */
  slash = 0;
  status = 0;
  bytes = 0;
  /** Where the hierarchy column's slash stands. */
  hs = 0;
  /** Which addresses are dotted quads checked in the line (CLIENT_QUAD, PEER_QUAD). */
  quads = 0;
  // What `commonUrlSpans` read of the URL column: 0 (CONNECT name:port), 1 http, 2 https; the host, the query's '?' or -1; a CONNECT port
  urlScheme = 0;
  hostStart = 0;
  hostEnd = 0;
  query = -1;
  port = 0;
  /** `spanHash` of the host, when the byte probe (squid-bytes.ts) was asked for it. */
  hostHash = 0;
}

/** Is `line[from, to)` the single character `c`? */
function is1(line: string, from: number, to: number, c: number): boolean {
  return to - from === 1 && line.charCodeAt(from) === c;
}

function isMethodSpan(line: string, from: number, to: number): boolean {
  const n = to - from;
  if (n === 0 || n > 32) return false;
  const c0 = line.charCodeAt(from);
  if (!((c0 >= Ch_A && c0 <= Ch_Z) || (c0 >= Ch_a && c0 <= Ch_z))) return false;
  for (let i = from + 1; i < to; i++) {
    const c = line.charCodeAt(i);
    if (!((c >= Ch_A && c <= Ch_Z) || (c >= Ch_a && c <= Ch_z) || c === Ch_Underscore || c === Ch_Dash || (c >= Ch_Zero && c <= Ch_Nine))) return false;
  }
  return true;
}

/**
 * Where the slash of a hierarchy column (`DIRECT/1.2.3.4`, `NONE/-`, `HIER_DIRECT/…`,
 * `TIMEOUT_FIRSTUP_PARENT/…`: an upper-case code of two or more characters, then '/') stands in
 * `line[from, to)`, or -1: the first character that is not an upper-case letter or '_' must be the
 * slash. (No indexOf: on the hot path a native call costs more than these few characters.)
 */
function hierarchySlashSpan(line: string, from: number, to: number): number {
  let i = from;
  for (; i < to; i++) {
    const c = line.charCodeAt(i);
    if (!((c >= Ch_A && c <= Ch_Z) || c === Ch_Underscore)) break;
  }
  return i < to && i - from >= 2 && line.charCodeAt(i) === Ch_Slash ? i : -1;
}

function isHttpVersionSpan(line: string, from: number, to: number): boolean {
  const c0 = line.charCodeAt(from);
  if (c0 === Ch_H) return to - from >= 5 && line.startsWith('HTTP/', from);
  return to - from === 3 && line.charCodeAt(from + 1) === Ch_Dot && c0 >= Ch_Zero && c0 <= Ch_Nine;
}

// the same tests on a whole token (the general parser)
const isMethod = (t: string): boolean => isMethodSpan(t, 0, t.length);
const hierarchySlash = (t: string): number => hierarchySlashSpan(t, 0, t.length);
const isHttpVersion = (t: string): boolean => isHttpVersionSpan(t, 0, t.length);

/** `squidRecord`'s flags: the client column, the peer, is a dotted quad already checked in the line. */
export const CLIENT_QUAD = 1;
export const PEER_QUAD = 2;

/**
 * Parse one squid line; returns the record, or a ParseError when the line cannot be read.
 * The usual line (the ten default columns, an IPv4 client, no quotes or tabs) is read column by
 * column in one pass: a column whose characters are checked anyway (time, numbers, client, action,
 * method, hierarchy, a dotted-quad peer) ends where its characters stop, and only the URL, user, peer
 * and content type are cut by `indexOf(' ')`. Any other line goes to `parseSquidSpans`, which reads
 * the same layout from token spans, and everything else, every error included, to the general
 * parser; each fast path builds exactly the general parser's record (a property test holds them equal).
 */
export function parseSquid(line: string, st: SquidState): ProxyRecord | ParseError {
  st.valid = false;
  if (line.indexOf('\t') !== -1) return parseSquidTokens(line, st);
  if (!scanSquid(line, st)) return parseSquidSpans(line, st);
  return squidRecord(line, st, st.ts, st.duration, st.slash, st.status, st.bytes, st.hs, st.quads);
}

/**
 * The columns of a line in the usual layout (`parseSquid`'s fast path), read in one pass: true with
 * their spans in `st.tk` and their numbers in `st`; false for any other line (it may still be valid:
 * the slower readers decide). No tab check: the caller makes it. `probe`: the time is checked, not
 * formatted (`st.ts` is left as it was).
 */
function scanSquid(line: string, st: SquidState, probe = false): boolean {
  // every read below stays before `n`: a read past the end would make V8 treat each character as a
  // possible NaN (floating-point arithmetic from then on)
  let n = line.length;
  if (n > 0 && line.charCodeAt(n - 1) === Ch_Cr) n--;
  // 0: the time; squid writes `1699948800.007`, so its end is guessed (epochSpanToIso checks every character)
  let p = n > 14 && line.charCodeAt(14) === Ch_Space ? 14 : line.indexOf(' ');
  if (p <= 0 || p >= n) return false;
  let ts: string | undefined = '';
  if (probe) {
    if (!epochSpanRead(line, 0, p, st.clock)) return false;
  } else {
    ts = epochSpanToIso(line, 0, p, st.clock);
    if (ts === undefined) return false;
  }
  // `p` is at the space that ended a column; the runs of spaces are skipped in line (the reader is
  // too large for V8 to inline a helper at each of its nine places)
  // 1: elapsed ms
  while (++p < n && line.charCodeAt(p) === Ch_Space);
  const duration = dashOrUintAt(line, p, n, st);
  if (duration === -2) return false;
  // 2: the client, a dotted quad
  p = st.at;
  while (++p < n && line.charCodeAt(p) === Ch_Space);
  const s2 = p;
  const e2 = ipv4End(line, s2, n);
  if (e2 === -1 || e2 >= n || line.charCodeAt(e2) !== Ch_Space) return false;
  // 3: action/code
  p = e2;
  while (++p < n && line.charCodeAt(p) === Ch_Space);
  const s3 = p;
  let slash = s3;
  while (slash < n) {
    const c = line.charCodeAt(slash);
    if (c === Ch_Slash || c === Ch_Space) break;
    slash++;
  }
  if (slash === s3 || slash >= n || line.charCodeAt(slash) !== Ch_Slash || line.charCodeAt(s3) === Ch_Quote) return false;
  const status = dashOrUintAt(line, slash + 1, n, st);
  if (status === -2 || status > 999) return false;
  // 4: size
  p = st.at;
  while (++p < n && line.charCodeAt(p) === Ch_Space);
  const bytes = dashOrUintAt(line, p, n, st);
  if (bytes === -2) return false;
  // 5: method
  p = st.at;
  while (++p < n && line.charCodeAt(p) === Ch_Space);
  const s5 = p;
  const e5 = methodEnd(line, s5, n);
  if (e5 === -1 || e5 >= n || line.charCodeAt(e5) !== Ch_Space) return false;
  // 6: URL
  p = e5;
  while (++p < n && line.charCodeAt(p) === Ch_Space);
  const s6 = p;
  const e6 = line.indexOf(' ', s6);
  if (e6 === -1 || e6 >= n || line.charCodeAt(s6) === Ch_Quote) return false;
  // 7: user
  p = e6;
  while (++p < n && line.charCodeAt(p) === Ch_Space);
  const s7 = p;
  const e7 = line.indexOf(' ', s7);
  if (e7 === -1 || e7 >= n || line.charCodeAt(s7) === Ch_Quote) return false;
  // 8: hierarchy/peer
  p = e7;
  while (++p < n && line.charCodeAt(p) === Ch_Space);
  const s8 = p;
  let hs = s8;
  while (hs < n) {
    const c = line.charCodeAt(hs);
    if (!((c >= Ch_A && c <= Ch_Z) || c === Ch_Underscore)) break;
    hs++;
  }
  if (hs - s8 < 2 || hs >= n || line.charCodeAt(hs) !== Ch_Slash) return false;
  let quads = CLIENT_QUAD;
  let e8 = ipv4End(line, hs + 1, n);
  if (e8 !== -1 && e8 < n && line.charCodeAt(e8) === Ch_Space) quads |= PEER_QUAD;
  else {
    e8 = line.indexOf(' ', hs + 1);
    if (e8 === -1 || e8 >= n) return false;
  }
  // 9: content type, the last column
  p = e8;
  while (++p < n && line.charCodeAt(p) === Ch_Space);
  const s9 = p;
  if (s9 >= n || line.charCodeAt(s9) === Ch_Quote) return false;
  let e9 = line.indexOf(' ', s9);
  if (e9 === -1 || e9 >= n) e9 = n;
  else {
    p = e9;
    while (++p < n && line.charCodeAt(p) === Ch_Space);
    if (p < n) return false;
  }
  const tk = st.tk;
  const s = tk.starts;
  const e = tk.ends;
  s[2] = s2;
  e[2] = e2;
  s[3] = s3;
  s[5] = s5;
  e[5] = e5;
  s[6] = s6;
  e[6] = e6;
  s[7] = s7;
  e[7] = e7;
  s[8] = s8;
  e[8] = e8;
  s[9] = s9;
  e[9] = e9;
  if (!probe) st.ts = ts;
  st.duration = duration;
  st.slash = slash;
  st.status = status;
  st.bytes = bytes;
  st.hs = hs;
  st.quads = quads;
  return true;
}

/**
 * `-` (→ -1) or a non-negative integer of at most 15 digits (→ its value) at `i`, as `dashOrUint`
 * reads a token that ends at the next space (left in `st.at`); -2 for anything else, or when no
 * space before `n` follows.
 */
function dashOrUintAt(line: string, i: number, n: number, st: SquidState): number {
  if (i >= n) return -2;
  let v: number;
  if (line.charCodeAt(i) === Ch_Dash) {
    v = -1;
    i++;
  } else {
    const from = i;
    v = 0;
    while (i < n) {
      const d = line.charCodeAt(i) - Ch_Zero;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      i++;
    }
    if (i === from || i - from > 15) return -2;
  }
  st.at = i;
  return i < n && line.charCodeAt(i) === Ch_Space ? v : -2;
}

/** Where the method (`isMethodSpan`'s characters, at most 32) that starts at `i` ends, or -1. */
function methodEnd(line: string, i: number, n: number): number {
  if (i >= n) return -1;
  const from = i;
  const c0 = line.charCodeAt(i);
  if (!((c0 >= Ch_A && c0 <= Ch_Z) || (c0 >= Ch_a && c0 <= Ch_z))) return -1;
  i++;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (!((c >= Ch_A && c <= Ch_Z) || (c >= Ch_a && c <= Ch_z) || c === Ch_Underscore || c === Ch_Dash || (c >= Ch_Zero && c <= Ch_Nine))) break;
    i++;
  }
  return i - from > 32 ? -1 : i;
}

/**
 * The squid layout read from token spans (`scanSpans`): the ten default columns, no quotes, any
 * client; the general parser for anything else.
 */
function parseSquidSpans(line: string, st: SquidState): ProxyRecord | ParseError {
  const tk = st.tk;
  if (!scanSpans(line, tk) || tk.count !== 10) return parseSquidTokens(line, st);
  const s = tk.starts;
  const e = tk.ends;
  const ts = epochSpanToIso(line, s[0]!, e[0]!, st.clock);
  if (ts === undefined) return parseSquidTokens(line, st);
  const duration = dashOrUint(line, s[1]!, e[1]!);
  if (duration === -2) return parseSquidTokens(line, st);
  // action/code (a client port column would have no slash here)
  const s3 = s[3]!;
  const e3 = e[3]!;
  let slash = s3;
  while (slash < e3 && line.charCodeAt(slash) !== Ch_Slash) slash++;
  if (slash === e3 || slash === s3) return parseSquidTokens(line, st);
  const status = dashOrUint(line, slash + 1, e3);
  if (status === -2 || status > 999) return parseSquidTokens(line, st);
  const bytes = dashOrUint(line, s[4]!, e[4]!);
  if (bytes === -2) return parseSquidTokens(line, st);
  if (!isMethodSpan(line, s[5]!, e[5]!)) return parseSquidTokens(line, st);
  const s8 = s[8]!;
  const hs = hierarchySlashSpan(line, s8, e[8]!);
  if (hs === -1) return parseSquidTokens(line, st);
  return squidRecord(line, st, ts, duration, slash, status, bytes, hs, 0);
}

/**
 * Whether the URL and user columns `scanSquid` found keep the line in the default layout: not an
 * `error:` URL (an aborted transaction), not a URL split by a space (`http://` alone), no HTTP
 * version column, no user that looks like a hierarchy. Otherwise the general parser reads it.
 */
function defaultColumns(line: string, st: SquidState): boolean {
  const s = st.tk.starts;
  const e = st.tk.ends;
  const s6 = s[6]!;
  const e6 = e[6]!;
  if (line.charCodeAt(s6) === Ch_e && line.startsWith('error:', s6)) return false;
  if (e6 - 3 >= s6 && line.charCodeAt(e6 - 1) === Ch_Slash && line.charCodeAt(e6 - 2) === Ch_Slash && line.charCodeAt(e6 - 3) === Ch_Colon) return false;
  const s7 = s[7]!;
  const e7 = e[7]!;
  return !isHttpVersionSpan(line, s7, e7) && hierarchySlashSpan(line, s7, e7) === -1;
}

/** The address of a peer column (`peer`, the text after the hierarchy's slash at `hs`, up to `e8`), or undefined. */
function peerIp(line: string, peer: string, hs: number, e8: number, quads: number): string | undefined {
  return (quads & PEER_QUAD) !== 0 || parseIPv4Span(line, hs + 1, e8) >= 0 ? peer : canonicalIp(peer);
}

/**
 * The few fields of a line's record a record gate reads (`SQUID_PROBE_PATHS`), made without the
 * record: when `parseSquid` would build the line's record on its fast path and vouch for it
 * (`st.valid`), a record holding exactly those fields, with the values the parser's record has
 * (a property test holds them equal); undefined for any other line, which is then parsed. The line
 * must be on the fast path with a URL `commonUrlSpans` reads: the rare others are parsed.
 */
export function probeSquid(line: string, st: SquidState): SquidProbe | undefined {
  if (line.indexOf('\t') !== -1 || !scanSquid(line, st, true) || !defaultColumns(line, st)) return undefined;
  const s = st.tk.starts;
  const e = st.tk.ends;
  const s6 = s[6]!;
  const e6 = e[6]!;
  const connect = e[5]! - s[5]! === 7 && line.startsWith('CONNECT', s[5]!);
  const hostLen = commonUrlSpans(line, s6, e6, connect, st);
  if (hostLen === -1 || hostLen > MAX_DOMAIN) return undefined;
  const domain = line.slice(st.hostStart, st.hostEnd);
  const original = line.slice(s6, e6);
  const hs = st.hs;
  const e8 = e[8]!;
  let ip: string | undefined;
  if (!(hs + 1 >= e8 || is1(line, hs + 1, e8, Ch_Dash)) && isDirect(line.slice(s[8]!, hs), st)) ip = peerIp(line, line.slice(hs + 1, e8), hs, e8, st.quads);
  return {
    source: { ip: line.slice(s[2]!, e[2]!) },
    destination: { ip, domain },
    url: { original, full: st.urlScheme === 0 ? undefined : original, domain },
  };
}

/** The record fields `probeSquid` makes (the ones an ioc-sweep reads by default, and the client). */
export const SQUID_PROBE_PATHS: readonly string[] = ['source.ip', 'destination.ip', 'destination.domain', 'url.original', 'url.full', 'url.domain'];

export interface SquidProbe {
  source: { ip: string };
  destination: { ip: string | undefined; domain: string };
  url: { original: string; full: string | undefined; domain: string };
}

/**
 * The record of a line in the default layout, or the general parser's answer where the URL or the
 * user column says the line is not (an `error:` URL, a URL split by a space, an HTTP version column,
 * a user that looks like a hierarchy). The columns' spans are in `st.tk` (columns 2, 3, 5 to 9; the
 * action ends at `slash`, the hierarchy at `hs`), the numbers already read (-1: `-`); `quads` says
 * which addresses are dotted quads checked in the line.
 */
function squidRecord(
  line: string,
  st: SquidState,
  ts: string,
  duration: number,
  slash: number,
  status: number,
  bytes: number,
  hs: number,
  quads: number,
): ProxyRecord | ParseError {
  if (!defaultColumns(line, st)) return parseSquidTokens(line, st);
  const tk = st.tk;
  const s = tk.starts;
  const e = tk.ends;
  const s6 = s[6]!;
  const e6 = e[6]!;
  const s7 = s[7]!;
  const e7 = e[7]!;
  const s8 = s[8]!;
  const e8 = e[8]!;

  const method = line.slice(s[5]!, e[5]!);
  const hierarchy = line.slice(s8, hs);
  const peer = hs + 1 >= e8 || is1(line, hs + 1, e8, Ch_Dash) ? undefined : line.slice(hs + 1, e8);
  const client = (quads & CLIENT_QUAD) !== 0 ? { ip: line.slice(s[2]!, e[2]!), port: undefined, domain: undefined } : clientIp(line, s[2]!, e[2]!);
  const rec: ProxyRecord = {
    '@timestamp': ts,
    event: {
      dataset: 'squid.access',
      action: line.slice(s[3]!, slash),
      duration: duration < 0 ? undefined : duration * 1_000_000,
      reason: undefined,
      original: undefined,
    },
    source: client,
    destination: undefined,
    user: is1(line, s7, e7, Ch_Dash) ? undefined : { name: line.slice(s7, e7) },
    url: undefined,
    http: {
      version: undefined,
      request: { method, referrer: undefined, bytes: undefined },
      response: {
        status_code: status < 0 ? undefined : status,
        bytes: bytes < 0 ? undefined : bytes,
        mime_type: is1(line, s[9]!, e[9]!, Ch_Dash) ? undefined : line.slice(s[9]!, e[9]!),
      },
    },
    user_agent: undefined,
    observer: undefined,
    tags: undefined,
    squid: { hierarchy, peer },
    apache: undefined,
    proxysg: undefined,
    zscaler: undefined,
    json: undefined,
    origin: undefined,
  };
  const host = commonUrl(rec, line, s6, e6, method === 'CONNECT', st);
  if (host === -1) {
    const urlText = line.slice(s6, e6);
    if (!fillUrl(rec, urlText, method === 'CONNECT')) {
      rec.url = newUrl(urlText);
      addTag(rec, 'url_unparsed');
    }
  } else st.valid = host <= MAX_DOMAIN;
  // the peer a DIRECT request went to is the server's address (a dotted quad, mostly: read in place)
  if (peer !== undefined && isDirect(hierarchy, st)) {
    const ip = peerIp(line, peer, hs, e8, quads);
    if (ip !== undefined) {
      const d = (rec.destination ??= newDestination());
      if (d.ip === undefined) d.ip = ip;
    }
  }
  return rec;
}

/** `-` → -1; a non-negative integer → its value; anything else → -2. */
function dashOrUint(line: string, from: number, to: number): number {
  if (to - from === 1 && line.charCodeAt(from) === Ch_Dash) return -1;
  const v = parseUintSpan(line, from, to);
  return v < 0 ? -2 : v;
}

/** source from the client column: canonical IP when it is one (as logged, mostly), else the name. */
function clientIp(line: string, from: number, to: number): SourceFields {
  const text = line.slice(from, to);
  // a dotted quad (as squid logs clients) is its own canonical text: read it in the line, not in the slice
  if (parseIPv4Span(line, from, to) >= 0) return { ip: text, port: undefined, domain: undefined };
  const ip = canonicalIp(text);
  return { ip, port: undefined, domain: ip === undefined ? text : undefined };
}

/** Does this hierarchy code name a request squid sent to the server itself (`DIRECT`, `HIER_DIRECT`, `ORIGINAL_DST`)? */
export function isDirect(hierarchy: string, st: SquidState): boolean {
  if (hierarchy !== st.lastHierarchy) {
    st.lastHierarchy = hierarchy;
    // ORIGINAL_DST (interception): the peer is the address the client was going to
    st.lastDirect = hierarchy.indexOf('DIRECT') !== -1 || hierarchy === 'ORIGINAL_DST';
  }
  return st.lastDirect;
}

/** The characters of a host name the fast URL reader takes: 1 for a-z and '-', 2 for a digit or '.'. */
const HOST_CHAR = new Uint8Array(128);
for (let c = Ch_a; c <= Ch_z; c++) HOST_CHAR[c] = 1;
HOST_CHAR[Ch_Dash] = 1;
for (let c = Ch_Zero; c <= Ch_Nine; c++) HOST_CHAR[c] = 2;
HOST_CHAR[Ch_Dot] = 2;

/** The record schema's longest domain. */
export const MAX_DOMAIN = 253;

/**
 * The two URL forms nearly every squid line has, read from the line without the general splitter:
 * `http(s)://name/path[?query]` and, for CONNECT, `name:port`, where the name is lower-case letters,
 * digits, '-' and '.' (not only digits and dots: that may be an address), not ending in '.'.
 * `commonUrlSpans` reads the form (its spans in `st`) and returns the host name's length, or -1 for
 * anything else; `commonUrl` fills `url` and `destination` from them exactly as fillUrl would (a
 * property test holds them equal).
 */
function commonUrlSpans(line: string, from: number, to: number, connect: boolean, st: SquidState): number {
  let i = from;
  let scheme = 0;
  // "http://" or "https://", read as characters (cheaper here than startsWith)
  if (
    to - from > 8 &&
    line.charCodeAt(from) === Ch_h &&
    line.charCodeAt(from + 1) === Ch_t &&
    line.charCodeAt(from + 2) === Ch_t &&
    line.charCodeAt(from + 3) === Ch_p
  ) {
    const c4 = line.charCodeAt(from + 4);
    if (c4 === Ch_Colon && line.charCodeAt(from + 5) === Ch_Slash && line.charCodeAt(from + 6) === Ch_Slash) {
      scheme = 1;
      i += 7;
    } else if (c4 === Ch_s && line.charCodeAt(from + 5) === Ch_Colon && line.charCodeAt(from + 6) === Ch_Slash && line.charCodeAt(from + 7) === Ch_Slash) {
      scheme = 2;
      i += 8;
    }
  }
  if (scheme === 0 && !connect) return -1;
  const hostStart = i;
  // one table load per character, and no branch on which kind it is
  let kinds = 0;
  for (; i < to; i++) {
    const c = line.charCodeAt(i);
    const k = c < 128 ? HOST_CHAR[c]! : 0;
    if (k === 0) break;
    kinds |= k;
  }
  if ((kinds & 1) === 0 || line.charCodeAt(i - 1) === Ch_Dot) return -1;
  const hostEnd = i;
  st.urlScheme = scheme;
  st.hostStart = hostStart;
  st.hostEnd = hostEnd;
  if (scheme !== 0) {
    if (hostEnd === to || line.charCodeAt(hostEnd) !== Ch_Slash) return -1;
    let q = line.indexOf('?', hostEnd);
    if (q >= to) q = -1;
    const hash = line.indexOf('#', hostEnd);
    if (hash !== -1 && hash < to) return -1;
    st.query = q;
    return hostEnd - hostStart;
  }
  // CONNECT name:port
  if (hostEnd === to || line.charCodeAt(hostEnd) !== Ch_Colon) return -1;
  const digits = to - hostEnd - 1;
  if (digits < 1 || digits > 5) return -1;
  let port = 0;
  for (let k = hostEnd + 1; k < to; k++) {
    const c = line.charCodeAt(k) - Ch_Zero;
    if (c < 0 || c > 9) return -1;
    port = port * 10 + c;
  }
  if (port > 65535) return -1;
  st.port = port;
  return hostEnd - hostStart;
}

/** `commonUrlSpans`, then `url` and `destination` filled from the spans; -1 (nothing changed) for another form. */
function commonUrl(rec: ProxyRecord, line: string, from: number, to: number, connect: boolean, st: SquidState): number {
  const len = commonUrlSpans(line, from, to, connect, st);
  if (len === -1) return -1;
  const host = line.slice(st.hostStart, st.hostEnd);
  if (st.urlScheme !== 0) {
    const q = st.query;
    const original = line.slice(from, to);
    const url = newUrl(original);
    url.full = original;
    url.scheme = st.urlScheme === 1 ? 'http' : 'https';
    url.domain = host;
    url.path = line.slice(st.hostEnd, q === -1 ? to : q);
    if (q !== -1) url.query = line.slice(q + 1, to);
    rec.url = url;
    rec.destination = { ip: undefined, port: st.urlScheme === 1 ? 80 : 443, domain: host };
    return len;
  }
  const url = newUrl(line.slice(from, to));
  url.domain = host;
  url.port = st.port;
  rec.url = url;
  rec.destination = { ip: undefined, port: st.port, domain: host };
  return len;
}

function directPeer(rec: ProxyRecord, peer: string): void {
  const ip = canonicalIp(peer);
  if (ip !== undefined) {
    const d = (rec.destination ??= newDestination());
    if (d.ip === undefined) d.ip = ip;
  }
}

/** The general squid parser over tokens (every tolerated variant, and every error message). */
export function parseSquidTokens(line: string, st: SquidState): ProxyRecord | ParseError {
  const tk = st.tk;
  tokenize(line, tk, QuoteEscape.Backslash);
  const t = tk.values;
  const count = tk.count;
  if (count < 10) return new ParseError(ERR.FIELD_COUNT, `squid: expected at least 10 fields, found ${count}`);

  const ts = epochSecondsToIso(t[0]!, st.clock);
  if (ts === undefined) return new ParseError(ERR.TIMESTAMP, `squid: bad time '${clip(t[0]!)}' (want epoch seconds like 1157689312.049)`);
  const event = newEvent('squid.access', undefined, undefined);
  const rec = newRecord(ts, event);
  const elapsed = t[1]!;
  if (elapsed !== '-') {
    const ms = parseUint(elapsed);
    if (ms < 0) return new ParseError(ERR.NUMBER, `squid: bad elapsed time '${clip(elapsed)}'`);
    event.duration = ms * 1_000_000;
  }
  setSource(rec, t[2]!);
  let i = 3;
  let clientPort = false;
  // custom layouts put the client port right after the client address
  if (t[3]!.indexOf('/') === -1 && parseUint(t[3]!) >= 0 && t[4]!.indexOf('/') !== -1) {
    const p = parseUint(t[3]!);
    if (p <= 65535) {
      rec.source!.port = p;
      clientPort = true;
    }
    i = 4;
  }
  const ac = t[i]!;
  const slash = ac.indexOf('/');
  if (slash < 1) return new ParseError(ERR.SYNTAX, `squid: expected action/code, found '${clip(ac)}'`);
  event.action = ac.slice(0, slash);
  const response = newResponse();
  const code = ac.slice(slash + 1);
  if (code !== '-') {
    const c = parseUint(code);
    if (c < 0 || c > 999) return new ParseError(ERR.NUMBER, `squid: bad status code '${clip(code)}'`);
    response.status_code = c;
  }
  i++;
  const size = t[i]!;
  if (size !== '-') {
    const b = parseUint(size);
    if (b < 0) return new ParseError(ERR.NUMBER, `squid: bad size '${clip(size)}'`);
    response.bytes = b;
  }
  i++;
  // custom layouts log more sizes before the method: skip numeric/'-' columns (at most 8)
  const skipFrom = i;
  while (i < count && i - skipFrom < 8 && !isMethod(t[i]!)) {
    const v = t[i]!;
    if (v !== '-' && parseUint(v) < 0) break;
    i++;
  }
  // an aborted transaction (squid writes `-` or `NONE` as the method and an `error:*` pseudo-URL, or the
  // error in the method column): the '-' method was taken for a size column above, give it back
  if (i < count && i > skipFrom && isErrorText(t[i]!) && t[i - 1] === '-') i--;
  let reason: string | undefined;
  let method: string | undefined;
  const m = i < count ? t[i]! : '';
  if (m === '-') method = undefined;
  else if (isErrorText(m)) reason = m;
  else if (i >= count || !isMethod(m)) return new ParseError(ERR.SYNTAX, `squid: expected a request method, found '${clip(t[i] ?? '')}'`);
  else method = m;
  const sizes = i > skipFrom ? t.slice(skipFrom, i) : undefined;
  i++;
  if (i >= count) return new ParseError(ERR.FIELD_COUNT, 'squid: line ends before the URL');
  if (isErrorText(t[i]!)) {
    reason = t[i]!;
    if (method === 'NONE') method = undefined;
  }
  let urlText = t[i]!;
  let urlForParts = urlText;
  i++;
  // a URL logged with a space after the scheme ("http:// host/path"): the host is the next token
  if (urlText.endsWith('://') && i < count && hierarchySlash(t[i]!) === -1) {
    urlForParts = urlText + t[i]!;
    urlText = line.slice(tk.starts[i - 1]!, tk.ends[i]!);
    i++;
  }
  let version: string | undefined;
  if (i < count && isHttpVersion(t[i]!)) {
    version = t[i]!.startsWith('HTTP/') ? t[i]!.slice(5) : t[i]!;
    i++;
  }
  // the user runs up to the hierarchy/peer column (user names may hold spaces: "CN=Agent Smith,O=x")
  let h = i;
  while (h < count && hierarchySlash(t[h]!) === -1) h++;
  if (h >= count) return new ParseError(ERR.FIELD_COUNT, 'squid: no hierarchy/peer column (like DIRECT/192.0.2.1 or NONE/-)');
  if (h === i) return new ParseError(ERR.FIELD_COUNT, 'squid: no user column between the URL and the hierarchy');
  const user = h === i + 1 ? t[i]! : line.slice(tk.starts[i]!, tk.ends[h - 1]!);
  if (user !== '-') rec.user = { name: user };
  const hier = t[h]!;
  const hs = hierarchySlash(hier);
  const peerText = hier.slice(hs + 1);
  const squid: Rec = { hierarchy: hier.slice(0, hs), peer: peerText !== '-' && peerText.length > 0 ? peerText : undefined };
  if (sizes !== undefined) squid.sizes = sizes;
  i = h + 1;
  // the custom layout (client port, extra sizes, HTTP version) also logs the peer port (or '-')
  const custom = clientPort || sizes !== undefined || version !== undefined;
  if (custom && i < count - 1 && (t[i] === '-' || parseUint(t[i]!) >= 0)) {
    const p = parseUint(t[i]!);
    if (p >= 0 && p <= 65535) squid.peer_port = p;
    i++;
  }
  if (i >= count) return new ParseError(ERR.FIELD_COUNT, 'squid: line ends before the content type');
  const type = t[i]!;
  if (type !== '-' && type.length > 0) response.mime_type = type;
  i++;

  const request = newRequest(method);
  const http = newHttp(request, response);
  http.version = version;
  rec.http = http;
  event.reason = reason;

  const connect = method === 'CONNECT';
  if (reason !== undefined && (isErrorText(urlText) || urlText === '-')) {
    // no URL: the client sent none (or junk); the error says why
  } else if (!fillUrl(rec, urlForParts, connect)) {
    // squid logs what the client sent ("error:invalid-request", junk): keep it, flag it
    rec.url = newUrl(urlText);
    addTag(rec, 'url_unparsed');
  } else if (urlForParts !== urlText) rec.url!.original = urlText;
  // the peer a DIRECT request went to is the server's address
  if (squid.peer !== undefined && isDirect(squid.hierarchy, st)) directPeer(rec, squid.peer);

  if (i < count) {
    const tailStart = tk.starts[i]!;
    squid.extra = trimCr(line.slice(tailStart));
    let quotedSeen = 0;
    for (let k = i; k < count; k++) {
      if (!tk.quoted[k]) continue;
      const v = t[k]!;
      if (quotedSeen === 0 && v !== '-' && v.length > 0) request.referrer = v;
      else if (quotedSeen === 1 && v !== '-' && v.length > 0) rec.user_agent = newUserAgent(v);
      quotedSeen++;
    }
    if (quotedSeen === 0) {
      // BlueCoat's squid-compatible layout: category, then the User-Agent unquoted to the end
      const cat = t[i]!;
      if (cat !== '-') (rec.url ??= newUrl(undefined)).category = cat;
      if (i + 1 < count) {
        const ua = trimCr(line.slice(tk.starts[i + 1]!)).trimEnd();
        if (ua !== '-' && ua.length > 0) rec.user_agent = newUserAgent(ua);
      }
    }
  }
  if (method === undefined && request.referrer === undefined) http.request = undefined;
  rec.squid = squid;
  return rec;
}

/** squid's pseudo-URL (or method) of a transaction that ended before a request: `error:transaction-end-before-headers`, `error:invalid-request` … */
export function isErrorText(s: string): boolean {
  return s.length > 6 && s.charCodeAt(0) === Ch_e && s.startsWith('error:');
}

function trimCr(s: string): string {
  return s.charCodeAt(s.length - 1) === Ch_Cr ? s.slice(0, -1) : s;
}

export function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
