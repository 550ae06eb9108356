/**
 * Type-level checks of the plugin contract, compiled by `tsc -p test/types` (see
 * plugin-def.test.ts). Each `@ts-expect-error` must meet an error: a definition that the contract
 * should refuse and that compiles makes the check fail.
 */
import { definePlugin, type PluginDef, type ProcessorInstance, type SinkInstance, type SourceInstance } from '../../src/api.js';

const processor: ProcessorInstance = { process: (records) => ({ out: records }) };
const sink: SinkInstance = { write: () => {}, flush: async () => {}, close: async () => {} };
const source: SourceInstance = { run: async () => {} };
const schema = { type: 'object', additionalProperties: false };

// What each kind's create must return.
export const okSource = definePlugin({ name: 's', kind: 'source', summary: 's', schema, create: () => source });
export const okTransform = definePlugin({ name: 't', kind: 'transform', summary: 't', schema, parallel: 'any', create: () => processor });
export const okAnalyse = definePlugin({ name: 'a', kind: 'analyse', summary: 'a', schema, create: async () => processor });
export const okSink = definePlugin({ name: 'k', kind: 'sink', summary: 'k', schema, reasons: { WRITE_FAILED: 'why' }, create: () => sink });

// @ts-expect-error a sink whose create returns a processor
export const sinkOfProcessor = definePlugin({ name: 'k', kind: 'sink', summary: 'k', schema, create: () => processor });

// @ts-expect-error a source whose create returns a sink
export const sourceOfSink = definePlugin({ name: 's', kind: 'source', summary: 's', schema, create: () => sink });

// @ts-expect-error a transform whose create returns a source
export const transformOfSource = definePlugin({ name: 't', kind: 'transform', summary: 't', schema, create: async () => source });

// @ts-expect-error sinks have no output ports
export const sinkWithPorts = definePlugin({ name: 'k', kind: 'sink', summary: 'k', schema, ports: ['out'], create: () => sink });

// @ts-expect-error only processors run in parallel
export const parallelSource = definePlugin({ name: 's', kind: 'source', summary: 's', schema, parallel: 'any', create: () => source });

// @ts-expect-error no such kind
export const badKind = definePlugin({ name: 'x', kind: 'filter', summary: 'x', schema, create: () => processor });

// The union narrows by kind.
export function instanceOf(def: PluginDef): string {
  switch (def.kind) {
    case 'sink':
      return def.name;
    case 'source':
      return String(def.ports);
    default:
      return String(def.parallel);
  }
}
