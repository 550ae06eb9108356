/** A progress bar on a terminal for finite inputs: bytes read of the sources' known total. */
import { SingleBar, Presets } from 'cli-progress';
import type { CompiledSpec } from '../graph/build.js';
import type { NodeStats } from '../runtime/summary.js';
import { groupDigits } from '../util/digits.js';

export function createProgress(spec: CompiledSpec): { update(stats: Map<string, NodeStats>): void; stop(): void } {
  const bar = new SingleBar(
    { format: '{bar} {percentage}% | {records} records | {rate} rec/s', hideCursor: true, clearOnComplete: true, stream: process.stderr },
    Presets.shades_classic,
  );
  const started = Date.now();
  let running = false;
  const sources = [...spec.nodes.values()].filter((n) => n.kind === 'source').map((n) => n.name);
  return {
    update(stats) {
      let total = 0;
      let read = 0;
      let records = 0;
      for (const s of sources) {
        const st = stats.get(s)!;
        total += st.metrics.bytes_total ?? 0;
        read += st.metrics.bytes_read ?? 0;
        for (const v of Object.values(st.out)) records += v;
      }
      const secs = Math.max(0.001, (Date.now() - started) / 1000);
      const payload = { records: groupDigits(records), rate: groupDigits(Math.round(records / secs)) };
      if (!running) {
        bar.start(Math.max(total, 1), Math.min(read, total), payload);
        running = true;
      } else {
        bar.setTotal(Math.max(total, 1));
        bar.update(Math.min(read, Math.max(total, 1)), payload);
      }
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
