/**
 * Loaded into every measured child with `node --import`: at exit it writes the process's peak RSS and
 * CPU time to the file named by SLUICE_BENCH_USAGE_OUT. Nothing else; it costs nothing while running.
 *
 * The peak is the process's own `VmHWM` where Linux gives it: `getrusage`'s `ru_maxrss` (Node's
 * `resourceUsage().maxRSS`) keeps, across the `exec` that starts the child, the high-water mark of the
 * process it was forked from — the bench itself — so a small run read as the bench's own size
 * (bench/RESULTS.md, session 20).
 */
import { writeFileSync } from 'node:fs';
import { vmHwmBytes } from './vm-hwm.js';

const out = process.env.SLUICE_BENCH_USAGE_OUT;
if (out) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    const hwm = vmHwmBytes('self');
    try {
      writeFileSync(out, JSON.stringify({ maxRssKiB: hwm > 0 ? hwm / 1024 : u.maxRSS, userUs: u.userCPUTime, systemUs: u.systemCPUTime }));
    } catch {
      /* measuring must never change the exit */
    }
  });
}
