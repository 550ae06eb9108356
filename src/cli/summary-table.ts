/** The end-of-run summary as a table. */
import type TableClass from 'cli-table3';
import type { RunSummary } from '../runtime/summary.js';
import { groupDigits as fmt } from '../util/digits.js';
import { requirePackage } from '../util/require-package.js';

const Table = requirePackage('cli-table3') as typeof TableClass;

export function renderSummary(s: RunSummary): string {
  const t = new Table({ head: ['node', 'kind / plugin', 'in', 'out (per port)', 'notes'], style: { head: [], border: [] } });
  for (const n of s.nodes) {
    const ports = Object.entries(n.out)
      .map(([p, v]) => `${p}: ${fmt(v)}`)
      .join('\n');
    const notes = Object.entries(n.metrics)
      .filter(([k]) => !k.startsWith('bytes_'))
      .map(([k, v]) => `${k}: ${fmt(v)}`)
      .join('\n');
    t.push([n.node, `${n.kind} ${n.plugin}`, n.kind === 'source' ? '' : fmt(n.in), ports, notes]);
  }
  const secs = s.elapsedMs / 1000;
  const sinks = s.nodes.filter((n) => n.kind === 'sink');
  const w = Math.max(0, ...sinks.map((n) => n.node.length));
  const lines = [
    `pipeline ${s.pipeline}${s.stoppedBySignal ? ' (stopped by signal, drained)' : ''}`,
    t.toString(),
    'written:',
    ...sinks.map((n) => `  ${n.node.padEnd(w)}  ${fmt(n.in).padStart(9)} records → ${n.target ?? n.plugin}`),
    `records in ${fmt(s.recordsIn)} · invalid ${fmt(s.invalid)} · filtered ${fmt(s.filtered)} · alerts ${fmt(s.alerts)} · written by sinks ${fmt(s.recordsOut)}`,
    `time ${secs.toFixed(2)} s · ${fmt(Math.round(s.rate))} records/s`,
  ];
  if (s.workers) lines.push(`${threadsLine(s.workers)}: ${s.workers.reason}`);
  return lines.join('\n');
}

/** How many threads ran the parallel chains: `2 worker threads per parallel chain`, `1 worker thread and the main thread …`. */
function threadsLine(w: NonNullable<RunSummary['workers']>): string {
  if (w.count <= 1 || w.started === 0) return 'one thread';
  if (!w.mainCopy) return `${w.count} worker threads per parallel chain`;
  const n = w.count - 1;
  return `${n} worker thread${n === 1 ? '' : 's'} and the main thread per parallel chain`;
}
