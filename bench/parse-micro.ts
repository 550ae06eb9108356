/**
 * Micro-benchmark of the proxy-log parsers, in-process, on one core:
 *   node dist/bench/parse-micro.js [lines=200000] [rounds=5]
 * Each format's lines come from the benchmark's own traffic generator (bench/generate: the same
 * seeded event stream the other scenarios use — 2,000 clients, Zipf-popular sites, no broken lines),
 * cut into blocks of 1000 lines as the file source cuts them and turned into `{message, origin}`
 * records by the runtime's `linesToRecords` (as a worker thread or a processor node does), then
 * parsed by the proxy-log transform (schema validation included) in the runtime's chunks. For squid, a
 * naive reference — one regex per line + `new URL` + building the same ECS record, no validation — is
 * measured in the same run: on the same lines already split (no I/O on either side), and reading the
 * file with `readline` as such a script would; beside the latter, sluice reading the same file as its
 * file source does (1 MiB reads, lines cut into blocks, each block's records made and parsed chunk by
 * chunk as the runtime does, `chunksOf`). Rounds are interleaved; the best round counts. Prints
 * lines/s and the ratios sluice/naive, and the file-reading ratio of each of the three passes (a naive
 * child and a sluice child run back to back) with their median.
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
import proxyLog, { type ProxyLogParser } from '../plugins/transform/proxy-log/index.js';
import type { ProxyLogConfig } from '../plugins/transform/proxy-log/index.js';
import type { Rec } from '../src/api.js';
import { emptyStats, logLines, type LogFormat } from './generate/logs.js';
import { linesToRecords, type LineBlock } from '../src/record.js';
import { CHUNK, chunksOf } from '../src/runtime/chunks.js';
import { naiveSquidRecord } from './reference/naive-squid.js';
import { quietContext } from './lib/context.js';
import { lineBlocks } from './lib/line-blocks.js';

const N = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const ONLY = process.argv[4];
/** Alternations of the squid parser and its references. */
const PASSES = 3;

type Format = LogFormat;
const FORMATS: readonly Format[] = ['squid', 'combined', 'elff', 'zscaler-nss'];
const BLOCK = 1000;

/** The generator's lines of one format (no broken ones: every line parses), ELFF directives included. */
function lines(format: Format): string[] {
  const stats = emptyStats();
  return [...logLines({ seed: 42, lines: N, format, brokenRate: 0 }, stats)];
}

/** Blocks of `BLOCK` lines as the file source makes them: whole lines and their bytes. */
function toBlocks(ls: string[], file: string): LineBlock[] {
  const blocks: LineBlock[] = [];
  for (let i = 0; i < ls.length; i += BLOCK) {
    const part = ls.slice(i, i + BLOCK);
    blocks.push({ kind: 'lines', file, firstLine: i + 1, bytes: new Uint8Array(Buffer.from(part.join('\n') + '\n')), records: part.length });
  }
  return blocks;
}

const ctx = quietContext('parse');

function parseAll(p: ProxyLogParser, batches: Rec[][]): { out: number; invalid: number } {
  let out = 0;
  let invalid = 0;
  for (const b of batches) {
    for (let i = 0; i < b.length; i += CHUNK) {
      const r = p.process(b.length <= CHUNK ? b : b.slice(i, i + CHUNK));
      out += r.out.length;
      invalid += r.invalid.length;
    }
  }
  return { out, invalid };
}

/** Parse records already made from the lines (no I/O, no decoding): the parser alone. */
function runSluice(format: ProxyLogConfig['format'], batches: Rec[][]): { secs: number; out: number; invalid: number } {
  const p = proxyLog.create({ format, keep_original: false }, ctx) as ProxyLogParser;
  const t0 = process.hrtime.bigint();
  const r = parseAll(p, batches);
  return { secs: Number(process.hrtime.bigint() - t0) / 1e9, ...r };
}

/** Read the file as the file source does (1 MiB reads, whole lines cut into blocks), make the records, parse. */
async function runSluiceFile(path: string): Promise<{ secs: number; out: number }> {
  const p = proxyLog.create({ format: 'squid', keep_original: false }, ctx) as ProxyLogParser;
  let out = 0;
  const t0 = process.hrtime.bigint();
  for await (const block of lineBlocks(path, BLOCK)) {
    // as a processor node gets it: the block cut into chunks, each chunk's records made as it is reached
    for (const recs of chunksOf(block)) out += p.process(recs).out.length;
  }
  return { secs: Number(process.hrtime.bigint() - t0) / 1e9, out };
}

function runNaive(ls: string[]): { secs: number; out: number } {
  let out = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ls.length; i++) if (naiveSquidRecord(ls[i]!, 'bench.log', i + 1)) out++;
  return { secs: Number(process.hrtime.bigint() - t0) / 1e9, out };
}

async function runNaiveReadline(path: string): Promise<{ secs: number; out: number }> {
  let out = 0;
  let n = 0;
  const t0 = process.hrtime.bigint();
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) if (naiveSquidRecord(line, path, ++n)) out++;
  return { secs: Number(process.hrtime.bigint() - t0) / 1e9, out };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

type Kind = Format | 'naive' | 'squid-file';

/** Measure one kind in this process; prints `key<TAB>seconds` lines for the parent. */
async function measureOne(kind: Kind): Promise<void> {
  const f: Format = kind === 'naive' || kind === 'squid-file' ? 'squid' : kind;
  const ls = lines(f);
  const best: Record<string, number> = {};
  const keep = (k: string, secs: number) => {
    best[k] = Math.min(best[k] ?? Infinity, secs);
  };
  const dir = mkdtempSync(join(tmpdir(), 'sluice-parse-micro-'));
  const squidFile = join(dir, 'squid.log');
  if (kind !== f || kind === 'squid') writeFileSync(squidFile, ls.join('\n') + '\n');
  if (kind === 'naive') {
    // the same strings the file source would give (flat, one per line)
    const messages = toBlocks(ls, 'squid.log').flatMap((b) => linesToRecords(b).map((r) => r.message as string));
    for (let r = 0; r < ROUNDS; r++) {
      const nv = runNaive(messages);
      if (nv.out !== N) throw new Error(`naive: expected ${N} records, got ${nv.out}`);
      keep('naive squid (pre-split)', nv.secs);
      keep('naive squid (readline)', (await runNaiveReadline(squidFile)).secs);
    }
  } else if (kind === 'squid-file') {
    for (let r = 0; r < ROUNDS; r++) {
      const file = await runSluiceFile(squidFile);
      if (file.out !== N) throw new Error(`sluice from the file: expected ${N} records, got ${file.out}`);
      keep('sluice squid (from the file)', file.secs);
    }
  } else {
    const batches = toBlocks(ls, `${f}.log`).map(linesToRecords);
    const data = batches.reduce((n, b) => n + b.filter((r) => !(r.message as string).startsWith('#')).length, 0);
    for (let r = 0; r < ROUNDS; r++) {
      const res = runSluice(f, batches);
      if (res.out !== data) throw new Error(`${f}: expected ${data} records, got ${res.out} (+${res.invalid} invalid)`);
      keep(`sluice ${f}`, res.secs);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  for (const [k, secs] of Object.entries(best)) console.log(`${k}\t${secs}`);
}

async function main(): Promise<void> {
  if (ONLY) return measureOne(ONLY as Kind);
  const best: Record<string, number> = {};
  const child = (kind: Kind): Record<string, number> => {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), String(N), String(ROUNDS), kind], { encoding: 'utf8' });
    const got: Record<string, number> = {};
    for (const line of out.trim().split('\n')) {
      const [k, secs] = line.split('\t');
      got[k!] = Number(secs);
      best[k!] = Math.min(best[k!] ?? Infinity, Number(secs));
    }
    return got;
  };
  // the squid parser and its references, alternating, so that a slow minute falls on all three; each
  // pass also gives the file-reading ratio of two children run back to back
  const passRatios: number[] = [];
  for (let r = 0; r < PASSES; r++) {
    child('squid');
    const nv = child('naive')['naive squid (readline)']!;
    passRatios.push(nv / child('squid-file')['sluice squid (from the file)']!);
  }
  for (const f of FORMATS) if (f !== 'squid') child(f);
  console.log(
    `proxy-log micro-benchmark: ${fmt(N)} lines per format (the generator's traffic), one process per measurement, best of ${ROUNDS} rounds, node ${process.version}`,
  );
  for (const [k, secs] of Object.entries(best))
    console.log(`  ${k.padEnd(30)} ${fmt(N / secs).padStart(12)} lines/s  ${fmt((secs / N) * 1e9).padStart(6)} ns/line`);
  const naive = best['naive squid (pre-split)']!;
  const naiveRl = best['naive squid (readline)']!;
  for (const f of FORMATS) {
    const s = best[`sluice ${f}`]!;
    console.log(`  ratio sluice ${f.padEnd(11)} (validated) / naive squid, both on split lines: ${(naive / s).toFixed(2)}x`);
  }
  console.log(`  ratio sluice squid reading the file / naive squid reading it with readline: ${(naiveRl / best['sluice squid (from the file)']!).toFixed(2)}x`);
  const sorted = [...passRatios].sort((a, b) => a - b);
  console.log(
    `  the same ratio per pass (each two children back to back): ${passRatios.map((x) => `${x.toFixed(2)}x`).join(', ')}; median ${sorted[sorted.length >> 1]!.toFixed(2)}x`,
  );
}

await main();
