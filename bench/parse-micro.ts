/**
 * Micro-benchmark of the proxy-log parsers, in-process, on one core:
 *   node dist/bench/parse-micro.js [lines=200000] [rounds=5]
 * Each format's lines are generated (seeded) in memory, then parsed by the proxy-log transform in
 * batches of 1000 `{message, origin}` records (schema validation included). For squid, a naive
 * reference — one regex per line + `new URL` + building the same ECS record, no validation — is
 * measured in the same run, on the same pre-split lines (no I/O on either side) and, separately,
 * with `readline` over a file as such a script would read it. Rounds are interleaved; the best
 * round counts. Prints lines/s and the ratio sluice/naive.
 *
 * Each format is measured in its own child process (a pipeline parses one format per node; parsing
 * every format in one process makes the record validator see every record shape and understates
 * each). The naive references run in the squid child. `node dist/bench/parse-micro.js N R FORMAT`
 * measures one format in this process.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import proxyLog, { ProxyLogParser } from '../plugins/transform/proxy-log/index.js';
import type { ProxyLogConfig } from '../plugins/transform/proxy-log/index.js';
import type { Rec } from '../src/api.js';
import { between, mulberry32, pick } from './lib/prng.js';
import type { Rng } from './lib/prng.js';
import { quietContext } from './lib/context.js';

const N = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const ONLY = process.argv[4];
const BATCH = 1000;

const HOSTS = ['www.example.com', 'cdn.example.net', 'api.example.org', 'static.example.com', 'login.example.com', 'img.example.net'];
const PATHS = ['/', '/index.html', '/a/b/c.js', '/images/logo.png', '/api/v1/items?id=42&x=y', '/search?q=sluice+pipeline'];
const ACTIONS = ['TCP_MISS/200', 'TCP_HIT/200', 'TCP_REFRESH_HIT/304', 'TCP_DENIED/407', 'TCP_MISS/404'];
const TYPES = ['text/html', 'image/png', 'application/javascript', '-'];

function ip(rng: Rng, a: number): string {
  return `${a}.${between(rng, 0, 255)}.${between(rng, 0, 255)}.${between(rng, 1, 254)}`;
}

function squidLine(rng: Rng, t: number): string {
  const host = pick(rng, HOSTS);
  if (rng() < 0.1) {
    return `${t.toFixed(3)} ${String(between(rng, 1, 9999)).padStart(6)} ${ip(rng, 10)} TCP_TUNNEL/200 ${between(rng, 100, 99999)} CONNECT ${host}:443 - HIER_DIRECT/${ip(rng, 203)} -`;
  }
  return `${t.toFixed(3)} ${String(between(rng, 1, 9999)).padStart(6)} ${ip(rng, 10)} ${pick(rng, ACTIONS)} ${between(rng, 100, 99999)} GET http://${host}${pick(rng, PATHS)} ${rng() < 0.5 ? '-' : 'alice'} DIRECT/${ip(rng, 203)} ${pick(rng, TYPES)}`;
}

const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function combinedLine(rng: Rng, t: number): string {
  const d = new Date(t * 1000);
  const ts = `${String(d.getUTCDate()).padStart(2, '0')}/${MON[d.getUTCMonth()]}/${d.getUTCFullYear()}:${d.toISOString().slice(11, 19)} +0000`;
  return `${ip(rng, 10)} - - [${ts}] "GET http://${pick(rng, HOSTS)}${pick(rng, PATHS)} HTTP/1.1" ${pick(rng, ['200', '304', '404'])} ${between(rng, 100, 99999)} "-" "Mozilla/5.0 (X11; Linux x86_64)" TCP_MISS:HIER_DIRECT`;
}

const ELFF_HEADER = '#Fields: date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query cs-username cs-auth-group s-supplier-name rs(Content-Type) cs(Referer) cs(User-Agent) sc-filter-result cs-categories x-virus-id s-ip';

function elffLine(rng: Rng, t: number): string {
  const iso = new Date(t * 1000).toISOString();
  const host = pick(rng, HOSTS);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} ${between(rng, 1, 9999)} ${ip(rng, 10)} 200 TCP_NC_MISS ${between(rng, 100, 99999)} ${between(rng, 100, 999)} GET https ${host} 443 /p/q.js ?a=1 - - ${host} text/html - "Mozilla/5.0 (Windows NT 10.0)" OBSERVED "Technology/Internet" - 192.0.2.1`;
}

function zscalerLine(rng: Rng, t: number): string {
  const d = new Date(t * 1000).toUTCString(); // "Fri, 31 Dec 2021 07:07:07 GMT" → NSS "Fri Dec 31 07:07:07 2021"
  const [wd, day, mon, year, time] = d.replace(',', '').split(' ');
  const ts = `${wd} ${mon} ${day} ${time} ${year}`;
  return JSON.stringify({ sourcetype: 'zscalernss-web', event: { time: ts, login: 'alice@example.com', proto: 'HTTPS', eurl: `${pick(rng, HOSTS)}${pick(rng, PATHS)}`, action: 'Allowed', reqsize: String(between(rng, 100, 999)), respsize: String(between(rng, 100, 99999)), urlcat: 'Web Search', cip: ip(rng, 10), sip: ip(rng, 203), reqmethod: 'GET', respcode: '200', ua: 'Mozilla/5.0', ereferer: 'None' } });
}

function lines(gen: (rng: Rng, t: number) => string, header?: string): string[] {
  const rng = mulberry32(42);
  const out: string[] = header ? [header] : [];
  let t = 1_700_000_000;
  for (let i = 0; i < N; i++) {
    t += rng() * 0.05;
    out.push(gen(rng, t));
  }
  // as a file source delivers them: slices of one flat text (not freshly concatenated strings)
  return out.join('\n').split('\n');
}

const ctx = quietContext('parse');

function toBatches(ls: string[], file: string): Rec[][] {
  const batches: Rec[][] = [];
  for (let i = 0; i < ls.length; i += BATCH) {
    const b: Rec[] = [];
    for (let k = i; k < Math.min(i + BATCH, ls.length); k++) b.push({ message: ls[k]!, origin: { file, line: k + 1 } });
    batches.push(b);
  }
  return batches;
}

function runSluice(format: ProxyLogConfig['format'], batches: Rec[][]): { secs: number; out: number; invalid: number } {
  const p = proxyLog.create({ format, keep_original: false }, ctx) as ProxyLogParser;
  let out = 0;
  let invalid = 0;
  const t0 = process.hrtime.bigint();
  for (const b of batches) {
    const r = p.process(b);
    out += r.out.length;
    invalid += r.invalid.length;
  }
  return { secs: Number(process.hrtime.bigint() - t0) / 1e9, out, invalid };
}

// The naive reference: what a quick script does.
const SQUID_RE = /^(\d+\.\d+)\s+(\d+)\s+(\S+)\s+(\S+)\/(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\/(\S+)\s+(\S+)/;

function naiveRecord(line: string, file: string, n: number): Rec | undefined {
  const m = SQUID_RE.exec(line);
  if (!m) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(m[7] === 'CONNECT' ? `https://${m[8]}` : m[8]!);
  } catch {
    url = undefined;
  }
  return {
    '@timestamp': new Date(Number(m[1]) * 1000).toISOString(),
    event: { dataset: 'squid.access', duration: Number(m[2]) * 1e6, action: m[4] },
    source: { ip: m[3] },
    http: { request: { method: m[7] }, response: { status_code: Number(m[5]), bytes: Number(m[6]), mime_type: m[12] } },
    url: url ? { original: m[8], scheme: url.protocol.slice(0, -1), domain: url.hostname, port: url.port ? Number(url.port) : undefined, path: url.pathname, query: url.search.slice(1) } : { original: m[8] },
    user: m[9] === '-' ? undefined : { name: m[9] },
    squid: { hierarchy: m[10], peer: m[11] },
    origin: { file, line: n },
  };
}

function runNaive(ls: string[]): { secs: number; out: number } {
  let out = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ls.length; i++) if (naiveRecord(ls[i]!, 'bench.log', i + 1)) out++;
  return { secs: Number(process.hrtime.bigint() - t0) / 1e9, out };
}

async function runNaiveReadline(path: string): Promise<{ secs: number; out: number }> {
  let out = 0;
  let n = 0;
  const t0 = process.hrtime.bigint();
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) if (naiveRecord(line, path, ++n)) out++;
  return { secs: Number(process.hrtime.bigint() - t0) / 1e9, out };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

type Format = 'squid' | 'combined' | 'elff' | 'zscaler-nss';
const FORMATS: Format[] = ['squid', 'combined', 'elff', 'zscaler-nss'];

/** Measure one format in this process; prints `key<TAB>seconds` lines for the parent. */
async function measureOne(f: Format): Promise<void> {
  const gens: Record<Format, string[]> = {
    squid: f === 'squid' ? lines(squidLine) : [],
    combined: f === 'combined' ? lines(combinedLine) : [],
    elff: f === 'elff' ? lines(elffLine, ELFF_HEADER) : [],
    'zscaler-nss': f === 'zscaler-nss' ? lines(zscalerLine) : [],
  };
  const batches = toBatches(gens[f], `${f}.log`);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-parse-micro-'));
  const squidFile = join(dir, 'squid.log');
  if (f === 'squid') writeFileSync(squidFile, gens.squid.join('\n') + '\n');
  const best: Record<string, number> = {};
  const keep = (k: string, secs: number) => { best[k] = Math.min(best[k] ?? Infinity, secs); };
  for (let r = 0; r < ROUNDS; r++) {
    const res = runSluice(f, batches);
    if (res.out !== N) throw new Error(`${f}: expected ${N} records, got ${res.out} (+${res.invalid} invalid)`);
    keep(`sluice ${f}`, res.secs);
    if (f === 'squid') {
      const nv = runNaive(gens.squid);
      if (nv.out !== N) throw new Error(`naive: expected ${N} records, got ${nv.out}`);
      keep('naive squid (pre-split)', nv.secs);
      keep('naive squid (readline)', (await runNaiveReadline(squidFile)).secs);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  for (const [k, secs] of Object.entries(best)) console.log(`${k}\t${secs}`);
}

async function main(): Promise<void> {
  if (ONLY) return measureOne(ONLY as Format);
  const best: Record<string, number> = {};
  for (const f of FORMATS) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), String(N), String(ROUNDS), f], { encoding: 'utf8' });
    for (const line of out.trim().split('\n')) {
      const [k, secs] = line.split('\t');
      best[k!] = Number(secs);
    }
  }
  console.log(`proxy-log micro-benchmark: ${fmt(N)} lines per format, one process per format, best of ${ROUNDS} rounds, node ${process.version}`);
  for (const [k, secs] of Object.entries(best)) console.log(`  ${k.padEnd(28)} ${fmt(N / secs).padStart(12)} lines/s`);
  const naive = best['naive squid (pre-split)']!;
  const naiveRl = best['naive squid (readline)']!;
  for (const f of FORMATS) {
    const s = best[`sluice ${f}`]!;
    console.log(`  ratio sluice ${f.padEnd(11)} (validated) / naive squid: pre-split ${(naive / s).toFixed(2)}x, vs readline ${(naiveRl / s).toFixed(2)}x`);
  }
}

await main();
