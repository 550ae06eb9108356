/**
 * Proxy logs in every format sluice parses, from one seeded stream of events: the same traffic is
 * rendered as squid native, squid/apache combined, BlueCoat ELFF (with `#Fields` headers, and a
 * different field order after a mid-file header change) or Zscaler NSS JSON lines.
 *
 * Per line, independently: ~0.2% malicious requests to indicators of the feed's hit pool (exact IPs,
 * hosts inside CIDRs, domains and their subdomains, whole URLs), ~0.1% near misses that must NOT
 * alert (`no-evil.top`, `evil.top.example.com` when `evil.top` is an indicator), ~0.5% broken lines
 * (truncated records, binary-looking junk). Counts of each are returned, so a benchmark can check the
 * alerts and rejects a run produced against what was injected.
 */
import { mulberry32, subSeed, int, pick, between, zipfIndex, type Rng } from '../lib/prng.js';
import { hitPool, type Indicator, type IndicatorType } from './feed.js';
import { makeWorld, resource, pickMethod, type World } from './traffic.js';

export const LOG_FORMATS = ['squid', 'combined', 'elff', 'zscaler-nss'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogOptions {
  seed: number;
  lines: number;
  format: LogFormat;
  maliciousRate?: number;
  nearMissRate?: number;
  brokenRate?: number;
}

export interface LogStats {
  /** Data lines written (broken ones included, ELFF `#` directives excluded). */
  lines: number;
  /** ELFF directive lines (`#Software`, `#Fields`, ...). */
  headerLines: number;
  /** Lines that are not a valid record: a parser must route each to `invalid`. */
  invalid: number;
  /** Lines that must raise exactly one alert each. */
  malicious: number;
  maliciousByType: Record<IndicatorType, number>;
  /** Lines that look close to an indicator and must raise nothing. */
  nearMiss: number;
}

interface Ev {
  ms: number;
  elapsed: number;
  clientIp: string;
  user: string;
  ua: string;
  method: string;
  scheme: 'http' | 'https';
  /** Host as it appears in a URL: IPv6 literals in brackets. */
  host: string;
  /** Explicit port written in the URL, if any. */
  port: number;
  path: string;
  query: string;
  status: number;
  bytes: number;
  reqBytes: number;
  mime: string;
  action: string;
  hier: string;
  server: string;
  referer: string;
  category: string;
}

const CATEGORIES = [
  'Technology/Internet',
  'Business/Economy',
  'News/Media',
  'Search Engines/Portals',
  'Web Ads/Analytics',
  'Content Servers',
  'Software Downloads',
  'Social Networking',
  'Reference',
  'Entertainment',
];
const BAD_PATHS = [
  '/bins/mozi.m',
  '/i',
  '/gate.php',
  '/wp-admin/css/colors/blue/x.php',
  '/update/check',
  '/c2/beacon',
  '/load.php?id=7',
  '/dl/invoice.doc',
  '/a.exe',
];

function stripBrackets(h: string): string {
  return h.charCodeAt(0) === 91 /* [ */ ? h.slice(1, -1) : h;
}

/** The stream of events; the format only changes how they are written. */
class Traffic {
  private rng: Rng;
  private world: World;
  private pool: Indicator[];
  private ms = Date.UTC(2023, 10, 14, 8, 0, 0);
  constructor(seed: number) {
    this.rng = mulberry32(subSeed(seed, 'traffic'));
    this.world = makeWorld(seed);
    this.pool = hitPool(seed);
  }

  private base(): Ev {
    const rng = this.rng;
    // ~200 requests/s on average, bursty.
    this.ms += int(rng, 10) === 0 ? int(rng, 40) : int(rng, 8);
    const c = this.world.clients[zipfIndex(rng, this.world.clients.length, 1.05)]!;
    const site = this.world.sites[zipfIndex(rng, this.world.sites.length, 1.15)]!;
    let method = pickMethod(rng);
    if (method === 'GET' && rng() < site.https * 0.6) method = 'CONNECT';
    const res = resource(rng);
    const ev: Ev = {
      ms: this.ms,
      elapsed: 0,
      clientIp: c.ip,
      user: c.user,
      ua: c.ua,
      method,
      scheme: 'http',
      host: site.host,
      port: 0,
      path: res.path,
      query: res.query,
      status: 200,
      bytes: res.size,
      reqBytes: between(rng, 200, 1400),
      mime: res.mime,
      action: 'TCP_MISS',
      hier: 'HIER_DIRECT',
      server: site.ip,
      referer: '-',
      category: pick(rng, CATEGORIES),
    };
    if (method === 'CONNECT') {
      ev.scheme = 'https';
      ev.port = 443;
      ev.path = '';
      ev.query = '';
      ev.mime = '-';
      ev.action = 'TCP_TUNNEL';
      ev.bytes = between(rng, 3_000, 2_000_000);
      ev.elapsed = between(rng, 50, 120_000);
      return ev;
    }
    if (method === 'POST' || method === 'PUT') ev.reqBytes = between(rng, 500, 200_000);
    if (int(rng, 3) === 0) ev.referer = `https://${site.host}/`;
    const r = rng();
    if (r < 0.22) {
      ev.action = pick(rng, ['TCP_HIT', 'TCP_MEM_HIT', 'TCP_REFRESH_UNMODIFIED', 'TCP_IMS_HIT']);
      ev.hier = 'HIER_NONE';
      ev.server = '-';
      ev.elapsed = between(rng, 0, 5);
      if (ev.action === 'TCP_IMS_HIT') {
        ev.status = 304;
        ev.bytes = between(rng, 200, 400);
        ev.mime = '-';
      }
    } else if (r < 0.24) {
      ev.action = 'TCP_DENIED';
      ev.status = pick(rng, [403, 403, 407]);
      ev.hier = 'HIER_NONE';
      ev.server = '-';
      ev.bytes = between(rng, 3_500, 4_200);
      ev.mime = 'text/html';
      ev.elapsed = between(rng, 0, 3);
    } else {
      ev.elapsed = between(rng, 5, 3_000);
      const s = rng();
      if (s < 0.06) {
        ev.status = 304;
        ev.bytes = between(rng, 200, 500);
        ev.mime = '-';
      } else if (s < 0.1) {
        ev.status = 302;
        ev.bytes = between(rng, 300, 900);
        ev.mime = 'text/html';
      } else if (s < 0.13) {
        ev.status = 404;
        ev.bytes = between(rng, 500, 9000);
        ev.mime = 'text/html';
      } else if (s < 0.14) {
        ev.status = pick(rng, [500, 502, 503, 504]);
        ev.bytes = between(rng, 300, 4000);
        ev.mime = 'text/html';
      }
    }
    return ev;
  }

  /** The next event and what it is. */
  next(maliciousRate: number, nearMissRate: number): { ev: Ev; kind: 'benign' | IndicatorType | 'near-miss' } {
    const rng = this.rng;
    const ev = this.base();
    const r = rng();
    if (r < maliciousRate) {
      const ind = this.pool[int(rng, this.pool.length)]!;
      this.aim(ev, ind);
      return { ev, kind: ind.type };
    }
    if (r < maliciousRate + nearMissRate) {
      let ind = this.pool[int(rng, this.pool.length)]!;
      while (ind.type !== 'domain') ind = this.pool[int(rng, this.pool.length)]!;
      ev.host = int(rng, 2) === 0 ? `no-${ind.value}` : `${ind.value}.example.com`;
      return { ev, kind: 'near-miss' };
    }
    return { ev, kind: 'benign' };
  }

  /** Turn a benign event into a request that hits `ind` (and only through the URL host or URL). */
  private aim(ev: Ev, ind: Indicator): void {
    const rng = this.rng;
    ev.action = 'TCP_MISS';
    ev.hier = 'HIER_DIRECT';
    ev.category = 'Suspicious';
    const tunnel = int(rng, 4) === 0;
    if (ind.type === 'url') {
      const u = ind.url!;
      ev.method = 'GET';
      ev.scheme = u.scheme;
      ev.host = u.host;
      ev.path = u.path;
      ev.query = u.query;
      ev.port = int(rng, 10) === 0 ? 80 : 0; // a default port the URL normaliser must drop
      ev.server = u.host.startsWith('[') || /^\d/.test(u.host) ? stripBrackets(u.host) : ev.server === '-' ? '13.107.42.14' : ev.server;
      ev.status = 200;
      ev.mime = 'application/octet-stream';
      return;
    }
    if (ind.type === 'domain') {
      ev.host = int(rng, 2) === 0 ? ind.value : `${pick(rng, ['www', 'cdn', 'api', 'x1', 'update'])}.${ind.value}`;
      if (ev.server === '-') ev.server = '13.107.42.14';
    } else {
      const ip = ind.host!;
      ev.host = ip.includes(':') ? `[${ip}]` : ip;
      ev.server = ip;
    }
    if (tunnel) {
      ev.method = 'CONNECT';
      ev.scheme = 'https';
      ev.port = 443;
      ev.path = '';
      ev.query = '';
      ev.mime = '-';
      ev.action = 'TCP_TUNNEL';
    } else {
      ev.method = 'GET';
      ev.scheme = 'http';
      ev.port = 0;
      ev.path = pick(rng, BAD_PATHS);
      ev.query = '';
      ev.status = 200;
      ev.mime = 'application/octet-stream';
    }
  }
}

function url(ev: Ev): string {
  if (ev.method === 'CONNECT') return `${ev.host}:${ev.port}`;
  return `${ev.scheme}://${ev.host}${ev.port ? `:${ev.port}` : ''}${ev.path}${ev.query}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const p2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** Per-second cache of formatted times: formatting dates is the generator's hot spot otherwise. */
class Clock {
  private sec = -1;
  clf = '';
  w3c = '';
  ctime = '';
  at(ms: number): this {
    const sec = Math.floor(ms / 1000);
    if (sec === this.sec) return this;
    this.sec = sec;
    const d = new Date(sec * 1000);
    const Y = d.getUTCFullYear(),
      M = d.getUTCMonth(),
      D = d.getUTCDate();
    const t = `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
    this.clf = `${p2(D)}/${MONTHS[M]}/${Y}:${t} +0000`;
    this.w3c = `${Y}-${p2(M + 1)}-${p2(D)} ${t}`;
    this.ctime = `${DAYS[d.getUTCDay()]} ${MONTHS[M]} ${p2(D)} ${t} ${Y}`;
    return this;
  }
}

function squid(ev: Ev): string {
  const el = String(ev.elapsed);
  return `${Math.floor(ev.ms / 1000)}.${String(ev.ms % 1000).padStart(3, '0')} ${el.length < 6 ? ' '.repeat(6 - el.length) + el : el} ${ev.clientIp} ${ev.action}/${ev.status} ${ev.bytes} ${ev.method} ${url(ev)} ${ev.user} ${ev.hier}/${ev.server} ${ev.mime}`;
}

function combined(ev: Ev, clock: Clock): string {
  // Squid's `logformat combined`: %>a %[ui %[un [%tl] "%rm %ru HTTP/%rv" %>Hs %<st "%{Referer}>h" "%{User-Agent}>h" %Ss:%Sh
  return `${ev.clientIp} - ${ev.user} [${clock.at(ev.ms).clf}] "${ev.method} ${url(ev)} HTTP/1.1" ${ev.status} ${ev.bytes} "${ev.referer}" "${ev.ua}" ${ev.action}:${ev.hier}`;
}

const ELFF_FIELDS_A =
  'date time time-taken c-ip cs-username s-action sc-status sc-bytes cs-bytes cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query s-supplier-name rs(Content-Type) cs(Referer) cs(User-Agent) sc-filter-result cs-categories s-ip';
const ELFF_FIELDS_B =
  'date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query cs-username s-supplier-name rs(Content-Type) cs(Referer) sc-filter-result cs-categories x-virus-id s-ip cs(User-Agent)';

function elffHeader(clock: Clock, ms: number, fields: string): string[] {
  const w = clock.at(ms).w3c;
  return ['#Software: SGOS 7.3.16.2', '#Version: 1.0', `#Start-Date: ${w}`, `#Date: ${w}`, `#Fields: ${fields}`];
}

function elff(ev: Ev, clock: Clock, layoutB: boolean): string {
  const w = clock.at(ev.ms).w3c;
  const connect = ev.method === 'CONNECT';
  const scheme = connect ? 'tcp' : ev.scheme;
  const port = ev.port || (ev.scheme === 'https' ? 443 : 80);
  const path = connect ? '/' : ev.path;
  const query = ev.query || '-';
  const action = connect ? 'TCP_TUNNELED' : ev.action === 'TCP_DENIED' ? 'TCP_DENIED' : ev.action;
  const filter = ev.action === 'TCP_DENIED' ? 'DENIED' : 'OBSERVED';
  const host = stripBrackets(ev.host);
  const mime = ev.mime;
  const ua = ev.ua === '-' ? '-' : `"${ev.ua}"`;
  const cat = `"${ev.category}"`;
  if (!layoutB) {
    return `${w} ${ev.elapsed} ${ev.clientIp} ${ev.user} ${action} ${ev.status} ${ev.bytes} ${ev.reqBytes} ${ev.method} ${scheme} ${host} ${port} ${path} ${query} ${ev.server === '-' ? host : ev.server} ${mime} ${ev.referer} ${ua} ${filter} ${cat} 192.168.100.5`;
  }
  return `${w} ${ev.elapsed} ${ev.clientIp} ${ev.status} ${action} ${ev.bytes} ${ev.reqBytes} ${ev.method} ${scheme} ${host} ${port} ${path} ${query} ${ev.user} ${ev.server === '-' ? host : ev.server} ${mime} ${ev.referer} ${filter} ${cat} - 192.168.100.5 ${ua}`;
}

function zscaler(ev: Ev, clock: Clock): string {
  const connect = ev.method === 'CONNECT';
  const eurl = connect ? `${ev.host}:${ev.port}` : `${ev.host}${ev.port ? `:${ev.port}` : ''}${ev.path}${ev.query}`;
  const proto = connect ? 'HTTP_PROXY' : ev.scheme === 'https' ? 'HTTPS' : 'HTTP';
  const login = ev.user === '-' ? 'unknown@corp.example' : `${ev.user}@corp.example`;
  const blocked = ev.action === 'TCP_DENIED';
  return `{"sourcetype":"zscalernss-web","event":{"time":"${clock.at(ev.ms).ctime}","login":"${login}","proto":"${proto}","eurl":${JSON.stringify(eurl)},"action":"${blocked ? 'Blocked' : 'Allowed'}","appname":"General Browsing","appclass":"General Browsing","reqsize":"${ev.reqBytes}","respsize":"${ev.bytes}","stime":"${ev.elapsed >> 1}","ctime":"${ev.elapsed}","urlclass":"Business Use","urlsupercat":"Information Technology","urlcat":"${ev.category}","malwarecat":"None","threatname":"None","riskscore":"0","dlpeng":"None","dlpdict":"None","location":"HQ","dept":"Engineering","cip":"${ev.clientIp}","sip":"${ev.server === '-' ? 'None' : ev.server}","reqmethod":"${ev.method}","respcode":"${ev.status}","ua":${JSON.stringify(ev.ua === '-' ? 'None' : ev.ua)},"ereferer":${JSON.stringify(ev.referer === '-' ? 'None' : ev.referer)},"ruletype":"${blocked ? 'UFPol' : 'None'}","rulelabel":"${blocked ? 'Block_Malicious' : 'None'}","contenttype":"${ev.mime === '-' ? 'Other' : ev.mime}","unscannabletype":"None","deviceowner":"${ev.user === '-' ? 'None' : ev.user}","devicehostname":"WS-${ev.clientIp.replace(/\./g, '-')}"}}`;
}

const JUNK = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=!%&*()<>?;:~^|';

/** A line no parser may accept: a record cut short, or junk. */
function broken(rng: Rng, good: string, format: LogFormat): string {
  if (int(rng, 3) === 0) {
    let s = JUNK[int(rng, 26)]!;
    const n = between(rng, 12, 120);
    for (let i = 1; i < n; i++) s += JUNK[int(rng, JUNK.length)]!;
    return s;
  }
  if (format === 'squid') {
    // Cut inside the first six fields: at most 6 of the 10 fields remain.
    let fields = 0;
    let end = good.length;
    for (let i = 1; i < good.length; i++) {
      if (good.charCodeAt(i) !== 32 && good.charCodeAt(i - 1) === 32 && ++fields === 6) {
        end = i;
        break;
      }
    }
    return good.slice(0, between(rng, 8, end - 2)).trimEnd();
  }
  if (format === 'combined') {
    // Cut inside the quoted request: its closing quote is gone.
    const q = good.indexOf('"');
    return good.slice(0, between(rng, q + 2, good.indexOf('"', q + 1) - 1));
  }
  if (format === 'elff') {
    // Fewer than half of the columns.
    let fields = 0;
    for (let i = 0; i < good.length; i++) if (good.charCodeAt(i) === 32 && ++fields === 8) return good.slice(0, i);
    return good.slice(0, 20);
  }
  return good.slice(0, between(rng, 10, good.length - 10));
}

/**
 * Yields the file's lines (without newlines). `stats` is filled in as lines are produced: read it
 * after the generator is exhausted.
 */
export function* logLines(opts: LogOptions, stats: LogStats): Generator<string> {
  const { seed, lines, format } = opts;
  const maliciousRate = opts.maliciousRate ?? 0.002;
  const nearMissRate = opts.nearMissRate ?? 0.001;
  const brokenRate = opts.brokenRate ?? 0.005;
  const traffic = new Traffic(seed);
  const junkRng = mulberry32(subSeed(seed, 'broken'));
  const clock = new Clock();
  let layoutB = false;
  for (let i = 0; i < lines; i++) {
    const { ev, kind } = traffic.next(maliciousRate, nearMissRate);
    if (format === 'elff' && (i === 0 || i === Math.floor(lines / 2))) {
      // A device restart mid-file: new directives and a different column order.
      layoutB = i > 0;
      for (const h of elffHeader(clock, ev.ms, layoutB ? ELFF_FIELDS_B : ELFF_FIELDS_A)) {
        stats.headerLines++;
        yield h;
      }
    }
    let line = format === 'squid' ? squid(ev) : format === 'combined' ? combined(ev, clock) : format === 'elff' ? elff(ev, clock, layoutB) : zscaler(ev, clock);
    stats.lines++;
    // Broken lines replace benign ones only, so malicious and near-miss counts stay exact.
    if (kind === 'benign' && junkRng() < brokenRate) {
      line = broken(junkRng, line, format);
      stats.invalid++;
    } else if (kind === 'near-miss') {
      stats.nearMiss++;
    } else if (kind !== 'benign') {
      stats.malicious++;
      stats.maliciousByType[kind]++;
    }
    yield line;
  }
}

export function emptyStats(): LogStats {
  return { lines: 0, headerLines: 0, invalid: 0, malicious: 0, nearMiss: 0, maliciousByType: { ipv4: 0, ipv6: 0, cidr4: 0, cidr6: 0, domain: 0, url: 0 } };
}
