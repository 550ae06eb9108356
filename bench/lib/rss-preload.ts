/**
 * Loaded into every measured child with `node --import`: at exit it writes the process's peak RSS and
 * CPU time to the file named by SLUICE_BENCH_USAGE_OUT. Nothing else; it costs nothing while running.
 */
import { writeFileSync } from 'node:fs';

const out = process.env.SLUICE_BENCH_USAGE_OUT;
if (out) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    try {
      writeFileSync(out, JSON.stringify({ maxRssKiB: u.maxRSS, userUs: u.userCPUTime, systemUs: u.systemCPUTime }));
    } catch {
      /* measuring must never change the exit */
    }
  });
}
