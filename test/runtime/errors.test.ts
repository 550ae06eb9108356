import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { PluginDef, Rec } from '../../src/api.js';
import { ERRORS } from '../../src/errors.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { loadSpec } from '../../src/spec/validate.js';
import { runPipeline } from '../../src/runtime/run.js';
import { RunError } from '../../src/runtime/run-error.js';
import type { RunSummary } from '../../src/runtime/summary.js';
import { testContext } from '../helpers/harness.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-errors-'));
  writeFileSync(join(dir, 'in.log'), 'a\nb\nc\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const boom = (what: string) => () => {
  throw new Error(`${what} (test)`);
};

/** Fake plugins that fail where their `with: { at }` says; registered in this process only. */
const fakes: PluginDef[] = [
  {
    name: 'fake-failing-transform',
    kind: 'transform',
    summary: 'Fails at create, prepare, process or finish (test fake).',
    schema: { type: 'object', properties: { at: { type: 'string' } } },
    prepare: (c: { at?: string }) => (c.at === 'prepare' ? boom('feed unreachable')() : {}),
    create: (c: { at?: string }) => {
      if (c.at === 'create') boom('cannot open')();
      return {
        process: c.at === 'process' ? boom('bad record') : (r: Rec[]) => ({ out: r }),
        finish: c.at === 'finish' ? boom('cannot close window') : () => ({}),
      };
    },
  },
  {
    name: 'fake-failing-sink',
    kind: 'sink',
    summary: 'Fails at write or flush, not transiently (test fake).',
    schema: { type: 'object', properties: { at: { type: 'string' } } },
    create: (c: { at?: string }) => ({
      write: c.at === 'write' ? boom('disk full') : () => undefined,
      flush: async () => (c.at === 'flush' ? boom('fsync failed')() : undefined),
      close: async () => undefined,
    }),
  },
];

async function runWith(transformAt: string, sinkAt: string): Promise<RunError & { summary?: RunSummary }> {
  const registry = builtinRegistry();
  for (const d of fakes) registry.register(d);
  const text = `version: 1
name: errors
nodes:
  src: { source: file, with: { paths: ["${dir}/in.log"] } }
  t: { transform: fake-failing-transform, from: src, with: { at: ${transformAt} } }
  out: { sink: fake-failing-sink, from: [t, src.invalid], with: { at: ${sinkAt} } }
`;
  const { spec, issues } = await loadSpec(join(dir, 'spec.yaml'), { text, registry });
  expect(issues).toEqual([]);
  return runPipeline(spec!, { stateDir: dir, logger: testContext().logger }).then(
    () => expect.unreachable('the run should fail'),
    (e) => e,
  );
}

describe('every error a run fails with has a code and names its node', () => {
  it.each([
    ['prepare', 'none', 'SLUICE_E_PREPARE', 't', "node 't': prepare failed: feed unreachable (test)"],
    ['create', 'none', 'SLUICE_E_CREATE', 't', "node 't': cannot open (test)"],
    ['process', 'none', 'SLUICE_E_RUNTIME', 't', "node 't': bad record (test)"],
    ['finish', 'none', 'SLUICE_E_RUNTIME', 't', "node 't': finish failed: cannot close window (test)"],
    ['none', 'write', 'SLUICE_E_RUNTIME', 'out', "node 'out': disk full (test)"],
    ['none', 'flush', 'SLUICE_E_SINK_FLUSH', 'out', "node 'out': flush failed: fsync failed (test)"],
  ])('a transform failing at %s / a sink at %s: %s', async (tAt, sAt, code, node, message) => {
    const err = await runWith(tAt, sAt);
    expect(err).toBeInstanceOf(RunError);
    expect(err).toMatchObject({ code, node, message });
    expect(ERRORS).toHaveProperty(code);
    expect((err.cause as Error).message).toMatch(/\(test\)$/);
    // a failure once the data moves still reports what the run did
    if (code === 'SLUICE_E_RUNTIME' || code === 'SLUICE_E_SINK_FLUSH') expect(err.summary?.pipeline).toBe('errors');
  });

  describe('in worker threads', () => {
    let spec: string;
    beforeAll(() => {
      // A module of fake plugins (plain objects: a module need not import sluice).
      const mod = join(dir, 'fakes.mjs');
      writeFileSync(
        mod,
        `const at = { type: 'string', description: 'Where to fail (test fake).' };
export default [
  { name: 'fake-pass', kind: 'transform', parallel: 'any', summary: 'Passes records (test fake).',
    schema: { type: 'object', additionalProperties: false, properties: {} }, create: () => ({ process: (r) => ({ out: r }) }) },
  { name: 'fake-failing', kind: 'transform', parallel: 'any', summary: 'Fails where told (test fake).',
    schema: { type: 'object', additionalProperties: false, properties: { at } },
    create(c) {
      if (c.at === 'create') throw new Error('cannot open (test)');
      return { process(r) { if (c.at === 'process') throw new Error('bad record (test)'); return { out: r }; } };
    } },
];
`,
      );
      spec = join(dir, 'workers.yaml');
      writeFileSync(
        spec,
        `version: 1
name: worker-errors
plugins: [./fakes.mjs]
settings: { workers: 2 }
nodes:
  src: { source: file, with: { paths: ["${dir}/in.log"] } }
  a: { transform: fake-pass, from: src }
  b: { transform: fake-failing, from: a, with: { at: "\${AT}" } }
  out: { sink: file, from: b, with: { path: "${dir}/out.jsonl" } }
`,
      );
    });

    it('a plugin failing in a worker chain is named alone, with its code; the CLI prints the code', async () => {
      const p = await runCli(['run', spec, '--var', 'AT=process', '--log-level', 'silent']);
      expect(p.code).toBe(1);
      expect(p.stderr).toContain("sluice: run failed: node 'b': bad record (test) [SLUICE_E_RUNTIME]");
      const c = await runCli(['run', spec, '--var', 'AT=create', '--log-level', 'silent']);
      expect(c.code).toBe(1);
      expect(c.stderr).toContain("sluice: run failed: node 'b': cannot open (test) [SLUICE_E_CREATE]");
    });
  });
});
