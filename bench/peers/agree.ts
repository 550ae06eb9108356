/**
 * Did a peer raise the same alerts and the same rejects as sluice, on the same log?
 *
 * An alert is identified by the log line it was raised for and the set of indicators it names; a
 * reject by its line. sluice's outputs name the line by number (`origin.line`), which is looked up
 * in the log; the peers carry the line itself (`event.original`). Indicator values are compared in
 * sluice's canonical form (addresses and networks canonical, `/32` and `/128` written as the
 * address, domains lower-case, URLs by sluice's own normaliser), so a peer may report the feed's
 * text for an indicator sluice writes canonically. Lines are compared as multisets: a log line
 * repeated twice must alert twice.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ipv4ToString, ipv6ToString, parseIPv4, parseIPv6 } from '../../src/api.js';
import { normaliseUrl } from '../../plugins/analyse/ioc-sweep/normalise.js';

export interface Side {
  alerts: number;
  rejects: number;
}

export interface Agreement {
  ok: boolean;
  sluice: Side;
  peer: Side;
  /** Alerts (line ⇥ indicators) sluice raised and the peer did not, and the other way round. */
  missingAlerts: number;
  extraAlerts: number;
  missingRejects: number;
  extraRejects: number;
  examples: string[];
}

/** The JSON lines of a file, or of every `part-*` file of a directory (Spark's output). */
export function readJsonLines(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => f.startsWith('part-'))
        .sort()
        .map((f) => join(path, f))
    : [path];
  const out: Record<string, unknown>[] = [];
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) if (line.trim()) out.push(JSON.parse(line) as Record<string, unknown>);
  }
  return out;
}

/** Lines `numbers` (1-based) of a file, read as bytes (the log may be larger than a string may be). */
function linesAt(path: string, numbers: Set<number>): Map<number, string> {
  const out = new Map<number, string>();
  if (numbers.size === 0) return out;
  const buf = readFileSync(path);
  let n = 1;
  let start = 0;
  const max = Math.max(...numbers);
  while (start <= buf.length && n <= max) {
    let end = buf.indexOf(10, start);
    if (end === -1) end = buf.length;
    if (numbers.has(n)) out.set(n, buf.toString('utf8', start, end > start && buf[end - 1] === 13 ? end - 1 : end));
    start = end + 1;
    n++;
  }
  return out;
}

function canonIp(text: string): string {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const len = slash < 0 ? -1 : Number(text.slice(slash + 1));
  const v4 = parseIPv4(addr);
  if (v4 >= 0) return len < 0 || len === 32 ? ipv4ToString(v4) : `${ipv4ToString(v4)}/${len}`;
  const v6 = parseIPv6(addr.toLowerCase());
  if (v6 === null) return text.toLowerCase();
  return len < 0 || len === 128 ? ipv6ToString(v6) : `${ipv6ToString(v6)}/${len}`;
}

/** `type value` of an enrichment, in sluice's canonical form. */
export function indicatorKey(e: unknown): string {
  const ind = (e as { indicator?: { type?: string; value?: string } }).indicator ?? {};
  const type = String(ind.type ?? '');
  const value = String(ind.value ?? '');
  if (type === 'ipv4-addr' || type === 'ipv6-addr') return `ip ${canonIp(value)}`;
  if (type === 'url') return `url ${normaliseUrl(value)?.key ?? value}`;
  return `domain ${value.toLowerCase().replace(/\.+$/, '')}`;
}

function enrichments(a: Record<string, unknown>): unknown[] {
  const t = a.threat as { enrichments?: unknown[] } | undefined;
  return Array.isArray(t?.enrichments) ? t!.enrichments : [];
}

function alertKey(line: string, a: Record<string, unknown>): string {
  return `${line}\t${[...new Set(enrichments(a).map(indicatorKey))].sort().join(' | ')}`;
}

const original = (r: Record<string, unknown>) => String((r.event as { original?: unknown } | undefined)?.original ?? '');
const originLine = (r: Record<string, unknown>) => Number((r.origin as { line?: unknown } | undefined)?.line ?? NaN);

export function count(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

/** Keys in `a` more often than in `b`, each as many times as it is missing. */
export function minus(a: Map<string, number>, b: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [k, n] of a) for (let i = b.get(k) ?? 0; i < n; i++) out.push(k);
  return out;
}

export function agree(log: string, sluice: { alerts: string; rejects: string }, peer: { alerts: string; rejects: string }): Agreement {
  const sAlerts = readJsonLines(sluice.alerts);
  const sRejects = readJsonLines(sluice.rejects);
  const pAlerts = readJsonLines(peer.alerts);
  const pRejects = readJsonLines(peer.rejects);
  const want = new Set<number>();
  for (const r of [...sAlerts, ...sRejects]) if (Number.isFinite(originLine(r))) want.add(originLine(r));
  const text = linesAt(log, want);
  const lineOf = (r: Record<string, unknown>) => text.get(originLine(r)) ?? original(r);
  const sa = count(sAlerts.map((a) => alertKey(lineOf(a), a)));
  const pa = count(pAlerts.map((a) => alertKey(original(a), a)));
  const sr = count(sRejects.map(lineOf));
  const pr = count(pRejects.map(original));
  const missA = minus(sa, pa);
  const extraA = minus(pa, sa);
  const missR = minus(sr, pr);
  const extraR = minus(pr, sr);
  const clip = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…` : s);
  const examples = [
    ...missA.slice(0, 3).map((k) => `alert only in sluice: ${clip(k)}`),
    ...extraA.slice(0, 3).map((k) => `alert only in the peer: ${clip(k)}`),
    ...missR.slice(0, 2).map((k) => `reject only in sluice: ${clip(k)}`),
    ...extraR.slice(0, 2).map((k) => `reject only in the peer: ${clip(k)}`),
  ];
  return {
    ok: missA.length + extraA.length + missR.length + extraR.length === 0,
    sluice: { alerts: sAlerts.length, rejects: sRejects.length },
    peer: { alerts: pAlerts.length, rejects: pRejects.length },
    missingAlerts: missA.length,
    extraAlerts: extraA.length,
    missingRejects: missR.length,
    extraRejects: extraR.length,
    examples,
  };
}

// `node dist/bench/peers/agree.js LOG SLUICE_ALERTS SLUICE_REJECTS PEER_ALERTS PEER_REJECTS`
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/dist\//, 'dist/'))) {
  const [log, sa, sr, pa, pr] = process.argv.slice(2);
  if (!pr) {
    console.error('usage: agree LOG SLUICE_ALERTS SLUICE_REJECTS PEER_ALERTS PEER_REJECTS');
    process.exit(2);
  }
  const r = agree(log!, { alerts: sa!, rejects: sr! }, { alerts: pa!, rejects: pr! });
  console.log(JSON.stringify(r, null, 2));
  process.exitCode = r.ok ? 0 : 1;
}
