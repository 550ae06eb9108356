/**
 * The naive reference: what someone would write in an afternoon with plain Node. readline over the
 * file, one regex per squid line, `new URL` for the request URL, a `Set` per indicator type, a parent
 * walk for domains, and for CIDRs one `Set` of network addresses per prefix length present in the
 * feed (the usual plain-Node answer; a linear scan of 60k networks per line would make the reference
 * a straw man). Alerts and rejects are written as JSON lines. It checks the same fields as the sweep:
 * the URL host (domain or IP literal), the destination IP (squid hierarchy field) and the whole URL.
 *
 * Usage: node naive-sweep.js --logs FILE --feed FILE --alerts OUT --rejects OUT
 * Prints one JSON summary line on stdout.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { logs: { type: 'string' }, feed: { type: 'string' }, alerts: { type: 'string' }, rejects: { type: 'string' } },
});
if (!values.logs || !values.feed || !values.alerts || !values.rejects) {
  console.error('usage: naive-sweep --logs FILE --feed FILE --alerts OUT --rejects OUT');
  process.exit(2);
}

const ips = new Set<string>();
const domains = new Set<string>();
const urls = new Set<string>();
const cidr4 = new Map<number, Set<number>>();
// IPv6 networks are keyed by their hex text: V8 hashes a BigInt by its low 64 bits only, and masked
// networks (/32–/64) have those all zero, so a Set<bigint> of them degrades to a linear scan.
const cidr6 = new Map<number, Set<string>>();
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function v4int(s: string): number | undefined {
  const m = IPV4.exec(s);
  if (!m) return undefined;
  return ((+m[1]! << 24) | (+m[2]! << 16) | (+m[3]! << 8) | +m[4]!) >>> 0;
}

function v6big(s: string): bigint | undefined {
  const dbl = s.indexOf('::');
  let parts: string[];
  if (dbl >= 0) {
    const head = s.slice(0, dbl) ? s.slice(0, dbl).split(':') : [];
    const tail = s.slice(dbl + 2) ? s.slice(dbl + 2).split(':') : [];
    parts = [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail];
  } else parts = s.split(':');
  if (parts.length !== 8) return undefined;
  let n = 0n;
  for (const p of parts) {
    const h = parseInt(p, 16);
    if (Number.isNaN(h)) return undefined;
    n = (n << 16n) | BigInt(h);
  }
  return n;
}

const MASK4: number[] = [];
for (let p = 0; p <= 32; p++) MASK4[p] = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
const ALL6 = (1n << 128n) - 1n;
const mask6 = (p: number) => (ALL6 >> BigInt(128 - p)) << BigInt(128 - p);

function normUrl(u: string): string | undefined {
  try {
    const url = new URL(u);
    url.hash = '';
    return url.href;
  } catch {
    return undefined;
  }
}

async function loadFeed(path: string): Promise<number> {
  let n = 0;
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const raw of rl) {
    const v = raw.trim();
    if (!v || v[0] === '#') continue;
    n++;
    if (v.includes('://')) {
      const u = normUrl(v);
      if (u) urls.add(u);
      continue;
    }
    const slash = v.indexOf('/');
    if (slash > 0) {
      const prefix = Number(v.slice(slash + 1));
      const addr = v.slice(0, slash);
      const a4 = v4int(addr);
      if (a4 !== undefined) {
        let s = cidr4.get(prefix);
        if (!s) cidr4.set(prefix, (s = new Set()));
        s.add((a4 & MASK4[prefix]!) >>> 0);
      } else {
        const a6 = v6big(addr.toLowerCase());
        if (a6 === undefined) continue;
        let s = cidr6.get(prefix);
        if (!s) cidr6.set(prefix, (s = new Set()));
        s.add((a6 & mask6(prefix)).toString(16));
      }
      continue;
    }
    if (IPV4.test(v) || v.includes(':')) {
      ips.add(v.toLowerCase());
      continue;
    }
    domains.add(v.toLowerCase().replace(/\.$/, ''));
  }
  return n;
}

interface Match {
  type: string;
  value: string;
  field: string;
}

function matchIp(ip: string, field: string, out: Match[]): void {
  if (ips.has(ip)) out.push({ type: 'ip', value: ip, field });
  const a4 = v4int(ip);
  if (a4 !== undefined) {
    for (const [p, set] of cidr4) {
      const net = (a4 & MASK4[p]!) >>> 0;
      if (set.has(net)) out.push({ type: 'cidr', value: `${p}:${net}`, field });
    }
  } else if (ip.includes(':')) {
    const a6 = v6big(ip);
    if (a6 === undefined) return;
    for (const [p, set] of cidr6) if (set.has((a6 & mask6(p)).toString(16))) out.push({ type: 'cidr', value: `/${p}`, field });
  }
}

// time elapsed client action/status bytes method url ident hierarchy/peer type
const LINE = /^(\d+\.\d+)\s+(\d+)\s+(\S+)\s+([A-Z_]+)\/(\d{3})\s+(\d+)\s+([A-Z_]+)\s+(\S+)\s+(\S+)\s+([A-Z_]+)\/(\S+)\s+(\S+)$/;

function write(ws: WriteStream, s: string): Promise<void> | undefined {
  if (ws.write(s)) return undefined;
  return new Promise((r) => ws.once('drain', r));
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const indicators = await loadFeed(values.feed!);
  const tFeed = performance.now();
  const alertsOut = createWriteStream(values.alerts!);
  const rejectsOut = createWriteStream(values.rejects!);
  let lines = 0,
    invalid = 0,
    alerts = 0;
  const rl = createInterface({ input: createReadStream(values.logs!), crlfDelay: Infinity });
  for await (const line of rl) {
    lines++;
    const m = LINE.exec(line);
    let host: string | undefined;
    let href: string | undefined;
    if (m) {
      const u = m[8]!;
      if (m[7] === 'CONNECT') {
        host = u[0] === '[' ? u.slice(1, u.indexOf(']')) : u.slice(0, u.lastIndexOf(':'));
      } else {
        try {
          const url = new URL(u);
          host = url.hostname;
          if (host[0] === '[') host = host.slice(1, -1);
          url.hash = '';
          href = url.href;
        } catch {
          /* rejected below */
        }
      }
    }
    if (!m || !host) {
      invalid++;
      const p = write(rejectsOut, JSON.stringify({ line: lines, reason: m ? 'BAD_URL' : 'NO_MATCH', original: line }) + '\n');
      if (p !== undefined) await p;
      continue;
    }
    host = host.toLowerCase();
    const hits: Match[] = [];
    if (href !== undefined && urls.has(href)) hits.push({ type: 'url', value: href, field: 'url.original' });
    if (IPV4.test(host) || host.includes(':')) matchIp(host, 'url.domain', hits);
    else {
      for (let d = host; ; ) {
        if (domains.has(d)) hits.push({ type: 'domain', value: d, field: 'url.domain' });
        const dot = d.indexOf('.');
        if (dot < 0) break;
        d = d.slice(dot + 1);
      }
    }
    const peer = m[11]!;
    if (peer !== '-' && peer !== host) matchIp(peer, 'destination.ip', hits);
    if (hits.length) {
      alerts++;
      const rec = {
        '@timestamp': new Date(Number(m[1]) * 1000).toISOString(),
        'rule.name': 'naive-ioc-sweep',
        source: { ip: m[3] },
        user: { name: m[9] },
        url: { original: m[8], domain: host },
        destination: { ip: peer === '-' ? undefined : peer },
        http: { request: { method: m[7] }, response: { status_code: Number(m[5]), bytes: Number(m[6]) } },
        event: { action: m[4], duration: Number(m[2]) * 1e6 },
        threat: { enrichments: hits },
      };
      const p = write(alertsOut, JSON.stringify(rec) + '\n');
      if (p !== undefined) await p;
    }
  }
  await Promise.all([new Promise((r) => alertsOut.end(r)), new Promise((r) => rejectsOut.end(r))]);
  const t1 = performance.now();
  console.log(JSON.stringify({ lines, invalid, alerts, indicators, feedMs: Math.round(tFeed - t0), totalMs: Math.round(t1 - t0) }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
