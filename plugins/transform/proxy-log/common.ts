/**
 * Shared, allocation-light helpers of the proxy-log parsers: IP canonical form, host normalisation,
 * a hand-written URL splitter (no `new URL` on the hot path), and timestamp conversion.
 */
import { domainToASCII } from 'node:url';
import { parseIPv6, ipv4ToString, ipv6ToString } from '../../../src/api.js';
import { mappedV4, zeroRun, groupsToString } from '../../../src/internal.js';
import { newDestination, newSource, newUrl, type ProxyRecord } from './record.js';

/** A parse failure: a reason code (UPPER_SNAKE) and a message for a person. */
export class ParseError {
  constructor(readonly code: string, readonly message: string) {}
}

export const ERR = {
  FIELD_COUNT: 'PARSE_FIELD_COUNT',
  TIMESTAMP: 'PARSE_TIMESTAMP',
  URL: 'PARSE_URL',
  NUMBER: 'PARSE_NUMBER',
  QUOTE: 'PARSE_QUOTE',
  SYNTAX: 'PARSE_SYNTAX',
  JSON: 'PARSE_JSON',
  NO_FIELDS: 'PARSE_NO_FIELDS',
  FORMAT: 'PARSE_FORMAT',
  SCHEMA: 'SCHEMA',
  INPUT: 'INPUT_TYPE',
} as const;

// ---------------------------------------------------------------------------------------------
// Numbers

/** A non-negative decimal integer, or -1 when `s` is not one (no sign, no exponent, no spaces). */
export function parseUint(s: string): number {
  const n = s.length;
  if (n === 0 || n > 15) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** `parseUint(s.slice(from, to))` without the slice. */
export function parseUintSpan(s: string, from: number, to: number): number {
  const n = to - from;
  if (n <= 0 || n > 15) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// IP addresses

/** Canonical IPv4 (leading zeros dropped), or undefined when `s` is not a dotted quad. */
export function canonicalIpv4(s: string): string | undefined {
  const n = s.length;
  if (n < 7 || n > 15) return undefined;
  let parts = 0;
  let v = 0;
  let digits = 0;
  let leadingZero = false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || v > 255 || ++parts > 3) return undefined;
      if (digits > 1 && s.charCodeAt(i - digits) === 48) leadingZero = true;
      v = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      if (++digits > 3) return undefined;
    } else return undefined;
  }
  // the last part ends at the end of the text
  if (parts !== 3 || digits === 0 || v > 255) return undefined;
  if (digits > 1 && s.charCodeAt(n - digits) === 48) leadingZero = true;
  if (!leadingZero) return s;
  return s.split('.').map((p) => String(Number(p))).join('.');
}

/** Canonical IPv6 (RFC 5952: compressed, lower-case), or undefined. Brackets must already be stripped. */
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

const v6Groups = new Uint16Array(8);

/**
 * Canonical text of an IPv6 address written with hex groups and colons only (no embedded IPv4, no
 * zone): `s` itself when already canonical (as logs mostly write them).
 * Returns null when it cannot tell (other syntax, IPv4-mapped): the general parser decides then.
 */
function plainIpv6(s: string): string | null {
  const n = s.length;
  const g = v6Groups;
  let count = 0;
  let dbl = -1; // group index where '::' stands
  let canonicalDigits = true; // lower-case, no leading zeros
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return null;
    dbl = 0;
    i = 2;
  }
  while (i < n) {
    let v = 0;
    const start = i;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) { d = c - 55; canonicalDigits = false; }
      else break;
      v = v * 16 + d;
    }
    const len = i - start;
    if (len === 0 || len > 4 || count === 8) return null;
    if (len > 1 && s.charCodeAt(start) === 48) canonicalDigits = false;
    g[count++] = v;
    if (i === n) break;
    if (s.charCodeAt(i) !== 58) return null;
    if (s.charCodeAt(i + 1) === 58) {
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

/** Canonical form of an IPv4 or IPv6 literal (brackets allowed), or undefined when `s` is not one. */
export function canonicalIp(s: string): string | undefined {
  const c0 = s.charCodeAt(0);
  if (c0 === 91 /* [ */) {
    return s.charCodeAt(s.length - 1) === 93 ? canonicalIpv6(s.slice(1, -1)) : undefined;
  }
  // a dotted quad first (most addresses in logs): it cannot hold a ':', and fails at once on a name
  if (c0 >= 48 && c0 <= 57) {
    const v4 = canonicalIpv4(s);
    if (v4 !== undefined) return v4;
  }
  return s.indexOf(':') !== -1 ? canonicalIpv6(s) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Hosts and URLs

/**
 * Normalise a host for matching: lower-case, trailing dot(s) stripped, IDN to punycode.
 * Returns undefined for an empty or impossible host (spaces, slashes).
 */
export function normaliseHost(h: string): string | undefined {
  let end = h.length;
  while (end > 0 && h.charCodeAt(end - 1) === 46) end--;
  if (end === 0) return undefined;
  let ascii = true;
  let upper = false;
  for (let i = 0; i < end; i++) {
    const c = h.charCodeAt(i);
    if (c > 127) ascii = false;
    else if (c >= 65 && c <= 90) upper = true;
    else if (c <= 32 || c === 47 || c === 92 || c === 34) return undefined;
  }
  let out = end === h.length ? h : h.slice(0, end);
  if (!ascii) {
    const a = domainToASCII(out);
    return a === '' ? undefined : a;
  }
  return upper ? out.toLowerCase() : out;
}

const DEFAULT_PORTS: { [scheme: string]: number } = { http: 80, https: 443, ftp: 21, ws: 80, wss: 443 };

export function defaultPort(scheme: string | undefined): number | undefined {
  return scheme === undefined ? undefined : DEFAULT_PORTS[scheme];
}

/**
 * The parts of a URL as proxies log it. Fills `url`, and `destination` (domain or ip) from the host.
 * Accepts absolute URLs (`http://h:8080/p?q#f`), authority form (`h:443`, `[v6]:443`, CONNECT),
 * origin form (`/p?q`, combined logs), and `*`. Returns false, leaving `rec` as it was, when the text
 * is not a URL at all.
 */
export function fillUrl(rec: ProxyRecord, raw: string, authorityOnly: boolean): boolean {
  const n = raw.length;
  if (n === 0) return false;
  let i = 0;
  let scheme: string | undefined;
  let upper = false;
  let at = -1;
  // scheme: letters then "://" within the first 32 characters
  const sep = raw.indexOf('://');
  if (sep > 0 && sep < 32) {
    let ok = true;
    for (let k = 0; k < sep; k++) {
      const c = raw.charCodeAt(k);
      if ((c >= 97 && c <= 122) || (k > 0 && ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46))) continue;
      if (c >= 65 && c <= 90) { upper = true; continue; }
      ok = false;
      break;
    }
    if (ok) {
      // the usual schemes as constants: no string per record, and a fast DEFAULT_PORTS lookup
      if (upper) scheme = raw.slice(0, sep).toLowerCase();
      else if (sep === 4 && raw.startsWith('http')) scheme = 'http';
      else if (sep === 5 && raw.startsWith('https')) scheme = 'https';
      else scheme = raw.slice(0, sep);
      i = sep + 3;
    }
  }
  const hasAuthority = scheme !== undefined || authorityOnly;
  let path: string | undefined;
  let query: string | undefined;
  let fragment: string | undefined;
  let host: string | undefined;
  let port: number | undefined;
  if (hasAuthority) {
    // one pass over the authority: it ends at the first / ? # (or the end); note '@' and ':' on the way
    let end = i;
    let colon = -1;
    let colons = 0;
    while (end < n) {
      const c = raw.charCodeAt(end);
      if (c === 47 || c === 63 || c === 35) break;
      if (c === 64) { at = end; colons = 0; colon = -1; } // userinfo is dropped from the host
      else if (c === 58) { colons++; colon = end; }
      end++;
    }
    const hs = at === -1 ? i : at + 1;
    if (raw.charCodeAt(hs) === 91 /* [ */) {
      const close = raw.indexOf(']', hs);
      if (close === -1 || close >= end) return false;
      host = raw.slice(hs, close + 1);
      const he = close + 1;
      if (he < end) {
        if (raw.charCodeAt(he) !== 58) return false;
        port = parsePort(raw, he + 1, end);
        if (port === -1) return false;
      }
    } else if (colons > 1) {
      host = raw.slice(hs, end); // an unbracketed IPv6 literal, or junk
    } else if (colons === 1) {
      host = raw.slice(hs, colon);
      port = parsePort(raw, colon + 1, end);
      if (port === -1) return false;
    } else host = raw.slice(hs, end);
    if (host.length === 0) return false;
    i = end;
  } else if (raw.charCodeAt(0) !== 47 /* / */ && raw !== '*') {
    return false;
  }
  if (i < n) {
    // path ? query # fragment (native indexOf: no per-character loop in JS)
    const h = raw.indexOf('#', i);
    let q = raw.indexOf('?', i);
    if (h !== -1 && q > h) q = -1;
    const pathEnd = q !== -1 ? q : h !== -1 ? h : n;
    path = raw.slice(i, pathEnd);
    if (q !== -1) query = raw.slice(q + 1, h !== -1 ? h : n);
    if (h !== -1) fragment = raw.slice(h + 1);
  }
  let domain: string | undefined;
  let ip: string | undefined;
  if (host !== undefined) {
    ip = canonicalIp(host);
    if (ip !== undefined) domain = ip;
    else {
      if (host.charCodeAt(0) === 91) return false;
      domain = normaliseHost(host);
      if (domain === undefined) return false;
    }
  }
  // nothing can fail from here on
  const url = newUrl(raw);
  url.scheme = scheme;
  url.domain = domain;
  url.port = port;
  if (path !== undefined && path.length > 0) url.path = path;
  else if (scheme !== undefined && host !== undefined) url.path = '/';
  url.query = query;
  url.fragment = fragment;
  if (scheme !== undefined && domain !== undefined) {
    // already in normal form (the usual case): the full URL is the text itself
    const same = !upper && at === -1 && port === undefined && fragment === undefined && path !== undefined && path.length > 0 &&
      domain === host && host.indexOf(':') === -1;
    url.full = same ? raw : fullUrl(scheme, domain, port, url.path, query);
  }
  rec.url = url;
  if (host !== undefined) {
    const d = (rec.destination ??= newDestination());
    if (ip !== undefined) d.ip = ip;
    else d.domain = domain;
    const effPort = port ?? defaultPort(scheme);
    if (effPort !== undefined) d.port = effPort;
  }
  return true;
}

function parsePort(s: string, from: number, to: number): number {
  if (to - from < 1 || to - from > 5) return -1;
  let v = 0;
  for (let k = from; k < to; k++) {
    const c = s.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v > 65535 ? -1 : v;
}

/** scheme://host[:port]path[?query]: the normalised form a URL indicator is compared with. */
export function fullUrl(scheme: string, domain: string, port: number | undefined, path: string | undefined, query: string | undefined): string {
  const h = domain.indexOf(':') !== -1 ? `[${domain}]` : domain;
  const p = port === undefined || port === DEFAULT_PORTS[scheme] ? '' : `:${port}`;
  return query === undefined ? `${scheme}://${h}${p}${path ?? '/'}` : `${scheme}://${h}${p}${path ?? '/'}?${query}`;
}

/** Record the server: an IP literal goes to destination.ip, a name to destination.domain. */
export function setDestination(rec: ProxyRecord, ip: string | undefined, domain: string | undefined): void {
  const d = (rec.destination ??= newDestination());
  if (ip !== undefined) d.ip = ip;
  if (domain !== undefined) d.domain = domain;
}

/** Set source.ip when `s` is an address, else source.domain (squid with log_fqdn on logs names). */
export function setSource(rec: ProxyRecord, s: string): void {
  const ip = canonicalIp(s);
  rec.source = ip !== undefined ? newSource(ip, undefined) : newSource(undefined, s);
}

// ---------------------------------------------------------------------------------------------
// Time

const PAD2 = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** Milliseconds with the zone, `000Z`…`999Z`: one concatenation per timestamp, not two. */
const PAD3Z = PAD3.map((p) => `${p}Z`);

/** Epoch seconds with an optional fraction (`1157689312.049`) → ISO-8601 UTC, or undefined. */
export function epochSecondsToIso(s: string): string | undefined {
  return epochSpanToIso(s, 0, s.length);
}

/** `epochSecondsToIso(s.slice(from, to))` without the slice. */
export function epochSpanToIso(s: string, from: number, to: number): string | undefined {
  const n = to;
  if (to - from <= 0 || to - from > 24) return undefined;
  // the digits are read every time: comparing the text with the last line's seconds first (one
  // startsWith) cost more than reading ten digits
  let sec = 0;
  let i = from;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) break;
    if (c < 48 || c > 57) return undefined;
    sec = sec * 10 + (c - 48);
  }
  if (i === from) return undefined;
  let ms = 0;
  if (n - i === 4) {
    // milliseconds, as squid writes them: integer arithmetic
    const a = s.charCodeAt(i + 1) - 48;
    const b = s.charCodeAt(i + 2) - 48;
    const c = s.charCodeAt(i + 3) - 48;
    if (a < 0 || a > 9 || b < 0 || b > 9 || c < 0 || c > 9) return undefined;
    ms = a * 100 + b * 10 + c;
  } else if (i < n) {
    // up to three fraction digits count; further digits are validated and truncated
    let scale = 100;
    for (let k = i + 1; k < n; k++) {
      const c = s.charCodeAt(k);
      if (c < 48 || c > 57) return undefined;
      ms += (c - 48) * scale;
      scale = scale / 10;
    }
    if (i + 1 === n) return undefined;
    ms = Math.floor(ms);
  }
  if (sec > 253402300799) return undefined; // past 9999-12-31
  return isoFromEpoch(sec, ms);
}

// Log lines arrive in time order: many share a second, so the text of the last second is reused.
let cachedSec = -1;
let cachedPrefix = '';

/** Epoch seconds + milliseconds → `YYYY-MM-DDTHH:MM:SS.mmmZ`, by integer arithmetic (no Date). */
function isoFromEpoch(sec: number, ms: number): string {
  if (sec !== cachedSec) {
    const days = Math.floor(sec / 86400);
    const sod = sec - days * 86400;
    // civil-from-days (H. Hinnant), valid for the proleptic Gregorian calendar
    const z = days + 719468;
    const era = Math.floor(z / 146097);
    const doe = z - era * 146097;
    const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
    const m = mp < 10 ? mp + 3 : mp - 9;
    const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    if (y < 1000) return new Date(sec * 1000 + ms).toISOString();
    const h = Math.floor(sod / 3600);
    const mi = Math.floor((sod - h * 3600) / 60);
    cachedPrefix = `${y}-${PAD2[m]}-${PAD2[d]}T${PAD2[h]}:${PAD2[mi]}:${PAD2[sod - h * 3600 - mi * 60]}.`;
    cachedSec = sec;
  }
  return cachedPrefix + PAD3Z[ms];
}

const MONTHS: { [m: string]: number } = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

function d4(s: string, i: number): number {
  const a = d2(s, i);
  const b = d2(s, i + 2);
  return a < 0 || b < 0 ? -1 : a * 100 + b;
}

const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Do these calendar parts name a real instant (31 Feb and 25:00 do not)? */
function validParts(y: number, mo: number, d: number, h: number, mi: number, se: number): boolean {
  if (y < 0 || mo < 0 || mo > 11 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return false;
  if (d > MONTH_DAYS[mo]!) return false;
  if (mo === 1 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return false;
  return true;
}

function isoFromParts(y: number, mo: number, d: number, h: number, mi: number, se: number, ms: number, offsetMin: number): string | undefined {
  if (!validParts(y, mo, d, h, mi, se)) return undefined;
  // UTC already (the common case): build the text directly, no Date round trip
  if (offsetMin === 0 && y >= 1000) return `${y}-${PAD2[mo + 1]}-${PAD2[d]}T${PAD2[h]}:${PAD2[mi]}:${PAD2[se]}.${PAD3[ms]}Z`;
  const t = Date.UTC(y, mo, d, h, mi, se, ms) - offsetMin * 60000;
  if (y < 1000) {
    const dt = new Date(0);
    dt.setUTCFullYear(y, mo, d);
    dt.setUTCHours(h, mi, se, ms);
    return new Date(dt.getTime() - offsetMin * 60000).toISOString();
  }
  return new Date(t).toISOString();
}

/** Apache/NCSA `20/Jul/2009:22:59:26 +0000` (without the brackets) → ISO UTC. */
export function clfToIso(s: string): string | undefined {
  if (s.length !== 26 || s.charCodeAt(2) !== 47 || s.charCodeAt(6) !== 47 || s.charCodeAt(11) !== 58 || s.charCodeAt(20) !== 32) return undefined;
  const mo = MONTHS[s.slice(3, 6)];
  if (mo === undefined) return undefined;
  const sign = s.charCodeAt(21);
  const oh = d2(s, 22);
  const om = d2(s, 24);
  if ((sign !== 43 && sign !== 45) || oh < 0 || om < 0) return undefined;
  const off = (sign === 45 ? -1 : 1) * (oh * 60 + om);
  return isoFromParts(d4(s, 7), mo, d2(s, 0), d2(s, 12), d2(s, 15), d2(s, 18), 0, off);
}

/** W3C `2024-03-22` + `16:16:01[.fff]` (UTC, as the W3C format prescribes) → ISO UTC. */
export function w3cToIso(date: string, time: string): string | undefined {
  if (date.length !== 10 || date.charCodeAt(4) !== 45 || date.charCodeAt(7) !== 45) return undefined;
  if (time.length < 8 || time.charCodeAt(2) !== 58 || time.charCodeAt(5) !== 58) return undefined;
  let ms = 0;
  if (time.length > 8) {
    if (time.charCodeAt(8) !== 46 || time.length === 9) return undefined;
    let scale = 100;
    for (let k = 9; k < time.length; k++) {
      const c = time.charCodeAt(k) - 48;
      if (c < 0 || c > 9) return undefined;
      ms += c * scale;
      scale /= 10;
    }
    ms = Math.floor(ms);
  }
  const mo = d2(date, 5);
  return isoFromParts(d4(date, 0), mo - 1, d2(date, 8), d2(time, 0), d2(time, 3), d2(time, 6), ms, 0);
}

/** Zscaler NSS `Fri Dec 31 07:07:07 2021` (the feed's configured zone; taken as UTC) → ISO UTC. */
export function ctimeToIso(s: string): string | undefined {
  // "Www Mmm dd hh:mm:ss yyyy"; the day may be space-padded ("Dec  1")
  if (s.length !== 24 || s.charCodeAt(3) !== 32 || s.charCodeAt(7) !== 32 || s.charCodeAt(10) !== 32 || s.charCodeAt(19) !== 32) return undefined;
  const mo = MONTHS[s.slice(4, 7)];
  if (mo === undefined) return undefined;
  const day = s.charCodeAt(8) === 32 ? s.charCodeAt(9) - 48 : d2(s, 8);
  return isoFromParts(d4(s, 20), mo, day, d2(s, 11), d2(s, 14), d2(s, 17), 0, 0);
}

/** A timestamp of unknown shape from JSON: epoch seconds/milliseconds (number or digits) or ISO-8601 text. */
export function anyTimeToIso(v: unknown): string | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return undefined;
    const ms = v > 1e11 ? v : v * 1000; // > 1e11 can only be milliseconds (year 5138 in seconds)
    if (ms > 253402300799999) return undefined;
    return new Date(Math.floor(ms)).toISOString();
  }
  if (typeof v !== 'string' || v.length === 0 || v.length > 40) return undefined;
  const c0 = v.charCodeAt(0);
  if (c0 < 48 || c0 > 57) return ctimeToIso(v);
  if (v.length >= 10 && v.charCodeAt(4) === 45) {
    // ISO-8601 needs a zone: without one the instant is ambiguous, so it is refused
    const last = v.charCodeAt(v.length - 1);
    const hasZone = last === 90 || last === 122 || /[+-]\d\d:?\d\d$/.test(v);
    if (!hasZone && v.length > 10) return undefined;
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : new Date(t).toISOString();
  }
  let dot = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 46 && !dot) { dot = true; continue; }
    if (c < 48 || c > 57) return undefined;
  }
  return anyTimeToIso(Number(v));
}

/** Milliseconds (text) → nanoseconds, or undefined. */
export function msToNs(s: string): number | undefined {
  const v = parseUint(s);
  return v < 0 ? undefined : v * 1_000_000;
}

/** ProxySG and others write `%20` in some text fields (content type, categories). */
export function decodeSpaces(s: string): string {
  return s.indexOf('%20') === -1 ? s : s.replaceAll('%20', ' ');
}
