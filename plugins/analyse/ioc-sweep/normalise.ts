/**
 * Normalisation of the atoms the sweep compares: IPv4/IPv6 addresses, CIDR ranges, host names and
 * URLs. Indicators (at load) and record values (per record) go through the SAME functions, so a
 * value matches exactly when both sides normalise to the same key.
 *
 * Keys:
 * - IPv4: an unsigned 32-bit number.
 * - IPv6: 32 lower-case hex digits (the full address, no compression). A prefix of length L is the
 *   first ceil(L/4) digits with the last one masked, so CIDR keys are plain string slices.
 *   IPv4-mapped addresses (`::ffff:1.2.3.4`) are folded to IPv4 on both sides.
 * - Domains: lower case, trailing dots and port stripped, IDN to punycode: `normaliseHost` (src/net/host.ts,
 *   the same function the parser writes record hosts with), then `parseHost`'s indicator-grade checks.
 * - URLs: WHATWG-parsed; scheme and host lower-cased (host also IDN→punycode, trailing dot
 *   stripped), default port dropped, fragment and user-info dropped; path and query kept as given.
 */
import { parseIPv4, ipv4ToString, parseIPv6, ipv6ToString } from '../../../src/api.js';
import { mappedV4, v6PrefixKey, v4PrefixKey, normaliseHost } from '../../../src/internal.js';

export type IndicatorType = 'ipv4-addr' | 'ipv6-addr' | 'domain-name' | 'url';

export { parseIPv4, ipv4ToString, parseIPv6, ipv6ToString, mappedV4, v6PrefixKey, v4PrefixKey };

/** An address atom: IPv4 (v4 ≥ 0) or IPv6 (v6 hex). */
export interface IpAtom {
  v4: number;
  v6: string | null;
}

/** Parse an IP literal (IPv4, IPv6, bracketed IPv6), folding IPv4-mapped IPv6 to IPv4. */
export function parseIp(s: string): IpAtom | null {
  const v4 = parseIPv4(s);
  if (v4 >= 0) return { v4, v6: null };
  let t = s;
  if (t.charCodeAt(0) === 91 && t.charCodeAt(t.length - 1) === 93) t = t.slice(1, -1);
  if (t.indexOf(':') < 0) return null;
  const hex = parseIPv6(t);
  if (hex === null) return null;
  const m = mappedV4(hex);
  return m >= 0 ? { v4: m, v6: null } : { v4: -1, v6: hex };
}

/** A host from a record or a feed: either an IP atom or a normalised domain name. */
export interface HostAtom {
  ip: IpAtom | null;
  domain: string | null;
}

function isPlainAsciiHost(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // a-z 0-9 - . _ (underscore appears in real DNS names, e.g. SRV-style and some C2 hosts)
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95)) return false;
  }
  return true;
}

/**
 * Read a host as found in a record (`url.domain`, `destination.domain`) or a feed: trim, strip
 * `[...]` and `:port`, then an IP literal comes back as `ip`, and a name as `domain` in the project's
 * one normal form (`normaliseHost`: lower case, trailing dots stripped, IDN → punycode) — provided
 * it can be compared with a domain indicator: labels of `[a-z0-9_-]` joined by single dots, at most
 * 253 characters. Returns null for anything else (spaces, empty labels, bad IDN, other characters).
 */
export function parseHost(raw: string): HostAtom | null {
  let s = raw.trim();
  if (s.length === 0) return null;
  if (s.charCodeAt(0) === 91) {
    const close = s.indexOf(']');
    if (close < 0) return null;
    const ip = parseIp(s.slice(1, close));
    return ip ? { ip, domain: null } : null;
  }
  const colon = s.indexOf(':');
  if (colon >= 0) {
    if (s.indexOf(':', colon + 1) >= 0) {
      // Two or more colons: a bare IPv6 address.
      const ip = parseIp(s);
      return ip ? { ip, domain: null } : null;
    }
    s = s.slice(0, colon); // host:port
  }
  const d = normaliseHost(s);
  if (d === undefined) return null;
  const v4 = parseIPv4(d);
  if (v4 >= 0) return { ip: { v4, v6: null }, domain: null };
  if (d.length > 253 || d.charCodeAt(0) === 46 || d.indexOf('..') >= 0 || !isPlainAsciiHost(d)) return null;
  return { ip: null, domain: d };
}

/** True when `d` (normalised) is acceptable as a domain INDICATOR: ≥ 2 labels, TLD not numeric. */
export function isIndicatorDomain(d: string): boolean {
  const last = d.lastIndexOf('.');
  if (last <= 0 || last === d.length - 1) return false;
  for (let i = last + 1; i < d.length; i++) {
    const c = d.charCodeAt(i);
    if (c < 48 || c > 57) return true;
  }
  return false; // all-digit TLD: a mangled IP such as 107.183.86
}

export interface NormalisedUrl {
  /** The comparison key: scheme://host[:port]/path?query. */
  key: string;
  /** The host part (for host checks of IP-literal URLs and allowlists). */
  host: string;
}

/**
 * Normalise a URL with a scheme. Returns null when WHATWG cannot parse it or it has no host.
 * Only the first `#` cut and a trailing-dot fix are done by hand; WHATWG does the rest (case,
 * punycode, default port, IPv6 canonical form, percent-encoding), identically for both sides.
 */
export function normaliseUrl(raw: string): NormalisedUrl | null {
  const key = fastUrlKey(raw);
  if (key !== null) return { key, host: fastUrlHost };
  return normaliseUrlWhatwg(raw);
}

/** `normaliseUrl` by the WHATWG parser only (the reference the fast path is tested against). */
export function normaliseUrlWhatwg(raw: string): NormalisedUrl | null {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return null;
  }
  let host = u.hostname;
  if (host.length === 0) return null;
  if (host.charCodeAt(host.length - 1) === 46) {
    let end = host.length;
    while (end > 0 && host.charCodeAt(end - 1) === 46) end--;
    host = host.slice(0, end);
    if (host.length === 0) return null;
  }
  const port = u.port;
  const key = `${u.protocol}//${host}${port ? ':' + port : ''}${u.pathname}${u.search}`;
  return { key, host };
}

/** Where `://` is, or -1. A URL indicator/record value without a scheme has none. */
export function schemeEnd(s: string): number {
  const i = s.indexOf('://');
  if (i <= 0) return -1;
  for (let k = 0; k < i; k++) {
    const c = s.charCodeAt(k) | 32;
    if (!((c >= 97 && c <= 122) || (k > 0 && ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)))) return -1;
  }
  return i;
}

// ---------------------------------------------------------------------------------------------
// Fast paths for values that are already in normal form (what proxy-log writes). Each accepts only
// inputs for which the general function provably returns the same thing, and says "don't know"
// otherwise, so callers fall back to the general function: records from any source stay correct.

/**
 * True when `s` is a host already in normal form: `[a-z0-9_-]` labels joined by single dots, no
 * leading or trailing dot, at most 253 characters. For such a host `parseHost(s)` is `s` itself
 * (as a domain, or the IPv4 address it spells).
 */
export function isNormalHost(s: string): boolean {
  return s.length <= 253 && NORMAL_HOST.test(s);
}

// one native pass (labels start after a dot, so no backtracking)
const NORMAL_HOST = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;

/**
 * The host of the last URL `fastUrlKey` accepted: its second result, read by the caller right after
 * the call (module-level so that the fast path returns a string, not a new object per URL).
 */
export let fastUrlHost = '';

// The shape of a plain URL, checked in one native regex pass: http(s), a host of [a-z0-9.-], an
// optional decimal port, then only characters WHATWG keeps as they are in a path (RFC 3986
// unreserved, sub-delims, ':', '@', '/', '%') and a query (the same without "'", plus '?'); then an
// optional fragment (dropped, whatever it holds).
const PLAIN_URL = /^https?:\/\/[a-z0-9.-]+(?::[1-9][0-9]{0,4})?(?:[/?#]|$)[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*(?:#[\s\S]*)?$/;

/**
 * The WHATWG comparison key of a plain `http(s)://host[:port][/path][?query][#fragment]` URL without
 * parsing it: lower-case scheme, host of `[a-z0-9.-]` (no punycode, no trailing dot, not a number
 * unless a canonical dotted quad), decimal port, and path/query made only of characters WHATWG keeps
 * as they are, with no dot segments. Returns null for anything else (the caller asks WHATWG).
 */
export function fastUrlKey(raw: string): string | null {
  if (!PLAIN_URL.test(raw)) return null;
  const n = raw.length;
  const hs = raw.charCodeAt(4) === 115 ? 8 : 7;
  const defPort = hs === 8 ? 443 : 80;
  // the host: up to the port, path, query or fragment
  let he = hs;
  let lastDot = -1;
  for (; he < n; he++) {
    const c = raw.charCodeAt(he);
    if (c === 46) {
      if (lastDot === he - 1) return null; // "..", or a leading dot
      lastDot = he;
    } else if (c === 58 || c === 47 || c === 63 || c === 35) break;
  }
  if (he === hs || lastDot === he - 1 || raw.charCodeAt(hs) === 46) return null;
  const xn = raw.indexOf('xn--', hs);
  if (xn !== -1 && xn < he) return null;
  // a last label that is a number (or 0x...) makes WHATWG read the host as an IPv4 address
  const ll = lastDot + 1 > hs ? lastDot + 1 : hs;
  if (raw.charCodeAt(ll) === 48 && raw.charCodeAt(ll + 1) === 120) return null;
  let numeric = true;
  for (let k = ll; k < he; k++) {
    const c = raw.charCodeAt(k);
    if (c < 48 || c > 57) {
      numeric = false;
      break;
    }
  }
  const host = raw.slice(hs, he);
  if (numeric && parseIPv4(host) < 0) return null;
  let i = he;
  let port = -1;
  const hadPort = i < n && raw.charCodeAt(i) === 58;
  if (hadPort) {
    let v = 0;
    for (i++; i < n; i++) {
      const c = raw.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
    }
    if (v > 65535) return null;
    if (v !== defPort) port = v;
  }
  const pathStart = i;
  const hash = raw.indexOf('#', i);
  const end = hash === -1 ? n : hash;
  let q = raw.indexOf('?', i);
  if (q >= end) q = -1;
  const pathEnd = q === -1 ? end : q;
  // "'" is kept in a path but encoded in a query
  if (q !== -1) {
    const apos = raw.indexOf("'", q);
    if (apos !== -1 && apos < end) return null;
  }
  // dot segments ("/./", "/../", also spelled %2e) are resolved by WHATWG
  for (let d = raw.indexOf('/.', pathStart); d !== -1 && d < pathEnd; d = raw.indexOf('/.', d + 1)) {
    if (isPathEnd(raw, d + 2, pathEnd) || (raw.charCodeAt(d + 2) === 46 && isPathEnd(raw, d + 3, pathEnd))) return null;
  }
  for (let p = raw.indexOf('%2', pathStart); p !== -1 && p < pathEnd; p = raw.indexOf('%2', p + 1)) {
    if ((raw.charCodeAt(p + 2) | 32) === 101) return null;
  }
  fastUrlHost = host;
  const emptyQuery = q !== -1 && q + 1 === end;
  if (!hadPort && pathEnd > pathStart && !emptyQuery) return end === n ? raw : raw.slice(0, end);
  const origin = port === -1 ? raw.slice(0, he) : `${raw.slice(0, he)}:${port}`;
  const path = pathEnd > pathStart ? raw.slice(pathStart, pathEnd) : '/';
  return q === -1 || emptyQuery ? origin + path : origin + path + raw.slice(q, end);
}

function isPathEnd(raw: string, i: number, end: number): boolean {
  if (i >= end) return true;
  const c = raw.charCodeAt(i);
  return c === 47 || c === 63;
}
