/**
 * The pipeline schema. `baseSchema` checks the structure of a spec (phase 2 of validation);
 * `generatePipelineSchema` adds one branch per registered plugin so that editors can complete
 * and check `with:` — it is what `schemas/pipeline.schema.json` holds.
 */
import { PLUGIN_KINDS } from '../api.js';
import type { Registry } from '../plugins/registry.js';
import { testsSchema } from './test-schema.js';

const REF_PATTERN = '^[A-Za-z_][A-Za-z0-9_-]*(\\.[A-Za-z_][A-Za-z0-9_-]*)?$';
const NODE_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_-]*$';

const refSchema = {
  type: 'string',
  pattern: REF_PATTERN,
  description: "An upstream node's output: `node` (its `out` port) or `node.port`.",
};

export function nodeSchema(): Record<string, unknown> {
  return {
    type: 'object',
    description: 'A node: exactly one of source / transform / analyse / sink naming its plugin, plus from: and with:.',
    additionalProperties: false,
    properties: {
      source: { type: 'string', description: 'Plugin name of a source node.' },
      transform: { type: 'string', description: 'Plugin name of a transform node.' },
      analyse: { type: 'string', description: 'Plugin name of an analyser node.' },
      sink: { type: 'string', description: 'Plugin name of a sink node.' },
      from: {
        description: 'Input(s) of this node: one ref or a list (fan-in).',
        oneOf: [refSchema, { type: 'array', items: refSchema, minItems: 1 }],
      },
      with: { type: 'object', description: "The plugin's configuration (see `sluice plugins NAME`)." },
      description: { type: 'string', description: 'What this node is for.' },
    },
  };
}

export function baseSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'sluice pipeline',
    type: 'object',
    additionalProperties: false,
    required: ['version', 'nodes'],
    properties: {
      version: { const: 1, description: 'Spec format version; always 1.' },
      name: { type: 'string', pattern: NODE_NAME_PATTERN, description: 'Pipeline name (used for state and logs). Defaults to the file name.' },
      description: { type: 'string', description: 'What the pipeline does.' },
      plugins: {
        type: 'array',
        items: { type: 'string' },
        description: 'Extra plugin modules: paths relative to this file, or package names. Nothing else is loaded.',
        default: [],
      },
      schedule: {
        type: 'string',
        description: 'Cron expression (node-cron, optional seconds field): rerun this finite pipeline on that schedule, never overlapping.',
      },
      settings: {
        type: 'object',
        additionalProperties: false,
        description: 'Runtime tuning.',
        properties: {
          queue_batches: {
            type: 'integer',
            minimum: 1,
            maximum: 1024,
            default: 8,
            description: 'Capacity of each edge, in batches: a full queue pauses its producer (backpressure).',
          },
          flush_interval: {
            type: 'string',
            default: '250ms',
            description: 'Longest time a sink holds written records before flushing them (and acknowledging their batches).',
          },
          retry_max_delay: {
            type: 'string',
            default: '5s',
            description:
              "Longest wait between two tries of a sink whose service is away (the wait doubles from 200ms up to this). A service that came back waits at most this long to be tried again, so on a stream it bounds how late the run resumes after an outage; raise it (e.g. '30s') to try a service that stays away for long less often.",
          },
          workers: {
            oneOf: [{ type: 'integer', minimum: 1, maximum: 64 }, { const: 'auto' }],
            default: 'auto',
            description:
              "Worker threads for chains of parallel-safe transforms and analysers (e.g. proxy-log → ioc-sweep). 'auto' (the default): one per CPU core when the input is large enough to repay their start-up (the sources' known size above 16 MiB, or a stream) and only a chain's alerts and rejects, not its every record, leave it, else none; 1 runs everything on the main thread; N pins N. `sluice run --workers N` overrides it.",
          },
        },
      },
      nodes: {
        type: 'object',
        description: 'The nodes of the DAG, by name.',
        minProperties: 1,
        propertyNames: { pattern: NODE_NAME_PATTERN },
        additionalProperties: nodeSchema(),
      },
      tests: testsSchema(),
    },
  };
}

/** The whole-pipeline schema with a branch per registered plugin (committed as schemas/pipeline.schema.json). */
export function generatePipelineSchema(registry: Registry): Record<string, unknown> {
  const schema = baseSchema() as any;
  const node = nodeSchema() as any;
  const branches: unknown[] = [];
  for (const kind of PLUGIN_KINDS) {
    const names = registry.names(kind);
    node.properties[kind] = { type: 'string', enum: names, description: node.properties[kind].description };
    for (const name of names) {
      const p = registry.get(kind, name)!;
      branches.push({
        if: { required: [kind], properties: { [kind]: { const: name } } },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, never awaited
        then: { properties: { with: { ...p.def.schema, description: p.def.summary } } },
      });
    }
  }
  node.oneOf = PLUGIN_KINDS.map((k) => ({ required: [k] }));
  node.allOf = branches;
  schema.properties.nodes.additionalProperties = node;
  schema.$id = 'https://sluice.dev/schemas/pipeline.schema.json';
  return schema;
}
