/**
 * The squid line probe read from the line's bytes (plugin API 1.10, `LineProbe.spans`): for an ASCII
 * line, the same answer as `probeSquid` gives of its text, as places in the bytes, without making the
 * line's string. It reads the same layout as `scanSquid`'s fast path (squid.ts) column by column, with
 * the same tests, over `Uint8Array` elements instead of string characters (a byte costs a bounds
 * check; a string's character a check of the string's representation as well). A property test holds
 * it to `probeSquid` on generated lines (test/plugins/proxy-log/fast-path.property.test.ts).
 */
import { SPAN_HASH_OFFSET, SPAN_HASH_PRIME, spanHash, spanHashFinish, spanIs, spanText, type LineSpans } from '../../../src/api.js';
import { canonicalIp, ipv4EndBytes, parseIPv4Span } from '../../../src/internal.js';
import { CLIENT_QUAD, MAX_DOMAIN, PEER_QUAD, SQUID_PROBE_PATHS, isDirect, type SquidState } from './squid.js';
import { epochBytesRead } from './time.js';

const Ch_Tab = 0x09;
const Ch_Cr = 0x0d;
const Ch_Space = 0x20;
const Ch_Quote = 0x22; // "
const Ch_Dash = 0x2d; // -
const Ch_Dot = 0x2e; // .
const Ch_Slash = 0x2f; // /
const Ch_Zero = 0x30;
const Ch_Nine = 0x39;
const Ch_Colon = 0x3a; // :
const Ch_Hash = 0x23; // #
const Ch_A = 0x41;
const Ch_C = 0x43;
const Ch_E = 0x45;
const Ch_H = 0x48;
const Ch_N = 0x4e;
const Ch_O = 0x4f;
const Ch_P = 0x50;
const Ch_T = 0x54;
const Ch_Z = 0x5a;
const Ch_Underscore = 0x5f; // _
const Ch_a = 0x61;
const Ch_e = 0x65;
const Ch_h = 0x68;
const Ch_o = 0x6f;
const Ch_p = 0x70;
const Ch_r = 0x72;
const Ch_s = 0x73;
const Ch_t = 0x74;
const Ch_z = 0x7a;

/** Host name bytes the URL reader takes (as squid.ts's table): 1 for a-z and '-', 2 for a digit or '.'. */
const HOST_BYTE = new Uint8Array(256);
for (let c = Ch_a; c <= Ch_z; c++) HOST_BYTE[c] = 1;
HOST_BYTE[Ch_Dash] = 1;
for (let c = Ch_Zero; c <= Ch_Nine; c++) HOST_BYTE[c] = 2;
HOST_BYTE[Ch_Dot] = 2;

// `SQUID_PROBE_PATHS` by index, as a plan's `which` holds them (0: source.ip)
const P_DESTINATION_IP = 1;
const P_DESTINATION_DOMAIN = 2;
const P_URL_ORIGINAL = 3;
const P_URL_FULL = 4;
const P_URL_DOMAIN = 5;

/**
 * What `probeSquidBytes` fills for a gate's paths: which probe field each path is, and which to
 * hash; and, as it reads a block's lines, where the block's rare bytes stand (scratch).
 */
export class SquidSpanPlan {
  readonly which: Uint8Array;
  readonly hashed: Uint8Array;
  /** A host path is hashed: the URL reader hashes the host as it scans it. */
  readonly hashHost: boolean;
  readonly rare = new RareBytes();

  /** Throws for a path `probeSquid` does not make (see `SQUID_PROBE_PATHS`). */
  constructor(paths: readonly string[], hashPaths: readonly string[]) {
    this.which = new Uint8Array(paths.length);
    this.hashed = new Uint8Array(paths.length);
    let hashHost = false;
    paths.forEach((p, k) => {
      const w = SQUID_PROBE_PATHS.indexOf(p);
      if (w < 0) throw new Error(`proxy-log: the squid probe does not make '${p}'`);
      this.which[k] = w;
      if (hashPaths.includes(p)) {
        this.hashed[k] = 1;
        if (w === P_DESTINATION_DOMAIN || w === P_URL_DOMAIN) hashHost = true;
      }
    });
    this.hashHost = hashHost;
  }
}

/**
 * `probeSquid` of the ASCII line `b[from, to)` as places in `b` (`LineSpans`): true for exactly the
 * lines `probeSquid` answers, with the span of each of `plan`'s paths (-1 where the probe has
 * undefined) and the hashes the plan asks for (the host's computed while the URL reader scans it).
 * False also where a value is not a piece of the line: a DIRECT peer whose canonical address is
 * written otherwise (an IPv6 address in upper case, not compressed), which is then parsed.
 */
export function probeSquidBytes(b: Uint8Array, from: number, to: number, st: SquidState, plan: SquidSpanPlan, out: LineSpans): boolean {
  const rare = plan.rare;
  if (!scanSquidBytes(b, from, to, st, rare) || !defaultColumnsBytes(b, st)) return false;
  const s = st.tk.starts;
  const e = st.tk.ends;
  const s5 = s[5]!;
  const s6 = s[6]!;
  const e6 = e[6]!;
  const connect = e[5]! - s5 === 7 && isConnect(b, s5);
  const hostLen = commonUrlBytes(b, s6, e6, connect, st, plan.hashHost, rare);
  if (hostLen === -1 || hostLen > MAX_DOMAIN) return false;
  // the DIRECT peer (destination.ip), in place when the line spells it canonically
  const hs = st.hs;
  const e8 = e[8]!;
  let ipStart = -1;
  if (!(hs + 1 >= e8 || (e8 - hs === 2 && b[hs + 1] === Ch_Dash)) && isDirectBytes(b, s[8]!, hs, st)) {
    if ((st.quads & PEER_QUAD) !== 0) ipStart = hs + 1;
    else {
      const peer = spanText(b, hs + 1, e8);
      if (parseIPv4Span(peer, 0, peer.length) >= 0) ipStart = hs + 1;
      else {
        const ip = canonicalIp(peer);
        if (ip !== undefined) {
          if (ip !== peer) return false;
          ipStart = hs + 1;
        }
      }
    }
  }
  const which = plan.which;
  const hashed = plan.hashed;
  const os = out.start;
  const oe = out.end;
  const oh = out.hash;
  for (let k = 0; k < which.length; k++) {
    const w = which[k]!;
    let x: number;
    let y: number;
    if (w === P_DESTINATION_DOMAIN || w === P_URL_DOMAIN) {
      x = st.hostStart;
      y = st.hostEnd;
      if (hashed[k] === 1) oh[k] = st.hostHash;
    } else {
      if (w === P_URL_ORIGINAL) {
        x = s6;
        y = e6;
      } else if (w === P_URL_FULL) {
        x = st.urlScheme === 0 ? -1 : s6;
        y = e6;
      } else if (w === P_DESTINATION_IP) {
        x = ipStart;
        y = e8;
      } else {
        // P_SOURCE_IP
        x = s[2]!;
        y = e[2]!;
      }
      if (hashed[k] === 1 && x >= 0) oh[k] = spanHash(b, x, y);
    }
    os[k] = x;
    oe[k] = y;
  }
  return true;
}

/** Is `b[i, i + 7)` `CONNECT`? */
function isConnect(b: Uint8Array, i: number): boolean {
  return b[i] === Ch_C && b[i + 1] === Ch_O && b[i + 2] === Ch_N && b[i + 3] === Ch_N && b[i + 4] === Ch_E && b[i + 5] === Ch_C && b[i + 6] === Ch_T;
}

/** Does the hierarchy code `b[from, to)` name a request squid sent to the server itself? `isDirect` without the string, for a code seen last time. */
function isDirectBytes(b: Uint8Array, from: number, to: number, st: SquidState): boolean {
  if (!spanIs(b, from, to, st.lastHierarchy)) return isDirect(spanText(b, from, to), st);
  return st.lastDirect;
}

/**
 * `scanSquid(line, st, true)` of the line `b[from, to)`, and no tab in it (`probeSquid` refuses a
 * line with one): the columns' spans in `st.tk` (positions in `b`), `st.hs` and `st.quads`. False for any other line. Every byte of a line it
 * accepts is read by one of its loops, so a tab anywhere makes it refuse.
 */
function scanSquidBytes(b: Uint8Array, from: number, to: number, st: SquidState, rare: RareBytes): boolean {
  rare.line(b, from);
  if (rare.tabAt(b, from) < to) return false;
  let n = to;
  if (n > from && b[n - 1] === Ch_Cr) n--;
  // 0: the time
  let p = n - from > 14 && b[from + 14] === Ch_Space ? from + 14 : spaceAt(b, from, n);
  if (p <= from || p >= n) return false;
  if (!epochBytesRead(b, from, p, st.clock)) return false;
  // 1: elapsed ms
  while (++p < n && b[p] === Ch_Space);
  if (dashOrUintBytes(b, p, n, st) === -2) return false;
  // 2: the client, a dotted quad
  p = st.at;
  while (++p < n && b[p] === Ch_Space);
  const s2 = p;
  const e2 = ipv4EndBytes(b, s2, n);
  if (e2 === -1 || e2 >= n || b[e2] !== Ch_Space) return false;
  // 3: action/code
  p = e2;
  while (++p < n && b[p] === Ch_Space);
  const s3 = p;
  let slash = s3;
  while (slash < n) {
    const c = b[slash]!;
    if (c === Ch_Slash || c === Ch_Space) break;
    slash++;
  }
  if (slash === s3 || slash >= n || b[slash] !== Ch_Slash || b[s3] === Ch_Quote) return false;
  const status = dashOrUintBytes(b, slash + 1, n, st);
  if (status === -2 || status > 999) return false;
  // 4: size
  p = st.at;
  while (++p < n && b[p] === Ch_Space);
  if (dashOrUintBytes(b, p, n, st) === -2) return false;
  // 5: method
  p = st.at;
  while (++p < n && b[p] === Ch_Space);
  const s5 = p;
  const e5 = methodEndBytes(b, s5, n);
  if (e5 === -1 || e5 >= n || b[e5] !== Ch_Space) return false;
  // 6: URL
  p = e5;
  while (++p < n && b[p] === Ch_Space);
  const s6 = p;
  // the URL, the user and the last column are not read here, only their ends found (natively)
  const e6 = nextSpace(b, s6);
  if (e6 < 0 || e6 >= n || b[s6] === Ch_Quote) return false;
  // 7: user
  p = e6;
  while (++p < n && b[p] === Ch_Space);
  const s7 = p;
  const e7 = nextSpace(b, s7);
  if (e7 < 0 || e7 >= n || b[s7] === Ch_Quote) return false;
  // 8: hierarchy/peer
  p = e7;
  while (++p < n && b[p] === Ch_Space);
  const s8 = p;
  let hs = s8;
  while (hs < n) {
    const c = b[hs]!;
    if (!((c >= Ch_A && c <= Ch_Z) || c === Ch_Underscore)) break;
    hs++;
  }
  if (hs - s8 < 2 || hs >= n || b[hs] !== Ch_Slash) return false;
  let quads = CLIENT_QUAD | PEER_QUAD;
  let e8 = ipv4EndBytes(b, hs + 1, n);
  if (e8 === -1 || e8 >= n || b[e8] !== Ch_Space) {
    quads = CLIENT_QUAD;
    e8 = spaceAt(b, hs + 1, n);
    if (e8 < 0 || e8 >= n) return false;
  }
  // 9: content type, the last column
  p = e8;
  while (++p < n && b[p] === Ch_Space);
  const s9 = p;
  if (s9 >= n || b[s9] === Ch_Quote) return false;
  let e9 = nextSpace(b, s9);
  if (e9 === -1 || e9 >= n) e9 = n;
  else {
    p = e9;
    while (++p < n && b[p] === Ch_Space);
    if (p < n) return false;
  }
  const tk = st.tk;
  const s = tk.starts;
  const e = tk.ends;
  s[2] = s2;
  e[2] = e2;
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
  st.hs = hs;
  st.quads = quads;
  return true;
}

/** Where the first space of `b[i, n)` is, or -1. */
function spaceAt(b: Uint8Array, i: number, n: number): number {
  for (; i < n; i++) if (b[i] === Ch_Space) return i;
  return -1;
}

const bufferIndexOf = Buffer.prototype.indexOf;

/** Where the first space at or after `i` in `b` is, or -1 (a native search: cheaper than a loop past a few bytes). */
function nextSpace(b: Uint8Array, i: number): number {
  return bufferIndexOf.call(b, Ch_Space, i);
}

/**
 * Where the bytes a line of the fast path must not hold (a tab, a `#` in the URL) next stand in the
 * block being probed: found once by a native search and reused by the lines before it, so no loop
 * reads a line's URL, user or last column byte by byte. Lines are asked in order through a block;
 * a line that starts no later than the last one asked (another block, or the same memory refilled)
 * starts over.
 */
export class RareBytes {
  private bytes: Uint8Array | null = null;
  private from = -1;
  private tab = -1;
  private hash = -1;

  /** The line starting at `from` of `b` is about to be read. */
  line(b: Uint8Array, from: number): void {
    // no branch: stores first run at the second block (a branch taken once a block) would be compiled
    // without type feedback, and would throw the optimised line scanner away there
    const fresh = b !== this.bytes || from <= this.from;
    this.bytes = b;
    this.tab = fresh ? -1 : this.tab;
    this.hash = fresh ? -1 : this.hash;
    this.from = from;
  }

  /** The first tab at or after `i` (no earlier than the current line's start), or `b.length`. */
  tabAt(b: Uint8Array, i: number): number {
    if (this.tab < i) {
      const t = bufferIndexOf.call(b, Ch_Tab, i);
      this.tab = t < 0 ? b.length : t;
    }
    return this.tab;
  }

  /** The first `#` at or after `i` (no earlier than the current line's start), or `b.length`. */
  hashAt(b: Uint8Array, i: number): number {
    if (this.hash < i) {
      const t = bufferIndexOf.call(b, Ch_Hash, i);
      this.hash = t < 0 ? b.length : t;
    }
    return this.hash;
  }
}

/** `dashOrUintAt` of bytes: `-` → -1, a number of at most 15 digits → its value, else -2; its end in `st.at`. */
function dashOrUintBytes(b: Uint8Array, i: number, n: number, st: SquidState): number {
  if (i >= n) return -2;
  let v: number;
  if (b[i] === Ch_Dash) {
    v = -1;
    i++;
  } else {
    const start = i;
    v = 0;
    while (i < n) {
      const d = b[i]! - Ch_Zero;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      i++;
    }
    if (i === start || i - start > 15) return -2;
  }
  st.at = i;
  return i < n && b[i] === Ch_Space ? v : -2;
}

/** `methodEnd` of bytes: where the method that starts at `i` ends, or -1. */
function methodEndBytes(b: Uint8Array, i: number, n: number): number {
  if (i >= n) return -1;
  const start = i;
  const c0 = b[i]!;
  if (!((c0 >= Ch_A && c0 <= Ch_Z) || (c0 >= Ch_a && c0 <= Ch_z))) return -1;
  i++;
  while (i < n) {
    const c = b[i]!;
    if (!((c >= Ch_A && c <= Ch_Z) || (c >= Ch_a && c <= Ch_z) || c === Ch_Underscore || c === Ch_Dash || (c >= Ch_Zero && c <= Ch_Nine))) break;
    i++;
  }
  return i - start > 32 ? -1 : i;
}

/** `defaultColumns` of bytes: the URL and user columns keep the line in the default layout. */
function defaultColumnsBytes(b: Uint8Array, st: SquidState): boolean {
  const s = st.tk.starts;
  const e = st.tk.ends;
  const s6 = s[6]!;
  const e6 = e[6]!;
  // an `error:` URL
  if (b[s6] === Ch_e && e6 - s6 >= 6 && b[s6 + 1] === Ch_r && b[s6 + 2] === Ch_r && b[s6 + 3] === Ch_o && b[s6 + 4] === Ch_r && b[s6 + 5] === Ch_Colon)
    return false;
  // a URL split by a space (`http://` alone)
  if (e6 - 3 >= s6 && b[e6 - 1] === Ch_Slash && b[e6 - 2] === Ch_Slash && b[e6 - 3] === Ch_Colon) return false;
  const s7 = s[7]!;
  const e7 = e[7]!;
  // an HTTP version column (`HTTP/1.1`, `1.1`)
  const c0 = b[s7]!;
  if (c0 === Ch_H) {
    if (e7 - s7 >= 5 && b[s7 + 1] === Ch_T && b[s7 + 2] === Ch_T && b[s7 + 3] === Ch_P && b[s7 + 4] === Ch_Slash) return false;
  } else if (e7 - s7 === 3 && b[s7 + 1] === Ch_Dot && c0 >= Ch_Zero && c0 <= Ch_Nine) return false;
  // a user that looks like a hierarchy (`DIRECT/…`)
  let i = s7;
  for (; i < e7; i++) {
    const c = b[i]!;
    if (!((c >= Ch_A && c <= Ch_Z) || c === Ch_Underscore)) break;
  }
  return !(i < e7 && i - s7 >= 2 && b[i] === Ch_Slash);
}

/**
 * `commonUrlSpans` of bytes: `http(s)://name/path[?query]` or, for CONNECT, `name:port`, the name
 * of lower-case letters, digits, '-' and '.' (not only digits and dots), not ending in '.'. Its
 * spans in `st` (and, with `hashHost`, the host's `spanHash` in `st.hostHash`); returns the host
 * name's length, or -1 for anything else.
 */
function commonUrlBytes(b: Uint8Array, from: number, to: number, connect: boolean, st: SquidState, hashHost: boolean, rare: RareBytes): number {
  let i = from;
  let scheme = 0;
  if (to - from > 8 && b[from] === Ch_h && b[from + 1] === Ch_t && b[from + 2] === Ch_t && b[from + 3] === Ch_p) {
    const c4 = b[from + 4];
    if (c4 === Ch_Colon && b[from + 5] === Ch_Slash && b[from + 6] === Ch_Slash) {
      scheme = 1;
      i += 7;
    } else if (c4 === Ch_s && b[from + 5] === Ch_Colon && b[from + 6] === Ch_Slash && b[from + 7] === Ch_Slash) {
      scheme = 2;
      i += 8;
    }
  }
  if (scheme === 0 && !connect) return -1;
  const hostStart = i;
  let kinds = 0;
  let h = SPAN_HASH_OFFSET;
  for (; i < to; i++) {
    const c = b[i]!;
    const k = HOST_BYTE[c]!;
    if (k === 0) break;
    kinds |= k;
    h = Math.imul(h ^ c, SPAN_HASH_PRIME);
  }
  if ((kinds & 1) === 0 || b[i - 1] === Ch_Dot) return -1;
  const hostEnd = i;
  if (hashHost) st.hostHash = spanHashFinish(h);
  st.urlScheme = scheme;
  st.hostStart = hostStart;
  st.hostEnd = hostEnd;
  if (scheme !== 0) {
    if (hostEnd === to || b[hostEnd] !== Ch_Slash) return -1;
    // no '#' in the URL (the general reader takes those)
    if (rare.hashAt(b, hostEnd) < to) return -1;
    return hostEnd - hostStart;
  }
  // CONNECT name:port
  if (hostEnd === to || b[hostEnd] !== Ch_Colon) return -1;
  const digits = to - hostEnd - 1;
  if (digits < 1 || digits > 5) return -1;
  let port = 0;
  for (let k = hostEnd + 1; k < to; k++) {
    const c = b[k]! - Ch_Zero;
    if (c < 0 || c > 9) return -1;
    port = port * 10 + c;
  }
  if (port > 65535) return -1;
  return hostEnd - hostStart;
}
