import { describe, it, expect } from 'vitest';
import { resolve } from 'node:path';
import { loadSpec } from '../../src/spec/validate.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { ERRORS } from '../../src/errors.js';

const load = (text: string, vars: Record<string, string> = {}) => loadSpec('/virtual/spec.yaml', { text, vars, registry: builtinRegistry() });
const codes = (issues: { code: string; severity: string }[]) => issues.filter((i) => i.severity === 'error').map((i) => i.code);

describe('spec validation', () => {
  it('reports all five mistakes of the fixture in one run, each at its line:col', async () => {
    const file = resolve(import.meta.dirname, '../fixtures/spec/five-mistakes.yaml');
    const { spec, issues } = await loadSpec(file, { registry: builtinRegistry() });
    expect(spec).toBeUndefined();
    const errors = issues.filter((i) => i.severity === 'error').map((i) => `${i.line}:${i.col} ${i.code}`);
    expect(errors.sort()).toEqual(
      [
        '17:6 SLUICE_E_YAML', // bad indentation of `bogus:`
        '9:16 SLUICE_E_UNKNOWN_PLUGIN', // filtr
        '30:13 SLUICE_E_CONFIG', // path: 42
        '28:20 SLUICE_E_UNKNOWN_PORT', // logs.errors
        '20:11 SLUICE_E_CYCLE', // loop-a <-> loop-b
      ].sort(),
    );
    const unknown = issues.find((i) => i.code === 'SLUICE_E_UNKNOWN_PLUGIN')!;
    expect(unknown.hint).toContain("'filter'");
    const port = issues.find((i) => i.code === 'SLUICE_E_UNKNOWN_PORT')!;
    expect(port.hint).toContain('out, invalid');
  });

  it('treats unknown keys as errors, at the key, with the closest allowed key as hint', async () => {
    const { issues } = await load(`version: 1
nodes:
  src:
    source: file
    with: { paths: [a.log], batch_sise: 10 }
  out:
    sink: stdout
    form: src
`);
    const byCode = Object.fromEntries(issues.map((i) => [`${i.code}@${i.path}`, i]));
    expect(byCode['SLUICE_E_UNKNOWN_KEY@/nodes/src/with/batch_sise']?.hint).toContain("'batch_size'");
    expect(byCode['SLUICE_E_UNKNOWN_KEY@/nodes/src/with/batch_sise']).toMatchObject({ line: 5, col: 29 });
    expect(byCode['SLUICE_E_UNKNOWN_KEY@/nodes/out/form']?.hint).toContain("'from'");
    expect(codes(issues)).toContain('SLUICE_E_NO_INPUT');
  });

  it('finds dangling sinks, unread sources, sources with inputs and nodes naming no kind', async () => {
    const { issues } = await load(`version: 1
nodes:
  a: { source: file, with: { paths: [x] } }
  b: { source: file, from: a, with: { paths: [x] } }
  c: { sink: stdout }
  d: { with: {} }
`);
    expect(codes(issues).sort()).toEqual(['SLUICE_E_NODE_KIND', 'SLUICE_E_NO_CONSUMER', 'SLUICE_E_NO_INPUT', 'SLUICE_E_SOURCE_INPUT'].sort());
  });

  it('interpolates ${NAME} and ${NAME:-default}, --var first, and reports a missing variable at its place', async () => {
    const text = `version: 1
nodes:
  a:
    source: file
    with:
      paths: ["\${LOGS:-x/*.log}"]
      batch_size: \${BATCH}
  b: { sink: stdout, from: [a, a.invalid] }
`;
    const missing = await load(text);
    expect(missing.issues.map((i) => `${i.code}@${i.line}`)).toContain('SLUICE_E_INTERPOLATION@7');
    const ok = await load(text, { BATCH: '50', LOGS: 'y/*.log' });
    expect(ok.issues.filter((i) => i.severity === 'error')).toEqual([]);
    const cfg = ok.spec!.nodes.get('a')!.config as { paths: string[]; batch_size: number };
    expect(cfg.paths).toEqual(['y/*.log']);
    expect(cfg.batch_size).toBe(50);
    const dflt = await load(text, { BATCH: '7' });
    expect((dflt.spec!.nodes.get('a')!.config as { paths: string[] }).paths).toEqual(['x/*.log']);
  });

  it('never prints secret variables in errors', async () => {
    const { issues } = await load(
      `version: 1
nodes:
  a: { source: file, with: { paths: [x], batch_size: "\${API_TOKEN}" } }
  b: { sink: stdout, from: a }
`,
      { API_TOKEN: 'hunter2-secret' },
    );
    const text = JSON.stringify(issues);
    expect(issues.length).toBeGreaterThan(0);
    expect(text).not.toContain('hunter2-secret');
  });

  it('rejects json-logic that reaches for prototypes at validation time, with the rule position', async () => {
    const { issues } = await load(`version: 1
nodes:
  a: { source: file, with: { paths: [x] } }
  f:
    transform: filter
    from: a
    with:
      when: { "==": [{ var: "__proto__.polluted" }, 1] }
  b: { sink: stdout, from: [f, a.invalid] }
`);
    const i = issues.find((x) => x.code === 'SLUICE_E_CONFIG_CHECK')!;
    expect(i).toBeDefined();
    expect(i.line).toBe(8);
    expect(i.message).toContain('prototype');
  });

  it('compiles a valid spec: defaults applied and frozen, nodes in dependency order', async () => {
    const { spec, issues } = await load(`version: 1
name: ok
nodes:
  out: { sink: stdout, from: [split.a, split.unmatched, src.invalid] }
  split: { transform: route, from: src, with: { routes: { a: true } } }
  src: { source: file, with: { paths: [x] } }
`);
    expect(issues).toEqual([]);
    expect(spec!.order).toEqual(['src', 'split', 'out']);
    const cfg = spec!.nodes.get('src')!.config as { batch_size?: number; max_line_bytes: number };
    expect(cfg.max_line_bytes).toBe(1048576);
    // no default in the schema: unset, the source asks the runtime (API 1.11, ctx.batchLines)
    expect(cfg.batch_size).toBeUndefined();
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(spec!.nodes.get('split')!.ports).toEqual(['a', 'unmatched']);
  });

  it('reports a plugin module whose config schema does not compile when the module loads', async () => {
    const file = resolve(import.meta.dirname, '../fixtures/plugins/spec.yaml');
    const { spec, issues } = await loadSpec(file, {
      text: `version: 1
plugins: [./broken-schema.mjs]
nodes:
  src: { source: file, with: { paths: [x] } }
  t: { transform: broken-schema, from: src }
  out: { sink: stdout, from: [t, src.invalid] }
`,
      registry: builtinRegistry(),
    });
    expect(spec).toBeUndefined();
    const i = issues.find((x) => x.code === 'SLUICE_E_PLUGIN_LOAD')!;
    expect(i).toBeDefined();
    expect(i.line).toBe(2);
    expect(i.message).toContain('broken-schema.mjs');
  });

  it('has one table of stable error codes', () => {
    expect(Object.keys(ERRORS)).toMatchInlineSnapshot(`
      [
        "SLUICE_E_FILE",
        "SLUICE_E_YAML",
        "SLUICE_E_INTERPOLATION",
        "SLUICE_E_SCHEMA",
        "SLUICE_E_UNKNOWN_KEY",
        "SLUICE_E_NODE_KIND",
        "SLUICE_E_UNKNOWN_PLUGIN",
        "SLUICE_E_PLUGIN_LOAD",
        "SLUICE_E_PLUGIN_DEF",
        "SLUICE_E_CONFIG",
        "SLUICE_E_CONFIG_CHECK",
        "SLUICE_E_UNKNOWN_NODE",
        "SLUICE_E_UNKNOWN_PORT",
        "SLUICE_E_CYCLE",
        "SLUICE_E_NO_INPUT",
        "SLUICE_E_SOURCE_INPUT",
        "SLUICE_E_NO_CONSUMER",
        "SLUICE_E_SCHEDULE",
        "SLUICE_E_RUNTIME",
        "SLUICE_E_PREPARE",
        "SLUICE_E_CREATE",
        "SLUICE_E_SHARED_VALUE",
        "SLUICE_E_SINK_FLUSH",
        "SLUICE_E_WORKER",
        "SLUICE_E_TEST",
      ]
    `);
  });
});
