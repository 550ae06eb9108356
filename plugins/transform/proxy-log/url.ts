/**
 * URLs and endpoints as proxies log them: a hand-written URL splitter (no `new URL` on the hot path)
 * that fills `url` and `destination`, and the client column into `source`. Addresses and host names
 * take the project's one normal form (`canonicalIp`, `normaliseHost` from the public API).
 */
import { canonicalIp, normaliseHost } from '../../../src/internal.js';
import { newDestination, newSource, newUrl, type ProxyRecord } from './record.js';

// The character codes this file compares against, as constants of its own (see charcodes.ts)
const Ch_Hash = 0x23; // #
const Ch_Plus = 0x2b; // +
const Ch_Dash = 0x2d; // -
const Ch_Dot = 0x2e; // .
const Ch_Slash = 0x2f; // /
const Ch_Zero = 0x30;
const Ch_Nine = 0x39;
const Ch_Colon = 0x3a; // :
const Ch_Question = 0x3f; // ?
const Ch_At = 0x40; // @
const Ch_A = 0x41;
const Ch_Z = 0x5a;
const Ch_LBracket = 0x5b; // [
const Ch_a = 0x61;
const Ch_z = 0x7a;

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
      if ((c >= Ch_a && c <= Ch_z) || (k > 0 && ((c >= Ch_Zero && c <= Ch_Nine) || c === Ch_Plus || c === Ch_Dash || c === Ch_Dot))) continue;
      if (c >= Ch_A && c <= Ch_Z) {
        upper = true;
        continue;
      }
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
      if (c === Ch_Slash || c === Ch_Question || c === Ch_Hash) break;
      if (c === Ch_At) {
        at = end;
        colons = 0;
        colon = -1;
      } // userinfo is dropped from the host
      else if (c === Ch_Colon) {
        colons++;
        colon = end;
      }
      end++;
    }
    const hs = at === -1 ? i : at + 1;
    if (raw.charCodeAt(hs) === Ch_LBracket) {
      const close = raw.indexOf(']', hs);
      if (close === -1 || close >= end) return false;
      host = raw.slice(hs, close + 1);
      const he = close + 1;
      if (he < end) {
        if (raw.charCodeAt(he) !== Ch_Colon) return false;
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
  } else if (raw.charCodeAt(0) !== Ch_Slash && raw !== '*') {
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
      if (host.charCodeAt(0) === Ch_LBracket) return false;
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
    const same =
      !upper &&
      at === -1 &&
      port === undefined &&
      fragment === undefined &&
      path !== undefined &&
      path.length > 0 &&
      domain === host &&
      host.indexOf(':') === -1;
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
    const c = s.charCodeAt(k) - Ch_Zero;
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

/** Set source.ip when `s` is an address, else source.domain (squid with log_fqdn on logs names). */
export function setSource(rec: ProxyRecord, s: string): void {
  const ip = canonicalIp(s);
  rec.source = ip !== undefined ? newSource(ip, undefined) : newSource(undefined, s);
}
