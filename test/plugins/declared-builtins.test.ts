import { describe, it, expect } from 'vitest';
import { resolve } from 'node:path';
import { builtinPlugins } from '../../plugins/index.js';
import { BUILTIN_MODULES, declaredBuiltinRegistry } from '../../src/plugins/declared-builtins.js';
import { Registry } from '../../src/plugins/registry.js';
import { loadSpec } from '../../src/spec/validate.js';
import { PLUGIN_KINDS, definePlugin, type PluginDef } from '../../src/api.js';

const FILE_TO_FILE = `version: 1
nodes:
  logs:
    source: file
    with: { paths: [/tmp/none.log] }
  parse:
    transform: proxy-log
    from: logs
  out:
    sink: file
    from: parse
    with: { path: /tmp/out.jsonl }
`;

describe('the declared built-ins (the CLI registry)', () => {
  it("declares exactly plugins/index.ts's built-ins, each module holding the same definition", async () => {
    expect(BUILTIN_MODULES.map(([kind, name]) => `${kind} ${name}`)).toEqual(builtinPlugins.map((p) => `${p.kind} ${p.name}`));
    const registry = await declaredBuiltinRegistry().loadAll();
    for (const def of builtinPlugins) expect(registry.get(def.kind, def.name)?.def).toBe(def);
    for (const kind of PLUGIN_KINDS) expect(registry.declaredNames(kind)).toEqual(registry.names(kind));
  });

  it('loads the plugins a spec names and no other', async () => {
    const registry = declaredBuiltinRegistry();
    expect(registry.get('source', 'file')).toBeUndefined();
    expect(registry.has('source', 'file')).toBe(true);
    const { spec, issues } = await loadSpec('/virtual/spec.yaml', { text: FILE_TO_FILE, registry });
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(spec).toBeDefined();
    const loaded = PLUGIN_KINDS.flatMap((k) => registry.names(k).map((n) => `${k} ${n}`));
    expect(loaded.sort()).toEqual(['sink file', 'source file', 'transform proxy-log']);
    expect(registry.has('source', 'kafka') && !registry.get('source', 'kafka')).toBe(true);
  });

  it('suggests and lists declared plugins that are not loaded', async () => {
    const text = FILE_TO_FILE.replace('transform: proxy-log', 'transform: proxy-lgo').replace('sink: file', 'sink: window');
    const { issues } = await loadSpec('/virtual/spec.yaml', { text, registry: declaredBuiltinRegistry() });
    const unknown = issues.filter((i) => i.code === 'SLUICE_E_UNKNOWN_PLUGIN').map((i) => i.hint);
    expect(unknown).toEqual(["did you mean 'proxy-log'?", "'window' is a analyse plugin, not a sink"]);
  });

  it("refuses a module's plugin under a declared built-in's name, loaded or not", async () => {
    const def = builtinPlugins.find((p) => p.kind === 'source' && p.name === 'kafka')!;
    const copy: PluginDef = definePlugin({ ...def, kind: 'source' } as PluginDef & { kind: 'source' });
    const registry = declaredBuiltinRegistry();
    expect(() => registry.register(copy, 'my-plugins')).toThrow(/already registered \(from built-in\)/);
    await registry.load('source', 'kafka');
    expect(() => registry.register(copy, 'my-plugins')).toThrow(/already registered \(from built-in\)/);
  });

  it('refuses a loader whose module holds another plugin', async () => {
    const registry = new Registry();
    const file = builtinPlugins.find((p) => p.kind === 'sink' && p.name === 'file')!;
    registry.declare('sink', 'stdout', async () => file);
    await expect(registry.load('sink', 'stdout')).rejects.toThrow(/declared as sink 'stdout' holds sink 'file'/);
    expect(registry.get('sink', 'file')).toBeUndefined();
  });

  it('validates the shipped pipelines the same way as the eager registry', async () => {
    const file = resolve(import.meta.dirname, '../../pipelines/proxy-ioc-sweep.yaml');
    const { spec, issues } = await loadSpec(file, { registry: declaredBuiltinRegistry(), vars: { LOGS: '/tmp/x.log' } });
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect([...spec!.nodes.values()].every((n) => n.plugin.def === builtinPlugins.find((p) => p.kind === n.kind && p.name === n.plugin.def.name))).toBe(true);
  });
});
