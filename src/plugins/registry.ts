/**
 * The plugin registry: every plugin a run may use, keyed by kind and name. Built-ins are added
 * through the same `register` path as a third-party module's plugins; nothing else is loaded.
 * A plugin may also be declared (kind, name and a loader) and registered when first asked for by
 * `load`: the CLI's registry declares the built-ins so that a run loads the modules of the
 * plugins its spec names, not of every built-in (start-up time).
 */
import { createRequire } from 'node:module';
import { isAbsolute, resolve, dirname, join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { PLUGIN_KINDS, type PluginDef, type PluginKind } from '../api.js';
import { compileConfigSchema, compileOwnSchema, type ValidateFn } from '../spec/ajv.js';

export class RegisteredPlugin {
  private compiled: ValidateFn | undefined;
  constructor(
    readonly def: PluginDef,
    /** Where it came from: `built-in` or the module specifier. */
    readonly from: string,
  ) {}

  /**
   * The validator of `with:` (applies defaults), compiled on first use and kept: a run compiles the
   * schemas of the plugins its spec names, not of every registered one (each costs milliseconds of
   * ajv code generation at start-up, in the main thread and in every worker).
   */
  get validate(): ValidateFn {
    // a built-in's schema is checked against the meta-schema by the conformance test, a module's here
    return (this.compiled ??= this.from === 'built-in' ? compileOwnSchema(this.def.schema) : compileConfigSchema(this.def.schema));
  }
}

/** Loads a declared plugin's definition (a dynamic import of its module). */
export type PluginLoader = () => Promise<PluginDef>;

interface Declared {
  load: PluginLoader;
  from: string;
}

export class Registry {
  private readonly byKind = new Map<PluginKind, Map<string, RegisteredPlugin>>(PLUGIN_KINDS.map((k) => [k, new Map()]));
  /** Declared plugins not loaded yet (see `declare`). */
  private readonly declared = new Map<PluginKind, Map<string, Declared>>(PLUGIN_KINDS.map((k) => [k, new Map()]));

  register(def: PluginDef, from = 'built-in'): void {
    const problem = describeInvalidDef(def);
    if (problem) throw new Error(`${from}: not a valid plugin: ${problem}`);
    const kindMap = this.byKind.get(def.kind)!;
    const existing = kindMap.get(def.name);
    if (existing && existing.def !== def) {
      throw new Error(`${from}: a ${def.kind} plugin named '${def.name}' is already registered (from ${existing.from})`);
    }
    const pending = this.declared.get(def.kind)!.get(def.name);
    if (pending && pending.from !== from) {
      throw new Error(`${from}: a ${def.kind} plugin named '${def.name}' is already registered (from ${pending.from})`);
    }
    const entry = new RegisteredPlugin(def, from);
    // A module's schema is compiled now, so a broken one is reported against the module that brought
    // it; the built-ins' schemas (tested) compile when a spec first uses them.
    if (from !== 'built-in') void entry.validate;
    kindMap.set(def.name, entry);
  }

  /**
   * Declare a plugin without loading its module: `load` registers it (from `from`) when a spec
   * first names it. Until then `get` does not return it; `has` and `declaredNames` know it.
   */
  declare(kind: PluginKind, name: string, load: PluginLoader, from = 'built-in'): void {
    if (this.has(kind, name)) throw new Error(`${from}: a ${kind} plugin named '${name}' is already registered`);
    this.declared.get(kind)!.set(name, { load, from });
  }

  /** The plugin, registering it first if it was only declared; undefined when neither. */
  async load(kind: PluginKind, name: string): Promise<RegisteredPlugin | undefined> {
    const loaded = this.get(kind, name);
    if (loaded) return loaded;
    const pending = this.declared.get(kind)?.get(name);
    if (!pending) return undefined;
    const def = await pending.load();
    if (def.kind !== kind || def.name !== name) {
      throw new Error(`${pending.from}: the module declared as ${kind} '${name}' holds ${def.kind} '${def.name}'`);
    }
    this.register(def, pending.from);
    this.declared.get(kind)!.delete(name);
    return this.get(kind, name);
  }

  /** Register every declared plugin (for the commands that list or document them all). */
  async loadAll(): Promise<this> {
    for (const [kind, m] of this.declared) for (const name of [...m.keys()]) await this.load(kind, name);
    return this;
  }

  get(kind: PluginKind, name: string): RegisteredPlugin | undefined {
    return this.byKind.get(kind)?.get(name);
  }

  /** Whether a plugin of this kind and name is registered or declared. */
  has(kind: PluginKind, name: string): boolean {
    return this.byKind.get(kind)!.has(name) || this.declared.get(kind)!.has(name);
  }

  /** The names of the registered plugins of a kind. */
  names(kind: PluginKind): string[] {
    return [...this.byKind.get(kind)!.keys()].sort();
  }

  /** The names of the registered and the declared plugins of a kind. */
  declaredNames(kind: PluginKind): string[] {
    return [...new Set([...this.byKind.get(kind)!.keys(), ...this.declared.get(kind)!.keys()])].sort();
  }

  all(): RegisteredPlugin[] {
    return PLUGIN_KINDS.flatMap((k) => [...this.byKind.get(k)!.values()].sort((a, b) => a.def.name.localeCompare(b.def.name)));
  }

  /** Plugins of any kind with this name (for `sluice plugins NAME`). */
  find(name: string): RegisteredPlugin[] {
    return this.all().filter((p) => p.def.name === name);
  }

  clone(): Registry {
    const r = new Registry();
    for (const [kind, m] of this.byKind) for (const [name, p] of m) r.byKind.get(kind)!.set(name, p);
    for (const [kind, m] of this.declared) for (const [name, d] of m) r.declared.get(kind)!.set(name, d);
    return r;
  }
}

export function describeInvalidDef(def: unknown): string | undefined {
  if (!def || typeof def !== 'object') return 'expected an object';
  const d = def as Partial<PluginDef>;
  if (typeof d.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(d.name)) return `name must be lower-case kebab-case, got ${JSON.stringify(d.name)}`;
  if (!PLUGIN_KINDS.includes(d.kind as PluginKind)) return `kind must be one of ${PLUGIN_KINDS.join(', ')}, got ${JSON.stringify(d.kind)}`;
  if (typeof d.summary !== 'string' || !d.summary) return 'summary is required';
  if (!d.schema || typeof d.schema !== 'object') return 'schema (JSON Schema of with:) is required';
  if (typeof d.create !== 'function') return 'create(config, ctx) is required';
  for (const field of ['reasons', 'configCodes'] as const) {
    const codes: unknown = d[field];
    if (codes === undefined) continue;
    if (!codes || typeof codes !== 'object' || Array.isArray(codes)) return `${field} must map codes to descriptions`;
    for (const [code, what] of Object.entries(codes)) {
      if (!CODE.test(code)) return `${field}: '${code}' is not an UPPER_SNAKE code`;
      if (typeof what !== 'string' || !what) return `${field}: '${code}' needs a description`;
    }
  }
  return undefined;
}

/** A plugin's reason or check code: UPPER_SNAKE. */
const CODE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

/** Pull plugin definitions out of a loaded module: default export (one or an array) or a `plugins` export. */
export function pluginsOfModule(mod: Record<string, unknown>): unknown[] {
  const found: unknown[] = [];
  const add = (x: unknown) => (Array.isArray(x) ? found.push(...x) : x !== undefined && found.push(x));
  add(mod.default);
  add(mod.plugins);
  if (!found.length) add(mod.plugin);
  return found;
}

/** Resolve a `plugins:` entry: a relative or absolute path is taken from the spec's folder, anything else is a package name. */
export function resolvePluginModule(specifier: string, specFile: string): string {
  const base = dirname(resolve(specFile));
  if (specifier.startsWith('.') || isAbsolute(specifier)) return pathToFileURL(resolve(base, specifier)).href;
  return pathToFileURL(resolvePackage(specifier, base)).href;
}

/**
 * Find a package as `import` would from the spec's folder: the nearest `node_modules/<name>`, then
 * its `exports` (conditions `import`, `node`, `default`) or `main`. Written out because Node 20's
 * `require.resolve` ignores import-only packages and `import.meta.resolve` cannot take a parent.
 */
function resolvePackage(specifier: string, from: string): string {
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  const subpath = '.' + specifier.slice(name.length);
  for (let dir = from; ; dir = dirname(dir)) {
    const pkgDir = join(dir, 'node_modules', name);
    if (existsSync(join(pkgDir, 'package.json'))) {
      const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { exports?: unknown; main?: string };
      const target = pkg.exports !== undefined ? exportTarget(pkg.exports, subpath) : subpath === '.' ? (pkg.main ?? 'index.js') : subpath;
      if (!target) throw new Error(`package '${name}' does not export '${subpath}'`);
      return join(pkgDir, target);
    }
    if (dirname(dir) === dir) break;
  }
  // Not beside the spec: fall back to packages installed with sluice itself.
  return createRequire(import.meta.url).resolve(specifier);
}

function exportTarget(exports: unknown, subpath: string): string | undefined {
  const isSubpathMap = typeof exports === 'object' && exports !== null && Object.keys(exports).some((k) => k.startsWith('.'));
  const entry = isSubpathMap ? (exports as Record<string, unknown>)[subpath] : subpath === '.' ? exports : undefined;
  const pick = (e: unknown): string | undefined => {
    if (typeof e === 'string') return e;
    if (Array.isArray(e)) return e.map(pick).find(Boolean);
    if (e && typeof e === 'object') {
      for (const c of ['import', 'node', 'default']) if (c in e) return pick((e as Record<string, unknown>)[c]);
    }
    return undefined;
  };
  return pick(entry);
}

export async function loadPluginModule(registry: Registry, specifier: string, specFile: string): Promise<PluginDef[]> {
  const url = resolvePluginModule(specifier, specFile);
  const mod = (await import(url)) as Record<string, unknown>;
  const defs = pluginsOfModule(mod);
  if (!defs.length) throw new Error(`module '${specifier}' exports no plugin (export default definePlugin({...}) or an array of them)`);
  for (const d of defs) registry.register(d as PluginDef, specifier);
  return defs as PluginDef[];
}
