/** The build stamp that lets the test set-up refuse a stale dist/ (scripts/build-stamp.mjs). */
import { describe, it, expect } from 'vitest';
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildInputs, sourceHash, staleReason, writeStamp } from '../../scripts/build-stamp.mjs';
import { tempDir } from '../helpers/tmp.js';

function tree(): string {
  const root = tempDir('stamp-');
  for (const d of ['src', 'plugins/x', 'schemas', 'bench/data', 'dist']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'src/a.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, 'src/a.test.ts'), 'test\n');
  writeFileSync(join(root, 'plugins/x/index.ts'), 'export default {};\n');
  writeFileSync(join(root, 'schemas/s.json'), '{}\n');
  writeFileSync(join(root, 'bench/data/big.log'), 'generated\n');
  writeFileSync(join(root, 'tsconfig.json'), '{}\n');
  return root;
}

describe('build stamp', () => {
  it('covers what the build reads: sources, schemas, compiler settings; not tests or generated bench data', () => {
    expect(buildInputs(tree())).toEqual(['plugins/x/index.ts', 'schemas/s.json', 'src/a.ts', 'tsconfig.json']);
  });

  it('is fresh after a build, stale after a source, schema or settings change, and missing before any build', () => {
    const root = tree();
    expect(staleReason(root)).toMatch(/no build stamp/);
    writeStamp(root);
    expect(staleReason(root)).toBeUndefined();
    writeFileSync(join(root, 'src/a.ts'), 'export const a = 2;\n');
    expect(staleReason(root)).toMatch(/sources changed since dist\/ was built/);
    writeStamp(root);
    writeFileSync(join(root, 'schemas/s.json'), '{"type":"object"}\n');
    expect(staleReason(root)).toMatch(/sources changed/);
    writeStamp(root);
    rmSync(join(root, 'plugins/x/index.ts'));
    expect(staleReason(root)).toMatch(/sources changed/);
  });

  it('depends on contents, not times: touching a file or editing a test leaves it fresh', () => {
    const root = tree();
    writeStamp(root);
    const before = sourceHash(root);
    utimesSync(join(root, 'src/a.ts'), new Date(), new Date(Date.now() + 60_000));
    writeFileSync(join(root, 'src/a.test.ts'), 'another test\n');
    expect(sourceHash(root)).toBe(before);
    expect(staleReason(root)).toBeUndefined();
  });
});
