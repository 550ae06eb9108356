/**
 * Generated data on disk: files named by their parameters under `bench/data/`, written to a temporary
 * name and renamed when complete, with a `.meta.json` beside each; reused when already there.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR } from '../lib/paths.js';
import { feedLines, HIT_POOL_SIZE } from './feed.js';
import { logLines, emptyStats, type LogFormat, type LogStats } from './logs.js';

/** Bump when the generator's output changes, so stale files are not reused. */
export const GENERATOR_VERSION = 1;

export interface LogFile {
  path: string;
  bytes: number;
  format: LogFormat;
  seed: number;
  stats: LogStats;
}
export interface FeedFile {
  path: string;
  bytes: number;
  seed: number;
  indicators: number;
  hitPool: number;
}

const EXT: Record<LogFormat, string> = { squid: 'log', combined: 'log', elff: 'log', 'zscaler-nss': 'jsonl' };

/** Write lines to `path` atomically, in large chunks. */
export function writeLines(path: string, lines: Iterable<string>): number {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  let bytes = 0;
  try {
    let chunk: string[] = [];
    let size = 0;
    for (const line of lines) {
      chunk.push(line);
      size += line.length + 1;
      if (size >= 1 << 22) {
        const s = chunk.join('\n') + '\n';
        bytes += writeSync(fd, s);
        chunk = [];
        size = 0;
      }
    }
    if (chunk.length) bytes += writeSync(fd, chunk.join('\n') + '\n');
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return bytes;
}

function reuse<T>(path: string, metaPath: string): T | undefined {
  if (!existsSync(path) || !existsSync(metaPath)) return undefined;
  try {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as T & { bytes: number; generator: number };
    if (meta.generator !== GENERATOR_VERSION || statSync(path).size !== meta.bytes) return undefined;
    return meta;
  } catch {
    return undefined;
  }
}

export function logFileName(format: LogFormat, seed: number, lines: number): string {
  return `logs-${format}-s${seed}-n${lines}-g${GENERATOR_VERSION}.${EXT[format]}`;
}

export function feedFileName(seed: number, indicators: number): string {
  return `feed-s${seed}-m${indicators}-g${GENERATOR_VERSION}.txt`;
}

export function ensureLog(format: LogFormat, seed: number, lines: number, dir = DATA_DIR): LogFile {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, logFileName(format, seed, lines));
  const metaPath = `${path}.meta.json`;
  const old = reuse<Omit<LogFile, 'path'>>(path, metaPath);
  if (old) return { ...old, path };
  const stats = emptyStats();
  const bytes = writeLines(path, logLines({ seed, lines, format }, stats));
  const meta = { generator: GENERATOR_VERSION, bytes, format, seed, stats };
  writeFileSync(metaPath, JSON.stringify(meta, null, 2) + '\n');
  return { path, bytes, format, seed, stats };
}

export function ensureFeed(seed: number, indicators: number, dir = DATA_DIR): FeedFile {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, feedFileName(seed, indicators));
  const metaPath = `${path}.meta.json`;
  const old = reuse<Omit<FeedFile, 'path'>>(path, metaPath);
  if (old) return { ...old, path };
  const bytes = writeLines(path, feedLines({ seed, indicators }));
  const meta = { generator: GENERATOR_VERSION, bytes, seed, indicators, hitPool: HIT_POOL_SIZE };
  writeFileSync(metaPath, JSON.stringify(meta, null, 2) + '\n');
  return { path, bytes, seed, indicators, hitPool: HIT_POOL_SIZE };
}
