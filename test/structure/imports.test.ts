/**
 * Which module may import which: the direction docs/ARCHITECTURE.md draws ("Import direction"),
 * checked over every import and re-export (type-only ones too) of `src/` and `plugins/`.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

/** The repository paths (`src/api.ts`) a file imports or re-exports from, statically or with `import()`. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  const patterns = [/\b(?:import|export)\s[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s*['"]([^'"]+)['"]/gm];
  for (const re of patterns) for (const m of text.matchAll(re)) specs.push(m[1]!);
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) =>
      relative(ROOT, resolve(dirname(file), s))
        .split('\\')
        .join('/')
        .replace(/\.js$/, '.ts'),
    );
}

type Layer = 'cli' | 'testing' | 'observe' | 'runtime' | 'spec' | 'graph' | 'registry' | 'log' | 'api' | 'internal' | 'foundation' | 'plugins' | 'outside';

/** The layer of a repository path. */
function layerOf(path: string): Layer {
  if (path.startsWith('plugins/')) return 'plugins';
  if (!path.startsWith('src/')) return 'outside';
  if (path === 'src/api.ts') return 'api';
  if (path === 'src/internal.ts') return 'internal';
  // The one ajv set-up imports nothing of sluice: everything may use it.
  if (path === 'src/spec/ajv.ts') return 'foundation';
  const dir = path.split('/')[1]!;
  if (dir === 'plugins') return 'registry';
  if (dir === 'cli' || dir === 'testing' || dir === 'observe' || dir === 'runtime' || dir === 'spec' || dir === 'graph' || dir === 'log') return dir;
  return 'foundation'; // record.ts, errors.ts, cow-paths.ts, net/, logic/, util/
}

/** What each layer may import besides itself. */
const MAY_IMPORT: Record<Exclude<Layer, 'outside'>, readonly Layer[]> = {
  cli: ['testing', 'observe', 'runtime', 'spec', 'graph', 'registry', 'log', 'api', 'foundation'],
  // Watching a run from outside: the runtime's observer types, the graph's layout; no spec loading.
  observe: ['runtime', 'graph', 'registry', 'api', 'foundation'],
  // sluice test: compiles specs and runs them through the runtime
  testing: ['runtime', 'spec', 'graph', 'registry', 'log', 'api', 'foundation'],
  runtime: ['graph', 'registry', 'log', 'api', 'foundation'],
  spec: ['graph', 'registry', 'api', 'foundation'],
  graph: ['registry', 'api', 'foundation'],
  registry: ['api', 'foundation'],
  log: ['api', 'foundation'],
  internal: ['api', 'foundation'],
  api: ['foundation'],
  foundation: [],
  plugins: ['api', 'internal'],
};

/** The only modules of src/ that load plugins/, and why. */
const LOADS_BUILTINS: Record<string, string> = {
  'src/plugins/builtins.ts': 'the built-in registry: imports the list plugins/index.ts',
  'src/plugins/declared-builtins.ts': "the CLI's registry: imports a built-in's module when a spec names it",
  'src/spec/precompile.ts': "the build step that generates validators for the built-ins' schemas",
};

/** The folder of the plugin a path belongs to (`plugins/analyse/rules`), or undefined for plugins/index.ts. */
const pluginFolder = (path: string): string | undefined => {
  const parts = path.split('/');
  return parts.length > 3 ? parts.slice(0, 3).join('/') : undefined;
};

function offenders(): string[] {
  const out: string[] = [];
  for (const file of [...files(join(ROOT, 'src')), ...files(join(ROOT, 'plugins'))]) {
    const from = relative(ROOT, file).split('\\').join('/');
    const fromLayer = layerOf(from) as Exclude<Layer, 'outside'>;
    for (const to of importsOf(file)) {
      const toLayer = layerOf(to);
      if (fromLayer === 'plugins') {
        if (to.startsWith('schemas/') && to.endsWith('.json')) continue; // published data, not code
        if (toLayer === 'plugins') {
          const home = pluginFolder(from);
          // plugins/index.ts lists every plugin; a plugin imports only inside its own folder
          if (home === undefined ? /^plugins\/[a-z]+\/[a-z0-9-]+\/index\.ts$/.test(to) : pluginFolder(to) === home) continue;
          out.push(`${from} → ${to}: a plugin imports only from its own folder (share code through src/internal.ts)`);
          continue;
        }
      } else if (toLayer === 'plugins') {
        if (LOADS_BUILTINS[from]) continue;
        out.push(`${from} → ${to}: nothing in src/ imports plugins/ but ${Object.keys(LOADS_BUILTINS).join(' and ')}`);
        continue;
      }
      if (toLayer === fromLayer || (toLayer !== 'outside' && MAY_IMPORT[fromLayer].includes(toLayer))) continue;
      out.push(`${from} (${fromLayer}) → ${to} (${toLayer})`);
    }
  }
  return out;
}

describe('import direction', () => {
  it('holds for every module of src/ and plugins/ (cli → runtime → graph → registry → api; plugins → api, internal)', () => {
    expect(offenders()).toEqual([]);
  });

  it('the scanner sees imports, re-exports, type-only and multi-line imports and import()', () => {
    const seen = importsOf(join(ROOT, 'src/internal.ts'));
    expect(seen).toContain('src/net/ip.ts');
    expect(seen).toContain('src/cow-paths.ts');
    expect(importsOf(join(ROOT, 'src/api.ts'))).toContain('src/errors.ts');
    expect(importsOf(join(ROOT, 'plugins/index.ts'))).toContain('plugins/analyse/ioc-sweep/index.ts');
    expect(importsOf(join(ROOT, 'plugins/analyse/window/index.ts'))).toContain('src/api.ts'); // a multi-line import
  });

  it('would catch a plugin reaching into another plugin or into src/ beyond api/internal', () => {
    expect(layerOf('src/runtime/run.ts')).toBe('runtime');
    expect(MAY_IMPORT.plugins).not.toContain('foundation');
    expect(pluginFolder('plugins/transform/set/cow.ts')).toBe('plugins/transform/set');
    expect(pluginFolder('plugins/analyse/rules/operations.ts')).not.toBe(pluginFolder('plugins/transform/set/index.ts'));
  });
});
