import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import setPlugin from '../../../plugins/transform/set/index.js';
import dropPlugin from '../../../plugins/transform/drop/index.js';
import { createProcessor, processAll, testContext } from '../../helpers/harness.js';
import { compileConfigSchema } from '../../../src/spec/ajv.js';
import { getPath, setPath, deletePath, type PluginDef, type Rec } from '../../../src/api.js';

function issues(def: PluginDef, withConfig: unknown) {
  const copy = structuredClone(withConfig);
  const validate = compileConfigSchema(def.schema);
  expect(validate(copy), JSON.stringify(validate.errors)).toBe(true);
  return def.check!(copy as any);
}

const sample = (): Rec => ({
  '@timestamp': '2024-03-01T10:00:00.000Z',
  source: { ip: '10.1.1.99' },
  url: { domain: 'Upload.Unknown-Host.Example', path: '/files/Invoice.EXE' },
  http: { request: { method: 'POST', bytes: 5_000_000 }, response: { bytes: 10 } },
  user_agent: { original: 'curl/8' },
  labels: { site: 'a' },
});

describe('set', () => {
  it('adds computed fields in order; a later field reads an earlier one', async () => {
    const p = await createProcessor(setPlugin, {
      fields: {
        'labels.big': { '>': [{ var: 'http.request.bytes' }, 1000000] },
        'url.domain': { lower: { var: 'url.domain' } },
        'url.extension': { file_extension: { var: 'url.path' } },
        'labels.summary': { cat: [{ var: 'url.domain' }, ' ', { var: 'url.extension' }] },
        'observer.name': 'proxy-1',
        'labels.missing': { var: 'no.such.field' },
      },
    });
    const out = await processAll(p, [[sample()]]);
    expect(out.out![0]).toMatchObject({
      labels: { site: 'a', big: true, summary: 'upload.unknown-host.example exe', missing: null },
      url: { domain: 'upload.unknown-host.example', extension: 'exe', path: '/files/Invoice.EXE' },
      observer: { name: 'proxy-1' },
    });
  });

  it('never modifies its input and shares the objects it did not change', async () => {
    const p = await createProcessor(setPlugin, { fields: { 'labels.big': true } });
    const input = sample();
    const frozen = structuredClone(input);
    const [result] = (await p.process([input])).out!;
    expect(input).toEqual(frozen);
    expect(result).not.toBe(input);
    expect(result!.labels).not.toBe(input.labels);
    expect(result!.http).toBe(input.http);
    expect(result!.url).toBe(input.url);
  });

  it('uses in_list with a declared list', async () => {
    const p = await createProcessor(setPlugin, {
      lists: { executables: 'examples/lists/executable-extensions.txt' },
      fields: { 'labels.executable': { in_list: [{ file_extension: { var: 'url.path' } }, 'executables'] } },
    });
    const out = await processAll(p, [[sample(), { url: { path: '/index.html' } }]]);
    expect(out.out!.map((r) => r.labels.executable)).toEqual([true, false]);
  });

  it('replaces a scalar in the way of a nested path, as setPath does', async () => {
    const p = await createProcessor(setPlugin, { fields: { 'labels.x.y': 1 } });
    const out = await processAll(p, [[{ labels: 'flat' }, { labels: [1, 2] }]]);
    expect(out.out).toEqual([{ labels: { x: { y: 1 } } }, { labels: { x: { y: 1 } } }]);
  });

  it('equals cloning and setPath for random records', async () => {
    const paths = ['a', 'a.b', 'a.c.d', 'e.f', 'g'];
    const valueArb: fc.Arbitrary<unknown> = fc.oneof(fc.integer(), fc.string(), fc.constant(null));
    const recArb = fc.dictionary(
      fc.constantFrom('a', 'e', 'g', 'h'),
      fc.oneof(valueArb, fc.dictionary(fc.constantFrom('b', 'c', 'f', 'z'), fc.oneof(valueArb, fc.dictionary(fc.constantFrom('d', 'y'), valueArb)))),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(recArb, { maxLength: 10 }), fc.subarray(paths, { minLength: 1 }), async (recs, chosen) => {
        const fields = Object.fromEntries(chosen.map((p, i) => [p, i]));
        const p = await createProcessor(setPlugin, { fields });
        const before = structuredClone(recs);
        const out = (await p.process(recs)).out!;
        const expected = before.map((r) => {
          const c = structuredClone(r);
          chosen.forEach((path, i) => {
            setPath(c, path, i);
          });
          return c;
        });
        expect(out).toEqual(expected);
        expect(recs).toEqual(before);
      }),
    );
  });

  it('checks field paths and expressions with pointers', () => {
    expect(issues(setPlugin, { fields: { '__proto__.polluted': true } })).toMatchObject([{ path: '/fields/__proto__.polluted', code: 'FIELD_PATH' }]);
    expect(issues(setPlugin, { fields: { 'a..b': 1 } })).toMatchObject([{ code: 'FIELD_PATH' }]);
    expect(issues(setPlugin, { fields: { 'labels/x': { nope: 1 } } })).toMatchObject([{ path: '/fields/labels~1x/nope', code: 'LOGIC_INVALID' }]);
    expect(issues(setPlugin, { fields: { x: { var: 'constructor.prototype' } } })).toMatchObject([{ path: '/fields/x/var' }]);
    for (const ex of setPlugin.examples!) expect(issues(setPlugin, ex.with)).toEqual([]);
    expect(({} as any).polluted).toBeUndefined();
  });
});

describe('drop', () => {
  it('removes fields; records without them pass as they are', async () => {
    const ctx = testContext('d');
    const p = await createProcessor(dropPlugin, { fields: ['user_agent.original', 'labels', 'no.such'] }, ctx);
    const a = sample();
    const b: Rec = { source: { ip: '1.2.3.4' } };
    const out = await processAll(p, [[a, b]]);
    expect(out.out![0]).toEqual({ ...sample(), user_agent: {}, labels: undefined });
    expect('labels' in out.out![0]!).toBe(false);
    expect(out.out![1]).toBe(b);
    expect(a.user_agent.original).toBe('curl/8'); // input untouched
    expect(out.out![0]!.http).toBe(a.http);
    expect(ctx.counters.fields_removed).toBe(2);
  });

  it('treats a key holding undefined as absent (proxy-log layout records): nothing counted, nothing copied', async () => {
    const ctx = testContext('d');
    const p = await createProcessor(dropPlugin, { fields: ['user.name', 'user_agent.original'] }, ctx);
    const rec: Rec = { source: { ip: '1.2.3.4' }, user: undefined, user_agent: { original: undefined } };
    const out = await processAll(p, [[rec]]);
    expect(out.out![0]).toBe(rec);
    expect(ctx.counters.fields_removed ?? 0).toBe(0);
    expect(deletePath(rec, 'user_agent.original')).toBe(false);
  });

  it('equals cloning and deletePath for random records', async () => {
    const paths = ['a', 'a.b', 'a.c.d', 'e.f', 'g'];
    const recArb = fc.dictionary(
      fc.constantFrom('a', 'e', 'g', 'h'),
      fc.oneof(fc.integer(), fc.dictionary(fc.constantFrom('b', 'c', 'f'), fc.oneof(fc.integer(), fc.dictionary(fc.constantFrom('d', 'y'), fc.integer())))),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(recArb, { maxLength: 10 }), fc.uniqueArray(fc.constantFrom(...paths), { minLength: 1 }), async (recs, chosen) => {
        const p = await createProcessor(dropPlugin, { fields: chosen });
        const before = structuredClone(recs);
        const out = (await p.process(recs)).out!;
        const expected = before.map((r) => {
          const c = structuredClone(r);
          for (const path of chosen) deletePath(c, path);
          return c;
        });
        expect(out).toEqual(expected);
        expect(recs).toEqual(before);
        out.forEach((r, i) => {
          if (chosen.every((path) => getPath(before[i], path) === undefined)) expect(r).toBe(recs[i]);
        });
      }),
    );
  });

  it('refuses prototype paths', () => {
    expect(issues(dropPlugin, { fields: ['a', 'constructor.prototype'] })).toMatchObject([{ path: '/fields/1', code: 'FIELD_PATH' }]);
    for (const ex of dropPlugin.examples!) expect(issues(dropPlugin, ex.with)).toEqual([]);
  });
});
