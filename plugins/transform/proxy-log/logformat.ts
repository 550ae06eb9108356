/**
 * Squid access logs written with a custom `logformat` (squid.conf): the spec gives the `logformat`
 * string, compiled once into a program of literals and fields; each line is then read by walking the
 * program — `startsWith` for literals, one `indexOf` per field for where it ends. No regular
 * expressions and no backtracking: every character is looked at a bounded number of times.
 *
 * The `%` codes are Squid's (http://www.squid-cache.org/Doc/config/logformat/): `%[modifiers][{arg}]code`,
 * modifiers `"` (quoted), `[` `#` `'` `/` (escaping), `-` (left-align), `[0]width[.precision]`. The codes
 * with an ECS home are mapped (see docs/formats.md, "squid with a `logformat`"); every other code is
 * kept as text under `squid["<code>"]` (`squid["{X-Forwarded-For}>h"]`).
 */
import type { Rec } from '../../../src/api.js';
import { canonicalIp } from '../../../src/internal.js';
import { ERR, ParseError } from './errors.js';
import { parseUint } from './numbers.js';
import { SecondCache, epochSecondsToIso, monthIndex, partsToIso } from './time.js';
import { fillUrl, setSource } from './url.js';
import { addTag, newDestination, newEvent, newHttp, newRecord, newRequest, newResponse, newUrl, newUserAgent } from './record.js';
import type { ProxyRecord } from './record.js';
import { clip, isErrorText } from './squid.js';

// The character codes this file compares against, as constants of its own (see charcodes.ts)
const Ch_Tab = 0x09;
const Ch_Cr = 0x0d;
const Ch_Space = 0x20;
const Ch_Quote = 0x22; // "
const Ch_Plus = 0x2b; // +
const Ch_Dash = 0x2d; // -
const Ch_Zero = 0x30;
const Ch_Nine = 0x39;
const Ch_Backslash = 0x5c; // \

/** What a field's value is for. */
const enum K {
  Other,
  Ts,
  Tu,
  TimeLocal,
  TimeGmt,
  Tr,
  ClientIp,
  ClientName,
  ClientPort,
  ServerIp,
  ServerName,
  ServerPort,
  User,
  Action,
  Hierarchy,
  Status,
  Mime,
  Method,
  Url,
  Version,
  ReqBytes,
  RespBytes,
  Referer,
  UserAgent,
}

/** Squid's codes, longest first where one is a prefix of another (`>Hs` before `>h`, `<st` before `<s…`). */
const CODES: [string, K][] = [
  ['ts', K.Ts],
  ['tu', K.Tu],
  ['tl', K.TimeLocal],
  ['tg', K.TimeGmt],
  ['tr', K.Tr],
  ['tS', K.Other],
  ['dt', K.Other],
  ['>Hs', K.Status],
  ['<Hs', K.Other],
  ['Hs', K.Status],
  ['>eui', K.Other],
  ['>la', K.Other],
  ['>lp', K.Other],
  ['<la', K.Other],
  ['<lp', K.Other],
  ['>a', K.ClientIp],
  ['>A', K.ClientName],
  ['>p', K.ClientPort],
  ['<a', K.ServerIp],
  ['<A', K.ServerName],
  ['<p', K.ServerPort],
  ['la', K.Other],
  ['lp', K.Other],
  ['lA', K.Other],
  ['un', K.User],
  ['ul', K.User],
  ['ui', K.User],
  ['us', K.User],
  ['ue', K.User],
  ['Ss', K.Action],
  ['Sh', K.Hierarchy],
  ['mt', K.Mime],
  ['>rm', K.Method],
  ['>ru', K.Url],
  ['>rv', K.Version],
  ['>rp', K.Other],
  ['>rs', K.Other],
  ['>rd', K.Other],
  ['>rP', K.Other],
  ['rm', K.Method],
  ['ru', K.Url],
  ['rv', K.Version],
  ['rp', K.Other],
  ['rs', K.Other],
  ['rd', K.Other],
  ['>st', K.ReqBytes],
  ['<st', K.RespBytes],
  ['>sh', K.Other],
  ['<sh', K.Other],
  ['st', K.Other],
  ['>ha', K.Other],
  ['<ha', K.Other],
  ['>h', K.Other],
  ['<h', K.Other],
  ['<bs', K.Other],
  ['<tt', K.Other],
  ['<pt', K.Other],
  ['err_code', K.Other],
  ['err_detail', K.Other],
  ['et', K.Other],
  ['ea', K.Other],
  ['note', K.Other],
  ['>qos', K.Other],
  ['>nfmark', K.Other],
  ['<qos', K.Other],
  ['<nfmark', K.Other],
  ['master_xaction', K.Other],
  ['transport::>connection_id', K.Other],
  ['credentials', K.Other],
];

/** One step of a compiled logformat. */
interface Item {
  /** null for a literal. */
  kind: K | null;
  /** literal: its text ('' for a run of spaces); field: the vendor key (`tr`, `{Referer}>h`). */
  text: string;
  /** literal: a run of one or more spaces. */
  spaces: boolean;
  /** field: written between double quotes (the `"` modifier, or quote literals around it). */
  quoted: boolean;
  /** field: how many single spaces its value holds (`%tl` writes `dd/Mon/yyyy:hh:mm:ss +zzzz`: one). */
  inner: number;
  /** field `%tl`/`%tg`: the strftime format. */
  strftime: string;
}

/** A compiled logformat: its steps, and which codes it has (what the record can have). */
export class Logformat {
  readonly values: string[];
  readonly present: boolean[];
  constructor(
    readonly source: string,
    readonly items: Item[],
  ) {
    this.values = new Array<string>(items.length).fill('');
    this.present = new Array<boolean>(items.length).fill(false);
  }
}

const DEFAULT_TIME = '%d/%b/%Y:%H:%M:%S %z';
const STRFTIME_OK = new Set(['d', 'e', 'm', 'b', 'Y', 'y', 'H', 'M', 'S', 'z', 'T', 'F', '%']);

/** Squid's built-in formats, by name (squid.conf `logformat` docs). */
export const LOGFORMAT_PRESETS: { readonly [name: string]: string } = {
  squid: '%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt',
  common: '%>a %[ui %[un [%tl] "%rm %ru HTTP/%rv" %>Hs %<st %Ss:%Sh',
  combined: '%>a %[ui %[un [%tl] "%rm %ru HTTP/%rv" %>Hs %<st "%{Referer}>h" "%{User-Agent}>h" %Ss:%Sh',
  referrer: '%ts.%03tu %>a %{Referer}>h %ru',
  useragent: '%>a [%tl] "%{User-Agent}>h"',
};

/** Compile a logformat string (or a preset name); throws an Error saying what is wrong. */
export function compileLogformat(spec: string): Logformat {
  const src = LOGFORMAT_PRESETS[spec] ?? spec;
  const items: Item[] = [];
  const lit = (text: string): void => {
    // split into runs of spaces and runs of other text
    let i = 0;
    while (i < text.length) {
      let j = i;
      if (text.charCodeAt(i) === Ch_Space || text.charCodeAt(i) === Ch_Tab) {
        while (j < text.length && (text.charCodeAt(j) === Ch_Space || text.charCodeAt(j) === Ch_Tab)) j++;
        const prev = items[items.length - 1];
        if (!(prev && prev.kind === null && prev.spaces)) items.push({ kind: null, text: '', spaces: true, quoted: false, inner: 0, strftime: '' });
      } else {
        while (j < text.length && text.charCodeAt(j) !== Ch_Space && text.charCodeAt(j) !== Ch_Tab) j++;
        const prev = items[items.length - 1];
        if (prev && prev.kind === null && !prev.spaces) prev.text += text.slice(i, j);
        else items.push({ kind: null, text: text.slice(i, j), spaces: false, quoted: false, inner: 0, strftime: '' });
      }
      i = j;
    }
  };
  let i = 0;
  let litStart = 0;
  while (i < src.length) {
    if (src.charCodeAt(i) !== 0x25 /* % */) {
      i++;
      continue;
    }
    if (src.charCodeAt(i + 1) === 0x25) {
      lit(src.slice(litStart, i + 1));
      i += 2;
      litStart = i;
      continue;
    }
    lit(src.slice(litStart, i));
    const at = i;
    i++;
    let quoted = false;
    // modifiers: escaping, alignment, width, precision
    for (;;) {
      const c = src[i];
      if (c === '"') {
        quoted = true;
        i++;
      } else if (c === '[' || c === '#' || c === "'" || c === '/' || c === '-') i++;
      else break;
    }
    while (i < src.length && ((src.charCodeAt(i) >= Ch_Zero && src.charCodeAt(i) <= Ch_Nine) || src[i] === '.')) i++;
    let arg = '';
    if (src[i] === '{') {
      const close = src.indexOf('}', i);
      if (close === -1) throw new Error(`logformat: '{' without '}' at column ${i + 1}`);
      arg = src.slice(i + 1, close);
      i = close + 1;
    }
    let code: string | undefined;
    let kind = K.Other;
    for (const [c, k] of CODES) {
      if (src.startsWith(c, i)) {
        code = c;
        kind = k;
        break;
      }
    }
    if (code === undefined) {
      // a code this table does not know (ssl::>sni, adapt::…): letters, digits, '_', ':', '<', '>'
      let j = i;
      while (j < src.length && /[A-Za-z0-9_:<>]/.test(src[j]!)) j++;
      if (j === i) throw new Error(`logformat: no code after '%' at column ${at + 1}`);
      code = src.slice(i, j);
    }
    i += code.length;
    if (arg === '' && src[i] === '{') {
      // the newer spelling puts the argument after the code: %>h{Referer}
      const close = src.indexOf('}', i);
      if (close === -1) throw new Error(`logformat: '{' without '}' at column ${i + 1}`);
      arg = src.slice(i + 1, close);
      i = close + 1;
    }
    if (code === '>h' && arg.toLowerCase() === 'referer') kind = K.Referer;
    else if (code === '>h' && arg.toLowerCase() === 'user-agent') kind = K.UserAgent;
    let strftime = '';
    let inner = 0;
    if (kind === K.TimeLocal || kind === K.TimeGmt) {
      strftime = arg === '' ? DEFAULT_TIME : arg;
      for (let k = 0; k < strftime.length; k++) {
        if (strftime[k] === '%') {
          const d = strftime[k + 1] ?? '';
          if (!STRFTIME_OK.has(d))
            throw new Error(`logformat: %${code}: time format directive '%${d}' is not supported (use %d %e %m %b %Y %y %H %M %S %T %F %z)`);
          k++;
        } else if (strftime[k] === ' ') inner++;
      }
    }
    const prev = items[items.length - 1];
    if (prev && prev.kind !== null) throw new Error(`logformat: %${prev.text} and %${code} have nothing between them: the line cannot be split there`);
    items.push({ kind, text: arg === '' ? code : `{${arg}}${code}`, spaces: false, quoted, inner, strftime });
    litStart = i;
  }
  lit(src.slice(litStart));
  // quote literals around a field: the field is a quoted value (it may hold spaces and escaped quotes)
  for (let k = 0; k < items.length; k++) {
    const f = items[k]!;
    if (f.kind === null) continue;
    const before = items[k - 1];
    const after = items[k + 1];
    if (
      before &&
      before.kind === null &&
      !before.spaces &&
      before.text.endsWith('"') &&
      after &&
      after.kind === null &&
      !after.spaces &&
      after.text.startsWith('"')
    ) {
      before.text = before.text.slice(0, -1);
      after.text = after.text.slice(1);
      f.quoted = true;
    }
  }
  const out = items.filter((it) => it.kind !== null || it.spaces || it.text.length > 0);
  // two fields can now touch where the quotes were between them ("%a""%b" is not a squid habit): refuse
  for (let k = 1; k < out.length; k++) {
    if (out[k]!.kind !== null && out[k - 1]!.kind !== null && !(out[k]!.quoted && out[k - 1]!.quoted))
      throw new Error(`logformat: %${out[k - 1]!.text} and %${out[k]!.text} have nothing between them`);
  }
  const kinds = out.filter((it) => it.kind !== null).map((it) => it.kind);
  if (!kinds.includes(K.Ts) && !kinds.includes(K.TimeLocal) && !kinds.includes(K.TimeGmt)) {
    throw new Error('logformat: no time code (%ts, %tl or %tg): records need a timestamp');
  }
  return new Logformat(src, out);
}

/** Per-parser state of the logformat reader. */
export class LogformatState {
  readonly clock = new SecondCache();
}

function isSpace(c: number): boolean {
  return c === Ch_Space || c === Ch_Tab;
}

/**
 * Split `line` by the program into `lf.values` (and `lf.present`); returns a ParseError, or undefined
 * when every step matched.
 */
function split(line: string, lf: Logformat): ParseError | undefined {
  const items = lf.items;
  const vals = lf.values;
  let n = line.length;
  if (n > 0 && line.charCodeAt(n - 1) === Ch_Cr) n--;
  let i = 0;
  for (let k = 0; k < items.length; k++) {
    const it = items[k]!;
    if (it.kind === null) {
      if (it.spaces) {
        if (i < n && !isSpace(line.charCodeAt(i)))
          return new ParseError(ERR.SYNTAX, `logformat: expected a space at column ${i + 1}, found '${clip(line.slice(i, i + 20))}'`);
        if (i >= n) return new ParseError(ERR.FIELD_COUNT, `logformat: line ends before %${nextField(items, k)}`);
        while (i < n && isSpace(line.charCodeAt(i))) i++;
      } else {
        if (!line.startsWith(it.text, i)) {
          if (i >= n) return new ParseError(ERR.FIELD_COUNT, `logformat: line ends before '${it.text}'`);
          return new ParseError(ERR.SYNTAX, `logformat: expected '${it.text}' at column ${i + 1}, found '${clip(line.slice(i, i + 20))}'`);
        }
        i += it.text.length;
      }
      continue;
    }
    lf.present[k] = true;
    if (it.quoted && i < n && line.charCodeAt(i) === Ch_Quote) {
      // a quoted value: to the closing quote; \" and \\ are escapes (squid's and Apache's)
      i++;
      let seg = i;
      let v = '';
      let closed = false;
      while (i < n) {
        const c = line.charCodeAt(i);
        if (c === Ch_Quote) {
          closed = true;
          break;
        }
        if (c === Ch_Backslash && i + 1 < n) {
          v += line.slice(seg, i);
          seg = i + 1;
          i += 2;
          continue;
        }
        i++;
      }
      if (!closed) return new ParseError(ERR.QUOTE, `logformat: the quoted value of %${it.text} has no closing quote (truncated line?)`);
      vals[k] = v + line.slice(seg, i);
      i++;
      continue;
    }
    const next = items[k + 1];
    let end: number;
    if (next === undefined) {
      end = n;
      while (end > i && isSpace(line.charCodeAt(end - 1))) end--;
    } else if (next.spaces) {
      // the value ends at a space; `inner` spaces inside it are part of it (`%tl`)
      end = i;
      for (let s = 0; s <= it.inner; s++) {
        if (s > 0) end++;
        while (end < n && !isSpace(line.charCodeAt(end))) end++;
      }
    } else {
      end = line.indexOf(next.text, i);
      if (end === -1 || end > n) {
        if (next.text.charCodeAt(0) === Ch_Quote) return new ParseError(ERR.QUOTE, `logformat: no closing quote after %${it.text} (truncated line?)`);
        return new ParseError(ERR.SYNTAX, `logformat: expected '${next.text}' after %${it.text}, found '${clip(line.slice(i, i + 20))}'`);
      }
    }
    vals[k] = line.slice(i, end);
    i = end;
  }
  if (i < n) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i < n) return new ParseError(ERR.SYNTAX, `logformat: text after the last field: '${clip(line.slice(i))}'`);
  }
  return undefined;
}

function nextField(items: Item[], k: number): string {
  for (let j = k + 1; j < items.length; j++) if (items[j]!.kind !== null) return items[j]!.text;
  return 'the end';
}

function absent(v: string): boolean {
  return v.length === 0 || v === '-';
}

/** A strftime-formatted time (`%tl`/`%tg`) → ISO UTC; undefined when it does not fit the format. */
export function strftimeToIso(v: string, fmt: string, gmt: boolean): string | undefined {
  // -9: not in the format (an error at the end); -1/-2: a directive that did not read
  let y = -9,
    mo = -9,
    d = -9,
    h = 0,
    mi = 0,
    se = 0,
    off = 0;
  let i = 0;
  const num = (w: number, min = w): number => {
    let k = 0;
    let x = 0;
    while (k < w && i < v.length) {
      const c = v.charCodeAt(i) - Ch_Zero;
      if (c < 0 || c > 9) break;
      x = x * 10 + c;
      i++;
      k++;
    }
    return k < min ? -1 : x;
  };
  for (let f = 0; f < fmt.length; f++) {
    const fc = fmt[f];
    if (fc !== '%') {
      if (v[i] !== fc) return undefined;
      i++;
      continue;
    }
    const dir = fmt[++f];
    switch (dir) {
      case 'd':
        d = num(2);
        break;
      case 'e':
        if (v[i] === ' ') i++;
        d = num(2, 1);
        break;
      case 'm':
        mo = num(2) - 1;
        break;
      case 'b':
        mo = monthIndex(v.slice(i, i + 3));
        i += 3;
        break;
      case 'Y':
        y = num(4);
        break;
      case 'y': {
        const yy = num(2);
        y = yy < 0 ? -1 : yy < 70 ? 2000 + yy : 1900 + yy;
        break;
      }
      case 'H':
        h = num(2);
        break;
      case 'M':
        mi = num(2);
        break;
      case 'S':
        se = num(2);
        break;
      case 'T':
        h = num(2);
        if (v[i++] !== ':') return undefined;
        mi = num(2);
        if (v[i++] !== ':') return undefined;
        se = num(2);
        break;
      case 'F':
        y = num(4);
        if (v[i++] !== '-') return undefined;
        mo = num(2) - 1;
        if (v[i++] !== '-') return undefined;
        d = num(2);
        break;
      case 'z': {
        const sign = v.charCodeAt(i);
        if (sign !== Ch_Plus && sign !== Ch_Dash) return undefined;
        i++;
        const hh = num(2);
        const mm = num(2);
        if (hh < 0 || mm < 0) return undefined;
        off = (sign === Ch_Dash ? -1 : 1) * (hh * 60 + mm);
        break;
      }
      case '%':
        if (v[i++] !== '%') return undefined;
        break;
      default:
        return undefined;
    }
    if (y === -1 || mo === -1 || mo === -2 || d === -1 || h < 0 || mi < 0 || se < 0) return undefined;
  }
  if (i !== v.length || y < 0 || mo < 0 || d < 0) return undefined;
  return partsToIso(y, mo, d, h, mi, se, 0, gmt ? 0 : off);
}

/** Parse one line by the compiled logformat. */
export function parseLogformat(line: string, lf: Logformat, st: LogformatState): ProxyRecord | ParseError {
  lf.present.fill(false);
  const err = split(line, lf);
  if (err !== undefined) return err;
  const items = lf.items;
  const vals = lf.values;
  let ts: string | undefined;
  let tsText: string | undefined;
  let tuText: string | undefined;
  const event = newEvent('squid.access', undefined, undefined);
  const rec = newRecord('', event);
  const request = newRequest(undefined);
  const response = newResponse();
  const http = newHttp(request, response);
  let squid: Rec | undefined;
  let urlText: string | undefined;
  let peer: string | undefined;
  let clientName: string | undefined;
  let clientIp: string | undefined;
  let clientPort = -1;
  for (let k = 0; k < items.length; k++) {
    const it = items[k]!;
    const kind = it.kind;
    if (kind === null || !lf.present[k]) continue;
    const v = vals[k]!;
    switch (kind) {
      case K.Ts:
        tsText = v;
        break;
      case K.Tu:
        tuText = v;
        break;
      case K.TimeLocal:
      case K.TimeGmt: {
        ts = strftimeToIso(v, it.strftime, kind === K.TimeGmt);
        if (ts === undefined) return new ParseError(ERR.TIMESTAMP, `logformat: bad time '${clip(v)}' for %${it.text} (format ${it.strftime})`);
        break;
      }
      case K.Tr: {
        if (absent(v)) break;
        const ms = parseUint(v);
        if (ms < 0) return new ParseError(ERR.NUMBER, `logformat: bad response time '${clip(v)}' (%${it.text}, milliseconds)`);
        event.duration = ms * 1_000_000;
        break;
      }
      case K.ClientIp:
        if (!absent(v)) clientIp = v;
        break;
      case K.ClientName:
        if (!absent(v)) clientName = v;
        break;
      case K.ClientPort: {
        if (absent(v)) break;
        const p = parseUint(v);
        if (p < 0 || p > 65535) return new ParseError(ERR.NUMBER, `logformat: bad client port '${clip(v)}'`);
        clientPort = p;
        break;
      }
      case K.ServerIp:
        if (!absent(v)) peer = v;
        break;
      case K.User:
        if (!absent(v) && rec.user === undefined) rec.user = { name: v };
        break;
      case K.Action:
        if (!absent(v)) event.action = v;
        break;
      case K.Hierarchy:
        if (!absent(v)) (squid ??= {}).hierarchy = v;
        break;
      case K.Status: {
        if (absent(v)) break;
        const s = parseUint(v);
        if (s < 0 || s > 999) return new ParseError(ERR.NUMBER, `logformat: bad status code '${clip(v)}'`);
        response.status_code = s;
        break;
      }
      case K.Mime:
        if (!absent(v)) response.mime_type = v;
        break;
      case K.Method: {
        if (absent(v)) break;
        if (isErrorText(v)) event.reason = v;
        else request.method = v;
        break;
      }
      case K.Url:
        if (!absent(v)) urlText = v;
        break;
      case K.Version:
        if (!absent(v)) http.version = v.startsWith('HTTP/') ? v.slice(5) : v;
        break;
      case K.ReqBytes:
      case K.RespBytes: {
        if (absent(v)) break;
        const b = parseUint(v);
        if (b < 0) return new ParseError(ERR.NUMBER, `logformat: bad size '${clip(v)}' (%${it.text})`);
        if (kind === K.ReqBytes) request.bytes = b;
        else response.bytes = b;
        break;
      }
      case K.Referer:
        if (!absent(v)) request.referrer = v;
        break;
      case K.UserAgent:
        if (!absent(v)) rec.user_agent = newUserAgent(v);
        break;
      default: {
        // K.ServerName, K.ServerPort and the codes without a field of their own: kept under `squid`
        if (absent(v)) break;
        const key = it.text === '__proto__' ? 'x-__proto__' : it.text;
        (squid ??= {})[key] = v;
      }
    }
  }
  if (ts === undefined) {
    if (tsText === undefined) return new ParseError(ERR.TIMESTAMP, 'logformat: no time on this line');
    ts = epochSecondsToIso(tuText !== undefined ? `${tsText}.${tuText}` : tsText, st.clock);
    if (ts === undefined)
      return new ParseError(ERR.TIMESTAMP, `logformat: bad time '${clip(tuText !== undefined ? `${tsText}.${tuText}` : tsText)}' (%ts: epoch seconds)`);
  }
  rec['@timestamp'] = ts;
  const client = clientIp ?? clientName;
  if (client !== undefined) setSource(rec, client);
  if (clientPort >= 0) {
    if (rec.source === undefined) rec.source = { ip: undefined, port: clientPort, domain: undefined };
    else rec.source.port = clientPort;
  }
  if (urlText !== undefined) {
    if (isErrorText(urlText)) {
      // an aborted transaction: no URL, the error says why (as in the native format)
      event.reason = urlText;
      if (request.method === 'NONE') request.method = undefined;
    } else if (!fillUrl(rec, urlText, request.method === 'CONNECT')) {
      rec.url = newUrl(urlText);
      addTag(rec, 'url_unparsed');
    }
  }
  if (peer !== undefined) {
    (squid ??= {}).peer = peer;
    // the server squid went to directly (no hierarchy code logged: the peer is taken as the server)
    const h = squid.hierarchy;
    if (h === undefined || (typeof h === 'string' && (h.indexOf('DIRECT') !== -1 || h === 'ORIGINAL_DST'))) {
      const ip = canonicalIp(peer);
      if (ip !== undefined) {
        const d = (rec.destination ??= newDestination());
        if (d.ip === undefined) d.ip = ip;
      }
    }
  }
  if (request.method === undefined && request.referrer === undefined && request.bytes === undefined) http.request = undefined;
  if (response.status_code === undefined && response.bytes === undefined && response.mime_type === undefined) http.response = undefined;
  if (http.request !== undefined || http.response !== undefined || http.version !== undefined) rec.http = http;
  rec.squid = squid;
  return rec;
}
