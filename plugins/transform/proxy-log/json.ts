/**
 * JSON-per-line formats: Zscaler NSS web feeds, and generic JSON with a field mapping from config.
 */
import { getPath } from '../../../src/api.js';
import { canonicalIp, normaliseHost } from '../../../src/internal.js';
import type { Rec } from '../../../src/api.js';
import { ERR, ParseError } from './errors.js';
import { parseUint } from './numbers.js';
import { anyTimeToIso, ctimeToIso, w3cToIso } from './time.js';
import { fillUrl, setSource } from './url.js';
import { clip } from './squid.js';
import { addTag, newDestination, newEvent, newHttp, newObserver, newRecord, newRequest, newResponse, newSource, newUrl, newUserAgent } from './record.js';
import type { ProxyRecord } from './record.js';

/** Parse a JSON line into an object; arrays and scalars are not records. */
export function parseJsonObject(line: string): Rec | ParseError {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return new ParseError(ERR.JSON, `json: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return new ParseError(ERR.JSON, 'json: a line must hold a JSON object');
  return v as Rec;
}

/** Is this object a Zscaler NSS web record (wrapped `{sourcetype, event}` or bare)? */
export function looksLikeZscaler(o: Rec): boolean {
  if (typeof o.sourcetype === 'string' && o.sourcetype.startsWith('zscalernss')) return true;
  const e = o.event !== null && typeof o.event === 'object' ? o.event : o;
  if (typeof e.eurl === 'string') return true;
  // NSS field names (`cip`), or the names of the NSS web feed's default output (`ClientIP`, `datetime`)
  return typeof e.url === 'string' && (typeof e.cip === 'string' || typeof e.ClientIP === 'string' || typeof e.datetime === 'string');
}

function num(v: unknown): number {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : -1;
  return typeof v === 'string' ? parseUint(v) : -1;
}

/** Zscaler writes "None" (and "NA") where a value is absent. */
function present(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v !== 'None' && v !== 'NA' && v !== '-';
}

/** The first of `names` that holds a value. */
function pick(e: Rec, a: string, b: string, c?: string): unknown {
  const va = e[a];
  if (va !== undefined && va !== null && va !== '') return va;
  const vb = e[b];
  if (vb !== undefined && vb !== null && vb !== '') return vb;
  return c === undefined ? undefined : e[c];
}

/**
 * The NSS time: `Fri Dec 31 07:07:07 2021` (the `%s{time}` default) or `2021-12-31 07:07:07`
 * (a `%s{time}` with a date format, and the `datetime` key of the feed's default output); the feed's
 * zone is set on the feed, not written: taken as UTC.
 */
function nssTimeToIso(v: string): string | undefined {
  if (v.length === 19 && v.charCodeAt(4) === 0x2d && v.charCodeAt(10) === 0x20) return w3cToIso(v.slice(0, 10), v.slice(11));
  return ctimeToIso(v);
}

/** Zscaler's `%`-escaped text (NSS hex-encodes some characters in names): decoded when it decodes. */
function unescapeNss(s: string): string {
  if (s.indexOf('%') === -1) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// NSS field → handled here; every other field is kept under `zscaler.*`. The NSS names (`cip`, `eurl`,
// `reqmethod` …) and the key names of the NSS web feed's default JSON output (`ClientIP`, `url`,
// `requestmethod`, `datetime` …) both count; `login`/`user` stay in `zscaler` too (user.name is its
// local part).
const ZS_MAPPED = new Set([
  'time',
  'datetime',
  'epochtime',
  'cip',
  'clientip',
  'ClientIP',
  'sip',
  'serverip',
  'eurl',
  'url',
  'proto',
  'protocol',
  'action',
  'reqsize',
  'requestsize',
  'respsize',
  'responsesize',
  'reqmethod',
  'requestmethod',
  'respcode',
  'status',
  'ua',
  'useragent',
  'ereferer',
  'referer',
  'refererURL',
  'contenttype',
  'urlcat',
  'urlcategory',
  'ctime',
  'clienttranstime',
  'reason',
]);

export function parseZscaler(o: Rec): ProxyRecord | ParseError {
  const e: Rec = o.event !== null && typeof o.event === 'object' && !Array.isArray(o.event) ? o.event : o;
  const tv = pick(e, 'time', 'datetime');
  const ts = present(tv) ? nssTimeToIso(tv) : e.epochtime !== undefined ? anyTimeToIso(e.epochtime) : undefined;
  if (ts === undefined)
    return new ParseError(
      ERR.TIMESTAMP,
      `zscaler-nss: bad or missing time '${clip(String(tv ?? e.epochtime ?? ''))}' (want Fri Dec 31 07:07:07 2021, 2021-12-31 07:07:07 or epochtime)`,
    );
  const event = newEvent('zscaler.nss', undefined, undefined);
  const rec = newRecord(ts, event);
  // as Elastic's Zscaler integration writes it: lower case, spaces as dashes ("Allowed" → "allowed")
  if (present(e.action)) event.action = e.action.toLowerCase().replaceAll(' ', '-');
  if (present(e.reason)) event.reason = e.reason;
  const ct = pick(e, 'ctime', 'clienttranstime');
  if (ct !== undefined) {
    const ms = num(ct);
    if (ms >= 0) event.duration = ms * 1_000_000; // NSS ctime: client-side transaction time, milliseconds
  }
  const cip = pick(e, 'cip', 'clientip', 'ClientIP');
  if (present(cip)) setSource(rec, cip);
  // login is an e-mail address ("jdoe@example.com"): user.name is its local part, as Elastic's integration splits it
  const login = pick(e, 'login', 'user');
  if (present(login)) {
    const l = unescapeNss(login);
    const at = l.lastIndexOf('@');
    const name = at > 0 ? l.slice(0, at) : l;
    if (name.length > 0) rec.user = { name };
  }
  const method = pick(e, 'reqmethod', 'requestmethod');
  const request = newRequest(undefined);
  const response = newResponse();
  if (present(method)) request.method = method;
  const reqsize = num(pick(e, 'reqsize', 'requestsize'));
  if (reqsize >= 0) request.bytes = reqsize;
  const ref = pick(e, 'ereferer', 'referer', 'refererURL');
  if (present(ref)) request.referrer = ref;
  const code = num(pick(e, 'respcode', 'status'));
  if (code >= 0 && code <= 999) response.status_code = code;
  const respsize = num(pick(e, 'respsize', 'responsesize'));
  if (respsize >= 0) response.bytes = respsize;
  if (present(e.contenttype)) response.mime_type = e.contenttype;
  rec.http = newHttp(request, response);
  const ua = pick(e, 'ua', 'useragent');
  if (present(ua)) rec.user_agent = newUserAgent(ua);

  // eurl has no scheme ("www.example.com/x", "www.example.com:443"). As Elastic's integration does:
  // the scheme is the protocol when it is HTTP or HTTPS, else https (SSL, tunnels), and url.original
  // carries it; with no protocol logged the URL is read as http and url.original stays as logged.
  // A CONNECT target stays `host:port` (docs/formats.md, "CONNECT").
  const u = pick(e, 'eurl', 'url');
  if (present(u)) {
    const connect = method === 'CONNECT';
    let text: string = u;
    let original: string = u;
    if (!connect && u.indexOf('://') === -1) {
      const pv = pick(e, 'proto', 'protocol');
      const proto = present(pv) ? pv.toLowerCase() : '';
      text = `${proto === 'http' ? 'http' : proto === '' ? 'http' : 'https'}://${u}`;
      if (proto !== '') original = text;
    }
    if (!fillUrl(rec, text, connect)) {
      rec.url = newUrl(u);
      addTag(rec, 'url_unparsed');
    } else rec.url!.original = original;
  }
  const cat = pick(e, 'urlcat', 'urlcategory');
  if (present(cat)) (rec.url ??= newUrl(undefined)).category = cat;
  const sip = pick(e, 'sip', 'serverip');
  if (present(sip)) {
    const ip = canonicalIp(sip);
    if (ip !== undefined) (rec.destination ??= newDestination()).ip = ip;
  }
  let vendor: Rec | undefined;
  for (const k in e) {
    if (ZS_MAPPED.has(k) || !Object.hasOwn(e, k) || k === '__proto__') continue;
    const val = e[k];
    if (val === null || val === 'None' || val === '') continue;
    (vendor ??= {})[k] = val;
  }
  if (typeof o.sourcetype === 'string') (vendor ??= {}).sourcetype = o.sourcetype;
  rec.zscaler = vendor;
  return rec;
}

/** ECS paths a generic-JSON mapping may fill, and how each value is converted. */
export const JSON_TARGETS: { readonly [path: string]: 'time' | 'ip' | 'uint' | 'port' | 'text' | 'url' | 'domain' | 'ms' } = {
  '@timestamp': 'time',
  'source.ip': 'ip',
  'source.port': 'port',
  'user.name': 'text',
  'destination.ip': 'ip',
  'destination.port': 'port',
  'destination.domain': 'domain',
  'url.original': 'url',
  'url.category': 'text',
  'http.request.method': 'text',
  'http.request.referrer': 'text',
  'http.request.bytes': 'uint',
  'http.response.status_code': 'uint',
  'http.response.bytes': 'uint',
  'http.response.mime_type': 'text',
  'user_agent.original': 'text',
  'event.action': 'text',
  'event.duration': 'uint',
  'event.duration_ms': 'ms',
  'observer.hostname': 'text',
  'observer.ip': 'ip',
};

/** A compiled mapping: parallel arrays, walked once per record. */
export interface JsonMapping {
  targets: string[];
  sources: string[];
}

export function compileMapping(fields: { [target: string]: string }): JsonMapping {
  const targets: string[] = [];
  const sources: string[] = [];
  // the timestamp first and the URL before destination.* so explicit destination values win
  const order = Object.keys(fields).sort((a, b) => rank(a) - rank(b));
  for (const t of order) {
    targets.push(t);
    sources.push(fields[t]!);
  }
  return { targets, sources };
}

function rank(t: string): number {
  return t === '@timestamp' ? 0 : t === 'url.original' ? 1 : 2;
}

/** The object that holds target `a.b` (created with the record layout on first use). */
function holder(rec: ProxyRecord, a: string): Rec {
  switch (a) {
    case 'source':
      return (rec.source ??= newSource(undefined, undefined));
    case 'destination':
      return (rec.destination ??= newDestination());
    case 'user':
      return (rec.user ??= { name: '' });
    case 'url':
      return (rec.url ??= newUrl(undefined));
    case 'user_agent':
      return (rec.user_agent ??= newUserAgent(''));
    case 'event':
      return rec.event;
    case 'observer':
      return (rec.observer ??= newObserver());
    default:
      throw new Error(`proxy-log: no record object for '${a}'`); // JSON_TARGETS names only these
  }
}

function put(rec: ProxyRecord, a: string, b: string, v: unknown): void {
  holder(rec, a)[b] = v;
}

export function parseMappedJson(o: Rec, m: JsonMapping): ProxyRecord | ParseError {
  const rec = newRecord('', newEvent('json', undefined, undefined));
  for (let i = 0; i < m.targets.length; i++) {
    const target = m.targets[i]!;
    const raw = getPath(o, m.sources[i]!);
    if (raw === undefined || raw === null || raw === '' || raw === '-') continue;
    const kind = JSON_TARGETS[target];
    const dot = target.indexOf('.');
    const a = target.slice(0, dot);
    const b = target.slice(dot + 1);
    switch (kind) {
      case 'time': {
        const ts = anyTimeToIso(raw);
        if (ts === undefined) return new ParseError(ERR.TIMESTAMP, `json: bad timestamp '${clip(String(raw))}' at ${m.sources[i]}`);
        rec['@timestamp'] = ts;
        break;
      }
      case 'ip': {
        const ip = typeof raw === 'string' ? canonicalIp(raw) : undefined;
        if (ip === undefined) {
          if (target === 'source.ip' && typeof raw === 'string') rec.source = newSource(undefined, raw);
          else return new ParseError(ERR.SYNTAX, `json: ${target} '${clip(String(raw))}' is not an IP address`);
        } else put(rec, a, b, ip);
        break;
      }
      case 'uint':
      case 'port':
      case 'ms': {
        const n = num(raw);
        if (n < 0 || (kind === 'port' && n > 65535))
          return new ParseError(ERR.NUMBER, `json: ${target} '${clip(String(raw))}' is not a ${kind === 'port' ? 'port' : 'non-negative integer'}`);
        if (kind === 'ms') put(rec, 'event', 'duration', n * 1_000_000);
        else if (a === 'http') putHttp(rec, b.startsWith('request.') ? 'request' : 'response', b.slice(b.indexOf('.') + 1), n);
        else put(rec, a, b, n);
        break;
      }
      case 'url': {
        const text = String(raw);
        if (!fillUrl(rec, text, false)) {
          (rec.url ??= newUrl(undefined)).original = text;
          addTag(rec, 'url_unparsed');
        }
        break;
      }
      case 'domain': {
        const d = typeof raw === 'string' ? (canonicalIp(raw) ?? normaliseHost(raw)) : undefined;
        if (d === undefined) return new ParseError(ERR.SYNTAX, `json: ${target} '${clip(String(raw))}' is not a host name`);
        put(rec, a, b, d);
        break;
      }
      default: {
        const s = typeof raw === 'string' ? raw : JSON.stringify(raw);
        if (a === 'http') putHttp(rec, b.startsWith('request.') ? 'request' : 'response', b.slice(b.indexOf('.') + 1), s);
        else put(rec, a, b, s);
      }
    }
  }
  if (rec['@timestamp'] === '') return new ParseError(ERR.TIMESTAMP, 'json: no timestamp (map @timestamp in fields)');
  return rec;
}

function putHttp(rec: ProxyRecord, side: 'request' | 'response', key: string, v: unknown): void {
  const http = (rec.http ??= newHttp(undefined, undefined));
  const o: Rec = side === 'request' ? (http.request ??= newRequest(undefined)) : (http.response ??= newResponse());
  o[key] = v;
}
