/**
 * What the in-process window benches (window-share.ts, window-summary.ts) share: the default
 * pipeline's volume window, a plugin's config validated as a spec's `with:` would be, and the log
 * parsed as that pipeline's parse node parses it.
 */
import proxyLog from '../../plugins/transform/proxy-log/index.js';
import { compileConfigSchema, describeAjvErrors } from '../../src/spec/ajv.js';
import type { PluginDef, ProcessorInstance, Rec } from '../../src/api.js';
import { chunksOf } from '../../src/runtime/chunks.js';
import { quietContext } from './context.js';
import { lineBlocks } from './line-blocks.js';

/** The `with:` of the volume window of pipelines/proxy-ioc-sweep.yaml, with `lateness` (its default: 2h). */
export function volumeWindow(lateness = '2h'): Record<string, unknown> {
  return {
    key: ['source.ip'],
    size: '5m',
    slide: '1m',
    allowed_lateness: lateness,
    aggregate: {
      requests: 'count',
      bytes_out: { sum: 'http.request.bytes' },
      bytes_in: { sum: 'http.response.bytes' },
      hosts: { distinct: 'url.domain' },
    },
    alert_when: { '>': [{ var: 'requests' }, 600] },
    samples: 3,
    alert: { name: 'high-request-volume', severity: 'medium', tags: ['volume'] },
  };
}

/** `withConfig` validated and defaulted by the plugin's schema and `check`, then frozen. */
export function configure<C>(def: PluginDef<C>, withConfig: unknown): C {
  const copy = structuredClone(withConfig);
  const validate = compileConfigSchema(def.schema);
  if (!validate(copy)) throw new Error(`${def.name}: ${describeAjvErrors(validate.errors)}`);
  const issues = def.check?.(copy as C) ?? [];
  if (issues.length) throw new Error(`${def.name}: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`);
  return Object.freeze(copy) as C;
}

/**
 * Parse the log as the default pipeline does (`format: auto`, `keep_original: true`), in blocks of
 * `block` lines and the runtime's chunks, giving `onBatch` each block's parsed records, as the parse
 * node emits them.
 */
export async function parseBlocks(path: string, block: number, onBatch: (batch: Rec[]) => void): Promise<void> {
  const p = (await proxyLog.create(configure(proxyLog, { format: 'auto', keep_original: true }), quietContext('parse'))) as ProcessorInstance;
  for await (const b of lineBlocks(path, block)) {
    const batch: Rec[] = [];
    for (const recs of chunksOf(b)) {
      const out = p.process(recs) as { out?: Rec[] };
      if (out.out) for (const r of out.out) batch.push(r);
    }
    onBatch(batch);
  }
}
