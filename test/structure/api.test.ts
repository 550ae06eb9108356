/** The public API is documented: docs/plugin-api.md names every export of src/api.ts and its version. */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { API_VERSION } from '../../src/api.js';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

/** Names exported by a module's text: declarations and `export { a, type B } from` lists. */
function exportedNames(text: string): string[] {
  const names = [...text.matchAll(/^export (?:const|function|interface|type|class) ([A-Za-z0-9_]+)/gm)].map((m) => m[1]!);
  for (const m of text.matchAll(/^export (?:type )?\{([^}]*)\}/gm)) {
    names.push(
      ...m[1]!
        .split(',')
        .map((s) =>
          s
            .trim()
            .replace(/^type /, '')
            .split(' as ')
            .pop()!
            .trim(),
        )
        .filter(Boolean),
    );
  }
  return [...new Set(names)].sort();
}

describe('the public API', () => {
  const doc = read('docs/plugin-api.md');

  it('docs/plugin-api.md names every export of src/api.ts', () => {
    const names = exportedNames(read('src/api.ts'));
    expect(names).toContain('definePlugin');
    expect(names).toContain('getPath');
    expect(names.filter((n) => !doc.includes(`\`${n}\``) && !doc.includes(`\`${n}(`))).toEqual([]);
  });

  it('states the version that src/api.ts exports', () => {
    expect(doc).toContain(`**Version ${API_VERSION}**`);
  });

  it('keeps runtime and built-in helpers out of it', () => {
    const names = exportedNames(read('src/api.ts'));
    for (const internal of ['parallelOf', 'portsOf', 'batchSize', 'linesToRecords', 'zeroRun', 'groupsToString', 'schemaValidator', 'addLogicOperation']) {
      expect(names).not.toContain(internal);
    }
  });
});
