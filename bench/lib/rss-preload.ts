/**
 * Loaded into every measured child with `node --import`: at exit it writes the process's peak RSS and
 * CPU time to the file named by SLUICE_BENCH_USAGE_OUT. Nothing else; it costs nothing while running.
 *
 * The peak is the process's own `VmHWM` where Linux gives it: `getrusage`'s `ru_maxrss` (Node's
 * `resourceUsage().maxRSS`) keeps, across the `exec` that starts the child, the high-water mark of the
 * process it was forked from — the bench itself — so a small run read as the bench's own size
 * (bench/RESULTS.md, session 20).
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** This process's peak resident set in KiB: `VmHWM` from /proc, else `ru_maxrss` (not Linux). */
function peakRssKiB(): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    /* no /proc */
  }
  return process.resourceUsage().maxRSS;
}

const out = process.env.SLUICE_BENCH_USAGE_OUT;
if (out) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    try {
      writeFileSync(out, JSON.stringify({ maxRssKiB: peakRssKiB(), userUs: u.userCPUTime, systemUs: u.systemCPUTime }));
    } catch {
      /* measuring must never change the exit */
    }
  });
}
