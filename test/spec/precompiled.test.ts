/**
 * The validators `npm run build` generates ahead of time (src/spec/precompile.ts, ajv standalone code)
 * against ajv's own compilation of the same schemas: the same verdicts, the same defaults filled in,
 * the same errors. (`npm test` builds first; after changing a schema without a rebuild the first test
 * fails and says so.)
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { aheadOfTime, generatedModule } from '../../src/spec/precompile.js';
import { newAjv, precompiledValidator, schemaValidator, validatorKey, type ValidateFn, type ValidatorSpec } from '../../src/spec/ajv.js';
import { builtinPlugins } from '../../plugins/index.js';
import { fixture, parse } from '../plugins/proxy-log/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** ajv's compilation of the spec, as a run without a generated validator makes it. */
function compiled(spec: ValidatorSpec): ValidateFn {
  return newAjv(spec.options, spec.formats).compile(spec.schema);
}

/** Both validators on a copy of `data` each: verdict, the data after (defaults) and the errors agree. */
function agree(spec: ValidatorSpec, data: unknown): boolean {
  const pre = precompiledValidator(spec)!;
  const ref = compiled(spec);
  const a = structuredClone(data);
  const b = structuredClone(data);
  const verdict = pre(a);
  expect(verdict, JSON.stringify(data)).toBe(ref(b));
  expect(a).toEqual(b);
  expect(pre.errors ?? null).toEqual(ref.errors ?? null);
  return verdict;
}

const byId = (id: string) => aheadOfTime().filter((s) => s.id === id);

describe('validators generated ahead of time', () => {
  it('exist for every schema a run compiles before its first record (run `npm run build` after changing a schema)', () => {
    const specs = aheadOfTime();
    expect(specs.length).toBe(1 + builtinPlugins.length + 2);
    for (const spec of specs) expect(precompiledValidator(spec), `${validatorKey(spec)}.cjs`).toBeTypeOf('function');
  });

  it('are not used for a schema that changed since the build: ajv compiles that one', () => {
    const spec = byId('sluice-config')[0]!;
    const changed = { ...spec, schema: { ...spec.schema, description: 'changed since the build' } };
    expect(validatorKey(changed)).not.toBe(validatorKey(spec));
    expect(precompiledValidator(changed)).toBeUndefined();
    const v = schemaValidator(changed);
    expect(v({ version: 1, nodes: {} })).toBe(false); // minProperties: 1
    expect(v({ version: 1, nodes: { a: { source: 'file' } } })).toBe(true);
  });

  it('fill the same defaults and report the same errors for plugin configurations', () => {
    for (const def of builtinPlugins) {
      const spec = aheadOfTime().find((s) => s.schema === def.schema)!;
      expect(spec, def.name).toBeDefined();
      let valid = 0;
      for (const ex of def.examples ?? []) {
        if (agree(spec, ex.with)) valid++;
        // every property of the example given a value of the wrong kind, one at a time
        for (const k of Object.keys(ex.with as object)) {
          for (const wrong of [12345, 'x', null, [], {}]) agree(spec, { ...(ex.with as object), [k]: wrong });
        }
      }
      expect(valid, def.name).toBe(def.examples?.length);
      agree(spec, {});
      agree(spec, { no_such_key: 1 });
      agree(spec, 'not an object');
    }
  });

  it('read pipeline specs as ajv does', () => {
    const spec = byId('sluice-config').find((s) => (s.schema as { title?: string }).title === 'sluice pipeline')!;
    // as written (before `${VAR}` interpolation the default pipeline's `workers: "${WORKERS:-1}"` is a string)
    const doc = (f: string): unknown => parseYaml(readFileSync(resolve(ROOT, f), 'utf8'));
    expect(agree(spec, doc('test/fixtures/proxy-log/specs/parse.yaml'))).toBe(true);
    expect(agree(spec, doc('pipelines/proxy-ioc-sweep.yaml'))).toBe(false);
    expect(agree(spec, doc('bench/pipelines/sweep.yaml'))).toBe(true); // no `settings:`
    const parse = doc('bench/pipelines/parse.yaml') as { settings: { workers: unknown } };
    parse.settings.workers = 'auto';
    expect(agree(spec, parse)).toBe(true);
    expect(agree(spec, { version: 2, nodes: { 'Bad Name': {} }, settings: { workers: 0, queue_batches: 'x' } })).toBe(false);
    expect(agree(spec, { version: 1, nodes: { a: { source: 'file', from: 3, extra: 1 } }, schedule: 5 })).toBe(false);
  });

  it('check parsed records as ajv does, valid and broken', async () => {
    const [layout, published] = [byId('proxy-log-record-layout')[0]!, byId('proxy-log-record')[0]!];
    const recs: unknown[] = [];
    for (const [name, format] of [
      ['squid-native.log', 'squid'],
      ['combined.log', 'combined'],
      ['elff-main.log', 'elff'],
      ['zscaler.jsonl', 'zscaler-nss'],
    ] as const) {
      recs.push(...(await parse({ format }, fixture(name))).out);
    }
    expect(recs.length).toBeGreaterThan(20);
    const broken = (r: any, f: (c: any) => void): unknown => {
      const c = structuredClone(r);
      f(c);
      return c;
    };
    for (const r of recs) {
      for (const spec of [layout, published]) {
        expect(agree(spec, r)).toBe(true);
        agree(
          spec,
          broken(r, (c) => (c['@timestamp'] = 'yesterday')),
        );
        agree(
          spec,
          broken(r, (c) => (c.url = { ...c.url, scheme: 'HTTP' })),
        );
        agree(
          spec,
          broken(r, (c) => (c.destination = { port: 70000 })),
        );
        agree(
          spec,
          broken(r, (c) => (c.source = { ip: '1.2.3.4 ' })),
        );
        agree(
          spec,
          broken(r, (c) => (c.http = { response: { status_code: '200' } })),
        );
        agree(
          spec,
          broken(r, (c) => (c.extra_top_level = true)),
        );
      }
    }
  });

  it('are plain modules of the spec they were generated from', () => {
    const text = generatedModule(byId('proxy-log-record-layout')[0]!);
    expect(text).toContain("from the 'proxy-log-record-layout' schema");
    expect(text).toContain('const { patternTester } = helpers;');
  });
});
