import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type * as Yaml from 'yaml';

const ROOT = resolve(import.meta.dirname, '../..');
const PACK = resolve(ROOT, 'dist/vendor/yaml.cjs');
const require = createRequire(import.meta.url);
const yaml = require('yaml') as typeof Yaml;

const SAMPLES = [
  'version: 1\nnodes:\n  a: { source: file, with: { paths: ["${LOGS}"] } }\n',
  '- 1\n- [2, 3]\n- {x: y}\n- &anchor "quoted"\n- *anchor\n',
  'a: 1\n a: 2\n', // bad indentation
  'k: v\nk: w\n', // duplicate key
  'multi: |\n  line one\n  line two\nfolded: >-\n  a\n  b\n',
];

describe('the packed yaml library (dist/vendor/yaml.cjs, npm run build)', () => {
  it('is built, from the installed version of yaml', () => {
    expect(existsSync(PACK)).toBe(true);
    const version = (JSON.parse(readFileSync(require.resolve('yaml/package.json'), 'utf8')) as { version: string }).version;
    expect(readFileSync(PACK, 'utf8').split('\n', 2)[1]).toContain(`yaml ${version},`);
  });

  it('exports what the package exports and parses as it does: values, errors, positions', () => {
    const packed = require(PACK) as typeof Yaml;
    expect(Object.keys(packed).sort()).toEqual(Object.keys(yaml).sort());
    for (const text of SAMPLES) {
      const [a, b] = [packed, yaml].map((lib) => {
        const lc = new lib.LineCounter();
        const doc = lib.parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
        return { js: doc.toJS(), errors: doc.errors.map((e) => [e.code, e.pos]), out: doc.errors.length ? '' : doc.toString(), lines: lc.lineStarts };
      });
      expect(a).toEqual(b);
    }
    // node types are told apart by global symbols, so nodes of either copy pass the other's checks
    expect(packed.isMap(yaml.parseDocument('a: 1').contents)).toBe(true);
    expect(yaml.isSeq(packed.parseDocument('[1]').contents)).toBe(true);
  });
});
