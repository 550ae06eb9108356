/**
 * Apache/NCSA combined, as web proxies (squid's `logformat combined`) and servers write it:
 *   client ident user [dd/Mon/yyyy:hh:mm:ss +zzzz] "METHOD URL HTTP/x.y" status bytes "referer" "user-agent" [trailing]
 * Referer and User-Agent are optional (common log format); squid appends `%Ss:%Sh` (TCP_MISS:HIER_DIRECT);
 * any further trailing fields are kept in `apache.extra`.
 */
import type { Rec } from '../../../src/api.js';
import { ERR, ParseError } from './errors.js';
import { parseUint } from './numbers.js';
import { clfToIso } from './time.js';
import { fillUrl, setSource } from './url.js';
import { canonicalIp, normaliseHost } from '../../../src/internal.js';
import { addTag, newDestination, newEvent, newHttp, newRecord, newRequest, newResponse, newUrl, newUserAgent } from './record.js';
import type { ProxyRecord } from './record.js';
import { QuoteEscape, type Tokens, tokenize } from './lex.js';
import { clip } from './squid.js';

// The character codes this file compares against, as constants of its own (see charcodes.ts)
const Ch_Zero = 0x30;
const Ch_Nine = 0x39;
const Ch_A = 0x41;
const Ch_Z = 0x5a;
const Ch_LBracket = 0x5b; // [
const Ch_Underscore = 0x5f; // _

/** `TCP_MISS:HIER_DIRECT` — squid's status and hierarchy codes appended to combined lines. */
function squidCodes(s: string): number {
  const colon = s.indexOf(':');
  if (colon < 2 || colon === s.length - 1) return -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (i !== colon && !((c >= Ch_A && c <= Ch_Z) || c === Ch_Underscore)) return -1;
  }
  return colon;
}

/** Parse one combined line; `tk` is the caller's scratch for the line's tokens. */
export function parseCombined(line: string, tk: Tokens): ProxyRecord | ParseError {
  tokenize(line, tk, QuoteEscape.Backslash);
  const t = tk.values;
  const count = tk.count;
  // the [time] column: the first token that starts with '['
  let b = 0;
  while (b < count && !(t[b]!.charCodeAt(0) === Ch_LBracket && !tk.quoted[b])) b++;
  if (b >= count) return new ParseError(ERR.SYNTAX, 'combined: no [time] column');
  if (b < 3) return new ParseError(ERR.FIELD_COUNT, `combined: expected client, ident and user before [time], found ${b} field(s)`);
  // a leading field before the client: Apache `vhost_combined` (`%v:%p %h …`), or a server/host name
  // some setups prepend. Told apart from a user name with spaces by its shape: `name:port`, or a
  // non-address followed by an address.
  const c = b >= 4 && leadingField(t[0]!, t[1]!) ? 1 : 0;
  let timeText: string;
  let next: number;
  if (t[b]!.endsWith(']')) {
    timeText = t[b]!.slice(1, -1);
    next = b + 1;
  } else if (b + 1 < count && t[b + 1]!.endsWith(']')) {
    timeText = `${t[b]!.slice(1)} ${t[b + 1]!.slice(0, -1)}`;
    next = b + 2;
  } else return new ParseError(ERR.TIMESTAMP, 'combined: [time] is not closed');
  const ts = clfToIso(timeText);
  if (ts === undefined) return new ParseError(ERR.TIMESTAMP, `combined: bad time '${clip(timeText)}' (want 20/Jul/2009:22:59:26 +0000)`);
  if (next >= count) return new ParseError(ERR.FIELD_COUNT, 'combined: line ends before the request');
  if (!tk.quoted[next]) return new ParseError(ERR.SYNTAX, `combined: the request must be quoted, found '${clip(t[next]!)}'`);
  if (tk.unterminated && next === count - 1) return new ParseError(ERR.QUOTE, 'combined: the request has no closing quote (truncated line?)');
  if (next + 2 >= count) return new ParseError(ERR.FIELD_COUNT, 'combined: line ends before status and size');

  const rec = newRecord(ts, newEvent('apache.access', undefined, undefined));
  setSource(rec, t[c]!);
  const user = b === c + 3 ? t[c + 2]! : line.slice(tk.starts[c + 2]!, tk.ends[b - 1]!);
  if (user !== '-') rec.user = { name: user };

  const request = newRequest(undefined);
  const response = newResponse();
  const http = newHttp(request, response);
  rec.http = http;
  let apache: Rec | undefined;
  const reqText = t[next]!;
  const sp1 = reqText.indexOf(' ');
  if (sp1 > 0) {
    request.method = reqText.slice(0, sp1);
    let urlEnd = reqText.length;
    const sp2 = reqText.lastIndexOf(' ');
    if (sp2 > sp1 && reqText.startsWith('HTTP/', sp2 + 1)) {
      http.version = reqText.slice(sp2 + 6);
      urlEnd = sp2;
    }
    const urlText = reqText.slice(sp1 + 1, urlEnd);
    if (urlText.length > 0 && !fillUrl(rec, urlText, request.method === 'CONNECT')) {
      rec.url = newUrl(urlText);
      addTag(rec, 'url_unparsed');
    }
  } else if (reqText !== '-' && reqText.length > 0) {
    // not "METHOD URL PROTO" (a TLS handshake sent to a plain port, junk): kept, not parsed
    apache = { request: reqText };
  }
  const status = t[next + 1]!;
  if (status !== '-') {
    const s = parseUint(status);
    if (s < 0 || s > 999) return new ParseError(ERR.NUMBER, `combined: bad status '${clip(status)}'`);
    response.status_code = s;
  }
  const size = t[next + 2]!;
  if (size !== '-') {
    const n = parseUint(size);
    if (n < 0) return new ParseError(ERR.NUMBER, `combined: bad size '${clip(size)}'`);
    response.bytes = n;
  }
  let i = next + 3;
  if (i < count && tk.quoted[i]) {
    const ref = t[i]!;
    if (ref !== '-' && ref.length > 0) request.referrer = ref;
    i++;
    if (i < count && tk.quoted[i]) {
      const ua = t[i]!;
      if (ua !== '-' && ua.length > 0) rec.user_agent = newUserAgent(ua);
      i++;
    }
  }
  if (tk.unterminated) return new ParseError(ERR.QUOTE, 'combined: a quoted field has no closing quote (truncated line?)');
  if (request.method === undefined && request.referrer === undefined) http.request = undefined;
  if (i < count) {
    const c = squidCodes(t[i]!);
    if (c !== -1) {
      rec.event.action = t[i]!.slice(0, c);
      rec.squid = { hierarchy: t[i]!.slice(c + 1) };
      i++;
    }
    if (i < count) (apache ??= {}).extra = t.slice(i, count);
  }
  if (c === 1) {
    const vhost = t[0]!;
    (apache ??= {}).vhost = vhost;
    // a server's log (origin-form URL): the virtual host is the destination, as Elastic's apache integration reads it
    if (rec.destination === undefined) vhostDestination(rec, vhost);
  }
  rec.apache = apache;
  return rec;
}

/** Is `first` (before `second`, the client) a leading field rather than the client? */
function leadingField(first: string, second: string): boolean {
  if (canonicalIp(first) !== undefined) return false;
  return portSuffix(first) > 0 || canonicalIp(second) !== undefined;
}

/** Index of the ':' of a `name:port` suffix, or -1. */
function portSuffix(s: string): number {
  const colon = s.lastIndexOf(':');
  if (colon < 1 || colon === s.length - 1 || s.length - colon > 6) return -1;
  for (let i = colon + 1; i < s.length; i++) {
    const d = s.charCodeAt(i);
    if (d < Ch_Zero || d > Ch_Nine) return -1;
  }
  return colon;
}

function vhostDestination(rec: ProxyRecord, vhost: string): void {
  const colon = portSuffix(vhost);
  const name = colon > 0 ? vhost.slice(0, colon) : vhost;
  const port = colon > 0 ? parseUint(vhost.slice(colon + 1)) : -1;
  const domain = canonicalIp(name) ?? normaliseHost(name);
  if (domain === undefined) return;
  const d = newDestination();
  if (canonicalIp(name) !== undefined) d.ip = domain;
  else d.domain = domain;
  if (port >= 0 && port <= 65535) d.port = port;
  rec.destination = d;
}
