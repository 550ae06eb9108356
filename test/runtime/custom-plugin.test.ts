import { describe, it, expect } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

describe('third-party plugins', () => {
  it('loads a plugin module named by the spec (path relative to the spec) and runs it', async () => {
    const dir = tempDir('custom-');
    writeFileSync(join(dir, 'in.log'), 'hello\nworld\n');
    const spec = resolve(import.meta.dirname, '../fixtures/plugins/upper-spec.yaml');
    const res = await runCli(['run', spec, '--var', `IN=${dir}/in.log`, '--var', `OUT=${dir}/out.jsonl`, '--log-level', 'warn']);
    expect(res.code).toBe(0);
    const msgs = readFileSync(join(dir, 'out.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).message);
    expect(msgs).toEqual(['HELLO', 'WORLD']);
  });

  it('loads a plugin package by name (an ESM-only package beside the spec), and the stdout sink prints its records', async () => {
    const dir = tempDir('pkg-');
    writeFileSync(join(dir, 'in.log'), 'abc\nxyz\n');
    const spec = resolve(import.meta.dirname, '../fixtures/plugins/package-spec.yaml');
    const res = await runCli(['run', spec, '--var', `IN=${dir}/in.log`, '--log-level', 'warn']);
    expect(res.code).toBe(0);
    // Records on stdout, one JSON line each; the summary goes to stderr when a stdout sink is used.
    expect(
      res.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).message),
    ).toEqual(['cba', 'zyx']);
    expect(res.stderr).toContain('pipeline package-plugin');
    expect(res.stderr).toMatch(/out +2 records → standard output/);
  });

  it('a spec loads nothing it does not name: an unlisted plugin is unknown', async () => {
    const dir = tempDir('custom-');
    writeFileSync(
      join(dir, 'spec.yaml'),
      `version: 1
nodes:
  src: { source: file, with: { paths: [x] } }
  up: { transform: upper-case, from: src, with: { field: message } }
  out: { sink: stdout, from: [up, src.invalid] }
`,
    );
    const res = await runCli(['validate', join(dir, 'spec.yaml')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("SLUICE_E_UNKNOWN_PLUGIN unknown transform plugin 'upper-case'");
  });

  it('reports a plugin module that cannot be loaded, at its line', async () => {
    const dir = tempDir('custom-');
    writeFileSync(
      join(dir, 'spec.yaml'),
      `version: 1
plugins:
  - ./missing-plugin.mjs
nodes:
  src: { source: file, with: { paths: [x] } }
  out: { sink: stdout, from: [src, src.invalid] }
`,
    );
    const res = await runCli(['validate', join(dir, 'spec.yaml')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/spec\.yaml:3:5 SLUICE_E_PLUGIN_LOAD/);
  });
});
