/**
 * Run one measured child process: wall time, peak RSS and CPU time (reported by the preload at exit,
 * with /proc VmHWM polling as a fallback), and the time until a watched output file first has bytes
 * (time to first detection when the file is the alerts sink).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST_BENCH } from './paths.js';
import { vmHwmBytes } from './vm-hwm.js';

export interface Measured {
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  wallMs: number;
  /** Peak resident set size, bytes. */
  peakRss: number;
  /** User + system CPU time, ms (above wall time when several threads worked). */
  cpuMs: number;
  /** Milliseconds from spawn until `watch` first had bytes; undefined if it never did. */
  firstOutputMs?: number;
  stdout: string;
  stderrTail: string;
}

export interface MeasureOptions {
  /** Arguments after `node` (script and its args); node flags may come first. */
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** A file whose first bytes mark "first detection". */
  watch?: string;
  /** Where the child's stderr goes (kept for post-mortems). */
  stderrFile: string;
  timeoutMs?: number;
}

export async function measure(opts: MeasureOptions): Promise<Measured> {
  const usageFile = `${opts.stderrFile}.usage.json`;
  rmSync(usageFile, { force: true });
  mkdirSync(join(opts.stderrFile, '..'), { recursive: true });
  const errFd = openSync(opts.stderrFile, 'w');
  const preload = pathToFileURL(join(DIST_BENCH, 'lib', 'rss-preload.js')).href;
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', preload, ...opts.args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env, SLUICE_BENCH_USAGE_OUT: usageFile },
    stdio: ['ignore', 'pipe', errFd],
  });
  let stdout = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    if (stdout.length < 1 << 20) stdout += d;
  });
  let firstOutputMs: number | undefined;
  let hwm = 0;
  const poll = setInterval(() => {
    if (child.pid) hwm = Math.max(hwm, vmHwmBytes(child.pid));
    if (opts.watch && firstOutputMs === undefined) {
      try {
        if (statSync(opts.watch).size > 0) firstOutputMs = performance.now() - t0;
      } catch {
        /* not yet */
      }
    }
  }, 20);
  const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
  const [exitCode, signal] = await new Promise<[number | null, string | null]>((res) => child.on('close', (c, s) => res([c, s])));
  const wallMs = performance.now() - t0;
  clearInterval(poll);
  if (timer) clearTimeout(timer);
  closeSync(errFd);
  if (opts.watch && firstOutputMs === undefined && existsSync(opts.watch) && statSync(opts.watch).size > 0) firstOutputMs = wallMs;
  // the child's own figure at its exit; the polled one only where it left none (killed, crashed): a
  // poll may land between fork and exec and read the bench's own size
  let peakRss = hwm;
  let cpuMs = NaN;
  if (existsSync(usageFile)) {
    const u = JSON.parse(readFileSync(usageFile, 'utf8')) as { maxRssKiB: number; userUs: number; systemUs: number };
    peakRss = u.maxRssKiB * 1024;
    cpuMs = (u.userUs + u.systemUs) / 1000;
  }
  let stderrTail = '';
  try {
    const e = readFileSync(opts.stderrFile, 'utf8');
    stderrTail = e.slice(-4000);
  } catch {
    /* none */
  }
  return { ok: exitCode === 0, exitCode, signal, wallMs, peakRss, cpuMs, firstOutputMs, stdout, stderrTail };
}

/** Lines in a file (0 when missing), counted in chunks. */
export function countLines(path: string): number {
  if (!existsSync(path)) return 0;
  const buf = readFileSync(path);
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  if (buf.length && buf[buf.length - 1] !== 10) n++;
  return n;
}
