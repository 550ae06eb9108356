/**
 * Start-up overlap (src/runtime/run.ts): sources without a `prepare` are created while the
 * prepares run — a kafka source joins its group while the feeds load — but run() only once every
 * prepare is done; a failing prepare closes the sources created meanwhile. Test plugins loaded by
 * path (test/fixtures/plugins/early-source.mjs, early-wait.mjs).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const plugins = ['early-source.mjs', 'early-wait.mjs'].map((f) => resolve(import.meta.dirname, '../fixtures/plugins', f));

function setup(fail: boolean): { dir: string; spec: string } {
  const dir = tempDir('early-');
  const spec = join(dir, 'spec.yaml');
  writeFileSync(
    spec,
    `version: 1
name: early
plugins: ${JSON.stringify(plugins)}
settings: { workers: 1 }
nodes:
  src: { source: early-source, with: { closed: "${dir}/closed" } }
  wait: { transform: early-wait, from: src, with: { fail: ${fail} } }
  out: { sink: file, from: wait, with: { path: "${dir}/out.jsonl", mode: overwrite } }
`,
  );
  return { dir, spec };
}

describe('runtime: sources are created while the prepares run', () => {
  it('the source is created during the prepare, and run only after it', async () => {
    const { dir, spec } = setup(false);
    const res = await runCli(['run', spec, '--log-level', 'warn']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const recs = readFileSync(join(dir, 'out.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(recs).toEqual([{ message: 'x', prepared_at_create: false, prepared_at_run: true, saw_source_during_prepare: true }]);
    expect(existsSync(join(dir, 'closed'))).toBe(true);
  });

  it('a failing prepare fails the run and closes the source created meanwhile', async () => {
    const { dir, spec } = setup(true);
    const res = await runCli(['run', spec, '--log-level', 'warn']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('feed unreachable (test)');
    expect(existsSync(join(dir, 'closed'))).toBe(true);
    expect(existsSync(join(dir, 'out.jsonl'))).toBe(false);
  });
});
