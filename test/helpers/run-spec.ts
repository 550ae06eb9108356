/**
 * Runs of a spec file written by a test: loaded with the built-in plugins and `OUT` set to an output
 * directory (the spec may name `${OUT}/…` paths), checked to have no error, and run with its state
 * under that directory and the test logger.
 */
import { expect } from 'vitest';
import { join } from 'node:path';
import type { CompiledSpec } from '../../src/graph/build.js';
import { loadSpec } from '../../src/spec/validate.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { runPipeline, type RunOptions } from '../../src/runtime/run.js';
import type { RunSummary } from '../../src/runtime/summary.js';
import { testContext } from './harness.js';

/** The spec at `file`, compiled with `OUT` = `out`; fails the test on any error. */
export async function loadTestSpec(file: string, out: string): Promise<CompiledSpec> {
  const { spec, issues } = await loadSpec(file, { registry: builtinRegistry(), vars: { OUT: out } });
  expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
  return spec!;
}

/** Run the spec at `file` with its outputs and state under `out`. */
export async function runTestSpec(file: string, out: string, o: Partial<RunOptions> = {}): Promise<RunSummary> {
  return runPipeline(await loadTestSpec(file, out), { stateDir: join(out, 'state'), logger: testContext().logger, ...o });
}

/** A node's entry in a run summary. */
export const nodeOf = (s: RunSummary, name: string) => s.nodes.find((x) => x.node === name)!;
