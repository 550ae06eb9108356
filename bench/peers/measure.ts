/**
 * Measure a command that is not a Node script — a JVM launched by Python, a Go binary — over its
 * whole process tree: wall time; CPU time of every process in the tree; peak RSS of the tree (the
 * highest sum of the members' resident sets at one moment, or the highest single member's VmHWM
 * when that is larger); and the time until the watched output (a file, or any non-empty `part-*`
 * file under a directory, as Spark writes) first has bytes.
 *
 * CPU: the command runs under `sh -c '"$@"; times'`, whose children line is the user+system time of
 * every descendant that was waited for; a poller also reads /proc/<pid>/stat of every member (found
 * by process group: the command is spawned as a group leader) every 100 ms and keeps each one's last
 * utime+stime, which also counts a member nobody waited for. The larger of the two is reported.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Measured } from '../lib/measure.js';
import { vmHwmBytes } from '../lib/vm-hwm.js';

export interface TreeOptions {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** A file, or a directory of `part-*` files, whose first bytes mark "first detection". */
  watch?: string;
  stderrFile: string;
  timeoutMs?: number;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux
const PAGE = 4096;

interface Stat {
  pgrp: number;
  cpuTicks: number;
  rssBytes: number;
}

function readStat(pid: string): Stat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may hold spaces and parentheses: fields start after the last ')'
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): pgrp is field 5, utime 14, stime 15, rss 24
    return { pgrp: Number(f[2]), cpuTicks: Number(f[11]) + Number(f[12]), rssBytes: Number(f[21]) * PAGE };
  } catch {
    return undefined;
  }
}

/** True once `watch` (a file, or a directory holding a non-empty `part-*` file) has bytes. */
export function hasOutput(watch: string): boolean {
  try {
    const st = statSync(watch);
    if (st.isFile()) return st.size > 0;
    if (!st.isDirectory()) return false;
    for (const name of readdirSync(watch)) {
      if (name.startsWith('part-') && statSync(join(watch, name)).size > 0) return true;
    }
  } catch {
    /* not yet */
  }
  return false;
}

/** `0m1.234000s 0m0.056000s` (dash) or `0m1.234s 0m0.056s` (bash): seconds, summed. */
function parseTimes(text: string): number | undefined {
  const lines = text.trim().split('\n');
  const children = lines[1];
  if (!children) return undefined;
  let ms = 0;
  for (const m of children.matchAll(/(\d+)m([\d.]+)s/g)) ms += (Number(m[1]) * 60 + Number(m[2])) * 1000;
  return ms;
}

export async function measureTree(opts: TreeOptions): Promise<Measured> {
  mkdirSync(dirname(opts.stderrFile), { recursive: true });
  const timesFile = `${opts.stderrFile}.times`;
  rmSync(timesFile, { force: true });
  const errFd = openSync(opts.stderrFile, 'w');
  const t0 = performance.now();
  const child = spawn('/bin/sh', ['-c', '"$@"; rc=$?; times > "$SLUICE_TIMES_OUT"; exit $rc', 'sh', opts.command, ...opts.args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env, SLUICE_TIMES_OUT: timesFile },
    stdio: ['ignore', 'pipe', errFd],
    detached: true, // its own process group, which every descendant inherits
  });
  const pgid = child.pid!;
  let stdout = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    if (stdout.length < 1 << 20) stdout += d;
  });
  let firstOutputMs: number | undefined;
  const cpuByPid = new Map<string, number>();
  let peakSum = 0;
  let peakHwm = 0;
  const sample = () => {
    let sum = 0;
    for (const pid of readdirSync('/proc')) {
      if (pid.charCodeAt(0) < 48 || pid.charCodeAt(0) > 57) continue;
      const st = readStat(pid);
      if (!st || st.pgrp !== pgid) continue;
      cpuByPid.set(pid, Math.max(cpuByPid.get(pid) ?? 0, st.cpuTicks));
      sum += st.rssBytes;
      peakHwm = Math.max(peakHwm, vmHwmBytes(pid));
    }
    peakSum = Math.max(peakSum, sum);
  };
  const poll = setInterval(sample, 100);
  const watch = opts.watch;
  const watcher = watch
    ? setInterval(() => {
        if (firstOutputMs === undefined && hasOutput(watch)) firstOutputMs = performance.now() - t0;
      }, 20)
    : undefined;
  const timer = opts.timeoutMs
    ? setTimeout(() => {
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, opts.timeoutMs)
    : undefined;
  const [exitCode, signal] = await new Promise<[number | null, string | null]>((res) => child.on('close', (c, s) => res([c, s])));
  const wallMs = performance.now() - t0;
  clearInterval(poll);
  if (watcher) clearInterval(watcher);
  if (timer) clearTimeout(timer);
  closeSync(errFd);
  // whatever the group left behind (a daemon nobody stopped) is ended now
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    /* none left */
  }
  if (watch && firstOutputMs === undefined && hasOutput(watch)) firstOutputMs = wallMs;
  let polledCpu = 0;
  for (const t of cpuByPid.values()) polledCpu += t * TICK_MS;
  const waited = existsSync(timesFile) ? parseTimes(readFileSync(timesFile, 'utf8')) : undefined;
  const cpuMs = Math.max(polledCpu, waited ?? 0);
  let stderrTail = '';
  try {
    stderrTail = readFileSync(opts.stderrFile, 'utf8').slice(-4000);
  } catch {
    /* none */
  }
  return { ok: exitCode === 0, exitCode, signal, wallMs, peakRss: Math.max(peakSum, peakHwm), cpuMs, firstOutputMs, stdout, stderrTail };
}
