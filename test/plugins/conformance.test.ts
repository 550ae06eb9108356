/**
 * Every plugin, built-in or not, passes the same checks: a complete definition, a schema whose
 * every property is described, examples that validate and pass the plugin's own check. (What
 * built-ins may import: test/structure/imports.test.ts.)
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { builtinPlugins } from '../../plugins/index.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { describeInvalidDef } from '../../src/plugins/registry.js';
import { compileConfigSchema, configAjv, describeAjvErrors } from '../../src/spec/ajv.js';
import { baseSchema, generatePipelineSchema } from '../../src/spec/pipeline-schema.js';
import { portsOf } from '../../src/plugins/def.js';

const ROOT = resolve(import.meta.dirname, '../..');

function undescribed(schema: any, path: string, out: string[]): void {
  for (const [k, s] of Object.entries<any>(schema?.properties ?? {})) {
    if (!s.description) out.push(`${path}${k}`);
    undescribed(s, `${path}${k}.`, out);
    if (s.items) undescribed(s.items, `${path}${k}[].`, out);
  }
}

describe.each(builtinPlugins.map((p) => [`${p.kind} ${p.name}`, p] as const))('plugin %s', (_label, def) => {
  it('is a complete definition', () => {
    expect(describeInvalidDef(def)).toBeUndefined();
    expect(def.schema.type).toBe('object');
    expect(def.schema.additionalProperties).toBe(false);
  });

  it('describes every configuration property', () => {
    const missing: string[] = [];
    undescribed(def.schema, '', missing);
    expect(missing).toEqual([]);
  });

  it('has a schema that is valid against the meta-schema (runs compile it without that check)', () => {
    expect(configAjv().validateSchema(def.schema), JSON.stringify(configAjv().errors)).toBe(true);
  });

  it('has examples that validate and pass its own check', () => {
    expect(def.examples?.length ?? 0).toBeGreaterThan(0);
    const validate = compileConfigSchema(def.schema);
    for (const ex of def.examples ?? []) {
      const cfg = structuredClone(ex.with);
      expect(validate(cfg), `${ex.title}: ${describeAjvErrors(validate.errors)}`).toBe(true);
      expect(def.check?.(cfg as never) ?? []).toEqual([]);
      if (def.kind !== 'sink') expect(portsOf(def, cfg).length).toBeGreaterThan(0);
    }
  });
});

describe('built-in plugins', () => {
  it('the pipeline schemas are valid against the meta-schema (runs compile the base one without that check)', () => {
    expect(configAjv().validateSchema(baseSchema()), JSON.stringify(configAjv().errors)).toBe(true);
    expect(configAjv().validateSchema(generatePipelineSchema(builtinRegistry())), JSON.stringify(configAjv().errors)).toBe(true);
    expect(configAjv().validateSchema({ type: 'object', properties: { x: { type: 'no-such-type' } } })).toBe(false);
  });

  it('the committed schemas/pipeline.schema.json matches the registry (run `npm run schema` after changing a plugin)', () => {
    const committed = readFileSync(join(ROOT, 'schemas/pipeline.schema.json'), 'utf8');
    const generated = JSON.stringify(generatePipelineSchema(builtinRegistry()), null, 2) + '\n';
    expect(committed).toBe(generated);
  });
});
