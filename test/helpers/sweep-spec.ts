/**
 * The sweep spec the runtime tests write: file → [thread-pass] → proxy-log → ioc-sweep (against
 * `bad.txt` in the same directory) → alerts and rejects sinks under `${OUT}`. What differs between
 * the tests is given; the caller writes the logs and the feed.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The thread-pass fixture (test/fixtures/plugins/thread-pass.mjs): holds each batch a while in a worker. */
export const THREAD_PASS = resolve(import.meta.dirname, '../fixtures/plugins/thread-pass.mjs');

export interface SweepSpec {
  /** The pipeline's name. */
  name: string;
  /** The logs the file source reads (paths). */
  logs: readonly string[];
  /** The source's `batch_size`; unset: the runtime's suggestion or the source's default. */
  batchSize?: number;
  /** thread-pass's `with:`: a pass node between the source and the parse (the fixture is loaded). */
  pass?: string;
  /** More plugin modules to load. */
  plugins?: readonly string[];
  /** proxy-log's `format` (default squid). */
  format?: string;
  /** More nodes, as YAML lines under `nodes:`. */
  extra?: string;
  /** The spec file's name in `dir` (default spec.yaml). */
  fileName?: string;
}

/** Write the spec into `dir`; its path. */
export function writeSweepSpec(dir: string, o: SweepSpec): string {
  const plugins = [...(o.pass !== undefined ? [THREAD_PASS] : []), ...(o.plugins ?? [])];
  const batch = o.batchSize !== undefined ? `, batch_size: ${o.batchSize}` : '';
  const file = join(dir, o.fileName ?? 'spec.yaml');
  writeFileSync(
    file,
    `version: 1
name: ${o.name}
${plugins.length ? `plugins: [${plugins.map((p) => JSON.stringify(p)).join(', ')}]\n` : ''}nodes:
  logs: { source: file, with: { paths: [${o.logs.map((p) => JSON.stringify(p)).join(', ')}]${batch} } }
${o.pass !== undefined ? `  pass: { transform: thread-pass, from: logs, with: ${o.pass} }\n` : ''}  parse: { transform: proxy-log, from: ${o.pass !== undefined ? 'pass' : 'logs'}, with: { format: ${o.format ?? 'squid'} } }
  sweep:
    analyse: ioc-sweep
    from: parse
    with: { feeds: [{ name: bad, path: "${dir}/bad.txt", format: list }] }
  alerts: { sink: file, from: sweep.alerts, with: { path: "\${OUT}/alerts.jsonl" } }
  rejects: { sink: file, from: [logs.invalid, parse.invalid], with: { path: "\${OUT}/rejects.jsonl" } }
${o.extra ?? ''}`,
  );
  return file;
}
