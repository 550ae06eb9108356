/**
 * W3C extended log format as BlueCoat ProxySG writes it (ELFF), and by extension IIS and others.
 * Column order comes from the `#Fields:` directive (which may change mid-file), or, for headerless
 * logs, from a named field list such as `bcreportermain_v1`. State is kept per source.
 */
import type { Rec } from '../../../src/api.js';
import { canonicalIp } from '../../../src/internal.js';
import { ERR, ParseError } from './errors.js';
import { parseUint } from './numbers.js';
import { w3cToIso } from './time.js';
import { defaultPort, fillUrl, setSource } from './url.js';
import { QuoteEscape, type Tokens, tokenize } from './lex.js';
import { clip } from './squid.js';
import { addTag, newDestination, newEvent, newHttp, newObserver, newRecord, newRequest, newResponse, newSource, newUrl, newUserAgent } from './record.js';
import type { HttpFields, ProxyRecord } from './record.js';

// The character codes this file compares against, as constants of its own (see charcodes.ts)
const Ch_Cr = 0x0d;
const Ch_Dash = 0x2d; // -
const Ch_Slash = 0x2f; // /
const Ch_Question = 0x3f; // ?
const Ch_LBracket = 0x5b; // [

/** Field lists of ProxySG's built-in formats that are often written without a `#Fields:` line. */
export const ELFF_PRESETS: { readonly [name: string]: string } = {
  // Column meaning per Elastic's proxysg integration; the tail's names are spelled in ELFF style by sluice.
  bcreportermain_v1:
    'date time time-taken c-ip cs-username cs-auth-group s-supplier-name s-supplier-ip s-supplier-country ' +
    's-supplier-failures x-exception-id sc-filter-result cs-categories cs(Referer) sc-status s-action cs-method ' +
    'rs(Content-Type) cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query cs-uri-extension cs(User-Agent) ' +
    's-ip sc-bytes cs-bytes x-virus-id cs-threat-source cs-threat-id rs-threat-source rs-threat-id ' +
    'x-bluecoat-application-name x-bluecoat-application-operation x-bluecoat-application-groups cs-threat-risk ' +
    'x-bluecoat-access-security-policy-action x-bluecoat-access-security-policy-reason x-bluecoat-transaction-uuid ' +
    'x-icap-reqmod-header(X-ICAP-Metadata) x-icap-respmod-header(X-ICAP-Metadata)',
  // ProxySG's default `main` format.
  main:
    'date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host cs-uri-port ' +
    'cs-uri-path cs-uri-query cs-username cs-auth-group s-supplier-name rs(Content-Type) cs(Referer) cs(User-Agent) ' +
    'sc-filter-result cs-categories x-virus-id s-ip',
};

const enum F {
  Other,
  Date,
  Time,
  DateLocal,
  TimeLocal,
  TimeTaken,
  CIp,
  CPort,
  User,
  Status,
  Action,
  ScBytes,
  CsBytes,
  Method,
  Scheme,
  Host,
  UriPort,
  Path,
  Query,
  Uri,
  UriExt,
  HostHeader,
  Referer,
  UserAgent,
  ContentType,
  SupplierIp,
  SupplierName,
  RIp,
  SIp,
  SComputerName,
  Category,
  HttpVersion,
}

const FIELD_KIND: { [name: string]: F } = {
  date: F.Date,
  time: F.Time,
  'date-local': F.DateLocal,
  'time-local': F.TimeLocal,
  'time-taken': F.TimeTaken,
  'c-ip': F.CIp,
  'c-port': F.CPort,
  'cs-username': F.User,
  'c-auth-id': F.User,
  'cs-userdn': F.Other,
  'sc-status': F.Status,
  's-action': F.Action,
  'sc-bytes': F.ScBytes,
  bytes: F.ScBytes,
  'cs-bytes': F.CsBytes,
  'cs-method': F.Method,
  'cs-uri-scheme': F.Scheme,
  'cs-host': F.Host,
  'cs-uri-port': F.UriPort,
  'cs-uri-path': F.Path,
  'cs-uri-stem': F.Path,
  'cs-uri-query': F.Query,
  'cs-uri': F.Uri,
  'cs-uri-extension': F.UriExt,
  'cs(Host)': F.HostHeader,
  'cs(Referer)': F.Referer,
  'cs(Referrer)': F.Referer,
  'cs(User-Agent)': F.UserAgent,
  'rs(Content-Type)': F.ContentType,
  's-supplier-ip': F.SupplierIp,
  's-supplier-name': F.SupplierName,
  'r-ip': F.RIp,
  's-ip': F.SIp,
  's-computername': F.SComputerName,
  'cs-categories': F.Category,
  'sc-filter-category': F.Category,
  'cs-category': F.Category,
  'cs-version': F.HttpVersion,
};

/** Per-source ELFF state: the current field list and what the directives said. */
export class ElffState {
  names: string[] = [];
  kinds: F[] = [];
  /** Index of an undeclared `cs(User-Agent)` column (ProxySG `main` written without it), or -1. */
  uaAt = -1;
  /** Date from `#Date:` — for layouts with a time column but no date column. */
  directiveDate: string | undefined;
  software: string | undefined;
  headerless = false;

  setFields(list: string): void {
    const names = list.split(/[ \t]+/).filter((s) => s.length > 0);
    this.names = names;
    this.kinds = names.map((n) => FIELD_KIND[n] ?? F.Other);
    const ref = names.indexOf('cs(Referer)');
    this.uaAt = ref !== -1 && names[ref + 1] === 'sc-filter-result' && names.indexOf('cs(User-Agent)') === -1 ? ref + 1 : -1;
  }

  /** Consume a `#` directive line. */
  directive(line: string): void {
    const colon = line.indexOf(':');
    if (colon === -1) return;
    const name = line.slice(1, colon).trim();
    let value = line.slice(colon + 1);
    if (value.charCodeAt(value.length - 1) === Ch_Cr) value = value.slice(0, -1);
    value = value.trim();
    if (name === 'Fields') {
      this.setFields(value);
      this.headerless = false;
    } else if (name === 'Date') this.directiveDate = value;
    else if (name === 'Software') this.software = value;
  }
}

/** `-` (quoted or not) and empty values mean "no value" in W3C logs. */
function isPlaceholder(v: string): boolean {
  return v.length === 0 || v === '-';
}

/** Parse one ELFF data line under the source's state `st`; `tk` is the caller's scratch for the line's tokens. */
export function parseElff(line: string, st: ElffState, tk: Tokens): ProxyRecord | ParseError {
  const declared = st.names.length;
  if (declared === 0) return new ParseError(ERR.NO_FIELDS, 'elff: no #Fields: directive before this line (set elff_fields for headerless logs)');
  tokenize(line, tk, QuoteEscape.Doubled);
  if (tk.unterminated) return new ParseError(ERR.QUOTE, 'elff: a quoted value has no closing quote (truncated line?)');
  const count = tk.count;
  const expected = st.uaAt !== -1 && count > declared ? declared + 1 : declared;
  if (count < expected) return new ParseError(ERR.FIELD_COUNT, `elff: ${declared} fields declared, line has ${count} values`);
  return elffRecord(st, tk.values, count);
}

/** Per-source state of `elff-json`: the layout of the last key set seen (a feed repeats one). */
export class ElffJsonState extends ElffState {
  signature = '';
  readonly values: string[] = [];
}

/**
 * Broadcom/Symantec Cloud SWG (and ProxySG exporters) deliver ELFF records as JSON objects keyed by the
 * ELFF field names (`{"date":…,"time":…,"c-ip":…,"cs(User-Agent)":…,"x-cs-…":…}`). The keys are the
 * `#Fields:` list and the values the columns: read exactly as a W3C line with that header.
 */
export function parseElffObject(o: Rec, st: ElffJsonState): ProxyRecord | ParseError {
  const keys = Object.keys(o);
  const signature = keys.join(' ');
  if (signature !== st.signature) {
    st.setFields(signature);
    st.uaAt = -1;
    st.names = keys; // names with spaces (none in ELFF) stay whole
    st.kinds = keys.map((n) => FIELD_KIND[n] ?? FIELD_KIND[n.toLowerCase()] ?? F.Other);
    st.signature = signature;
  }
  const v = st.values;
  for (let i = 0; i < keys.length; i++) {
    const x = o[keys[i]!];
    v[i] = typeof x === 'string' ? x : x === null || x === undefined ? '-' : typeof x === 'object' ? JSON.stringify(x) : String(x);
  }
  return elffRecord(st, v, keys.length);
}

/** Does this JSON object carry ELFF field names (Cloud SWG)? Needs the client or host and a time. */
export function looksLikeElffObject(o: Rec): boolean {
  const hasTime = typeof o.time === 'string' || typeof o['time-local'] === 'string';
  return hasTime && (o['c-ip'] !== undefined || o['cs-host'] !== undefined || o['cs-uri-path'] !== undefined || o['cs(User-Agent)'] !== undefined);
}

/** The record of one ELFF line (or object): `count` values under the state's field list. */
function elffRecord(st: ElffState, v: string[], count: number): ProxyRecord | ParseError {
  const declared = st.names.length;
  let date: string | undefined, time: string | undefined, dateLocal: string | undefined, timeLocal: string | undefined;
  let scheme: string | undefined, host: string | undefined, hostHeader: string | undefined, uriPort: string | undefined;
  let path: string | undefined, query: string | undefined, uri: string | undefined;
  let supplierIp: string | undefined, rIp: string | undefined;
  let vendor: Rec | undefined;
  const event = newEvent('proxysg.elff', undefined, undefined);
  const rec = newRecord('', event);
  const request = newRequest(undefined);
  const response = newResponse();
  let http: HttpFields | undefined;
  let extension: string | undefined;
  let category: string | undefined;
  let ua: string | undefined;

  let j = 0; // value index
  for (let f = 0; f < declared; f++, j++) {
    if (f === st.uaAt && count > declared) {
      const u = v[j]!;
      if (!isPlaceholder(u)) ua = u;
      j++;
    }
    const val = v[j]!;
    if (isPlaceholder(val)) continue;
    switch (st.kinds[f]) {
      case F.Date:
        date = val;
        break;
      case F.Time:
        time = val;
        break;
      case F.DateLocal:
        dateLocal = val;
        break;
      case F.TimeLocal:
        timeLocal = val;
        break;
      case F.TimeTaken: {
        const ms = parseUint(val);
        if (ms < 0) return new ParseError(ERR.NUMBER, `elff: bad time-taken '${clip(val)}'`);
        event.duration = ms * 1_000_000;
        break;
      }
      case F.CIp:
        setSource(rec, val);
        break;
      case F.CPort: {
        const p = parseUint(val);
        if (p >= 0 && p <= 65535) (rec.source ??= newSource(undefined, undefined)).port = p;
        break;
      }
      case F.User:
        rec.user = { name: val };
        break;
      case F.Status: {
        const s = parseUint(val);
        if (s < 0 || s > 999) return new ParseError(ERR.NUMBER, `elff: bad sc-status '${clip(val)}'`);
        response.status_code = s;
        break;
      }
      case F.Action:
        event.action = val;
        break;
      case F.ScBytes: {
        const b = parseUint(val);
        if (b < 0) return new ParseError(ERR.NUMBER, `elff: bad sc-bytes '${clip(val)}'`);
        response.bytes = b;
        break;
      }
      case F.CsBytes: {
        const b = parseUint(val);
        if (b < 0) return new ParseError(ERR.NUMBER, `elff: bad cs-bytes '${clip(val)}'`);
        request.bytes = b;
        break;
      }
      case F.Method:
        request.method = val;
        break;
      case F.Scheme:
        scheme = val.toLowerCase();
        break;
      case F.Host:
        host = val;
        break;
      case F.UriPort:
        uriPort = val;
        break;
      case F.Path:
        path = val;
        break;
      case F.Query:
        query = val.charCodeAt(0) === Ch_Question ? val.slice(1) : val;
        break;
      case F.Uri:
        uri = val;
        break;
      case F.UriExt:
        extension = val;
        break;
      case F.HostHeader:
        hostHeader = val;
        break;
      case F.Referer:
        request.referrer = val;
        break;
      case F.UserAgent:
        ua = val;
        break;
      case F.ContentType:
        response.mime_type = decodeSpaces(val);
        break;
      case F.SupplierIp:
        supplierIp = val;
        (vendor ??= {})[st.names[f]!] = val;
        break;
      case F.SupplierName:
        if (supplierIp === undefined && canonicalIp(val) !== undefined) supplierIp = val;
        (vendor ??= {})[st.names[f]!] = val;
        break;
      case F.RIp:
        rIp = val;
        (vendor ??= {})[st.names[f]!] = val;
        break;
      case F.SIp: {
        const ip = canonicalIp(val);
        if (ip !== undefined) (rec.observer ??= newObserver()).ip = ip;
        else (vendor ??= {})[st.names[f]!] = val;
        break;
      }
      case F.SComputerName:
        (rec.observer ??= newObserver()).hostname = val;
        break;
      case F.Category:
        category = decodeSpaces(val);
        break;
      case F.HttpVersion:
        (http ??= newHttp(undefined, undefined)).version = val.startsWith('HTTP/') ? val.slice(5) : val;
        break;
      default: {
        const name = st.names[f]!;
        (vendor ??= {})[name === '__proto__' ? 'x-__proto__' : name] = val;
      }
    }
  }
  if (j < count) (vendor ??= {}).extra_values = v.slice(j, count);

  // timestamp: date + time (UTC, per W3C); a time-only layout takes the date from #Date:
  let ts: string | undefined;
  if (time !== undefined || timeLocal !== undefined) {
    const d = date ?? dateLocal ?? (st.directiveDate !== undefined && st.directiveDate.charCodeAt(4) === Ch_Dash ? st.directiveDate.slice(0, 10) : undefined);
    const t = time ?? timeLocal;
    if (d !== undefined && t !== undefined) ts = w3cToIso(d, t);
    if (ts === undefined) return new ParseError(ERR.TIMESTAMP, `elff: bad date/time '${clip(`${d ?? '?'} ${t ?? '?'}`)}'`);
  } else return new ParseError(ERR.TIMESTAMP, 'elff: no time column (time or time-local) in this layout');
  rec['@timestamp'] = ts;

  // rebuild the URL from its parts (or take cs-uri whole) so that URL matching works as on squid logs
  const method: string | undefined = request.method;
  const h = host ?? hostHeader;
  let urlOk = true;
  if (uri !== undefined && (h === undefined || uri.indexOf('://') !== -1)) {
    const c0 = uri.charCodeAt(0);
    if (uri.indexOf('://') === -1 && c0 !== Ch_Slash && method !== 'CONNECT' && uri.indexOf('.') > 0) {
      // host/path without a scheme (Incapsula): parse as a URL of the logged (or http) scheme
      urlOk = fillUrl(rec, `${scheme ?? 'http'}://${uri}`, false);
      if (urlOk) rec.url!.original = uri;
    } else urlOk = fillUrl(rec, uri, method === 'CONNECT');
    if (!urlOk) rec.url = newUrl(uri);
  } else if (h !== undefined) {
    const tunnel = method === 'CONNECT' || scheme === 'tcp' || scheme === 'ssl';
    const hostPart = h.indexOf(':') !== -1 && h.charCodeAt(0) !== Ch_LBracket && canonicalIp(h) !== undefined ? `[${h}]` : h;
    let port: number | undefined;
    if (uriPort !== undefined) {
      port = parseUint(uriPort);
      if (port < 0 || port > 65535) return new ParseError(ERR.NUMBER, `elff: bad cs-uri-port '${clip(uriPort)}'`);
    }
    if (tunnel) {
      const text = port === undefined ? hostPart : `${hostPart}:${port}`;
      urlOk = fillUrl(rec, text, true);
      if (urlOk && scheme !== undefined) rec.url!.scheme = scheme;
      if (!urlOk) rec.url = newUrl(text);
    } else {
      const sch = scheme ?? 'http';
      const p = port === undefined || port === defaultPort(sch) ? '' : `:${port}`;
      const pathPart = path ?? (uri !== undefined && uri.charCodeAt(0) === Ch_Slash ? uri : '/');
      const text = `${sch}://${hostPart}${p}${pathPart}${query !== undefined ? `?${query}` : ''}`;
      urlOk = fillUrl(rec, text, false);
      if (!urlOk) rec.url = newUrl(text);
      else if (port !== undefined) {
        rec.url!.port = port;
        (rec.destination ??= newDestination()).port = port;
      }
    }
  } else if (path !== undefined || uri !== undefined) {
    const text = query !== undefined ? `${path ?? uri}?${query}` : (path ?? uri)!;
    urlOk = fillUrl(rec, text, false);
    if (!urlOk) rec.url = newUrl(text);
  }
  if (!urlOk) addTag(rec, 'url_unparsed');
  if (extension !== undefined) (rec.url ??= newUrl(undefined)).extension = extension;
  if (category !== undefined) (rec.url ??= newUrl(undefined)).category = category;

  // the server actually contacted: a remote/supplier IP, unless the URL host is itself an address
  const dip = rIp ?? supplierIp;
  if (dip !== undefined && rec.destination?.ip === undefined) {
    const ip = canonicalIp(dip);
    if (ip !== undefined) (rec.destination ??= newDestination()).ip = ip;
  }
  if (
    method !== undefined ||
    request.referrer !== undefined ||
    request.bytes !== undefined ||
    response.status_code !== undefined ||
    response.bytes !== undefined ||
    response.mime_type !== undefined ||
    http !== undefined
  ) {
    http ??= newHttp(undefined, undefined);
    if (method !== undefined || request.referrer !== undefined || request.bytes !== undefined) http.request = request;
    if (response.status_code !== undefined || response.bytes !== undefined || response.mime_type !== undefined) http.response = response;
    rec.http = http;
  }
  if (ua !== undefined) rec.user_agent = newUserAgent(ua);
  if (st.software !== undefined) (rec.observer ??= newObserver()).product = st.software;
  rec.proxysg = vendor;
  return rec;
}

/** ProxySG writes `%20` in some text fields (content type, categories). */
function decodeSpaces(s: string): string {
  return s.indexOf('%20') === -1 ? s : s.replaceAll('%20', ' ');
}
