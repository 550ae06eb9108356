/**
 * `sluice test SPEC…`: run the tests of pipelines (their `tests:` and NAME.test.yaml) in memory.
 * Exit codes: 0 every test passed, 1 a test failed (or none ran), 2 a spec or test file is broken.
 */
import type * as Commander from 'commander';
import { declaredBuiltinRegistry } from '../plugins/declared-builtins.js';
import { formatIssue } from '../errors.js';
import { requirePackage } from '../util/require-package.js';
// the test harness loads when `sluice test` runs, not with every command (start-up time of `sluice run`)
import type { TestTarget } from '../testing/load.js';
import type { Totals } from '../testing/report.js';

const { Option } = requirePackage('commander') as typeof Commander;

function collectVars(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new Error(`--var expects NAME=value, got '${value}'`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function registerTestCommand(program: Commander.Command): void {
  program
    .command('test')
    .description("Run pipeline tests (a spec's tests: and NAME.test.yaml beside it) in memory, with no services")
    .argument('<spec...>', 'pipeline YAML files or their NAME.test.yaml files')
    .option('--filter <text>', 'run only tests whose name contains this text (case-insensitive)')
    .option('--show', 'print the records each expectation looked at (JSON lines), to write or fix a test')
    .option('--var <NAME=value>', 'set a ${NAME} variable (repeatable)', collectVars, {})
    .option('--timeout <ms>', 'stop a test that runs longer than this', (v) => Number(v), 60_000)
    .addOption(new Option('--log-level <level>', 'log level of the plugins under test').choices(['debug', 'info', 'warn', 'error', 'silent']).default('error'))
    .action(async (args: string[], opts) => {
      const started = Date.now();
      const { loadPipelineTests, targetKey, targetOf } = await import('../testing/load.js');
      const { runTest } = await import('../testing/run.js');
      const { createLogger } = await import('../log/logger.js');
      const { colourStyle, formatCaptured, formatResult, formatSummary, plainStyle, rel } = await import('../testing/report.js');
      const style = process.stdout.isTTY && !process.env.NO_COLOR ? colourStyle : plainStyle;
      const filter = typeof opts.filter === 'string' ? opts.filter.toLowerCase() : undefined;
      const targets = new Map<string, TestTarget>();
      for (const a of args) {
        const t = targetOf(a);
        targets.set(targetKey(t), t);
      }
      if (!(opts.timeout > 0)) {
        process.stderr.write(`sluice test: --timeout expects milliseconds, got '${opts.timeout}'\n`);
        process.exit(2);
      }
      const totals: Totals = { passed: 0, failed: 0, pipelines: 0, broken: 0, filteredOut: 0, elapsedMs: 0 };
      const out = (s: string) => process.stdout.write(s + '\n');

      const seen = new Set<string>();
      for (const target of targets.values()) {
        const specFile = target.specFile;
        const loaded = await loadPipelineTests(target, { vars: opts.var, registry: declaredBuiltinRegistry() });
        const errors = loaded.issues.filter((i) => i.severity === 'error');
        const heading = target.inline
          ? rel(specFile) + (loaded.testFile ? ` (+ ${rel(loaded.testFile)})` : '')
          : `${rel(loaded.testFile!)} (for ${rel(specFile)})`;
        if (errors.length || !loaded.spec) {
          totals.broken++;
          for (const i of errors) process.stderr.write(formatIssue({ ...i, file: rel(i.file) }) + '\n');
          out(`${heading}: ${style.fail(`${errors.length} error${errors.length === 1 ? '' : 's'}`)}, tests not run`);
          continue;
        }
        seen.add(specFile);
        totals.pipelines = seen.size;
        out(heading);
        const chosen = filter ? loaded.tests.filter((t) => t.name.toLowerCase().includes(filter)) : loaded.tests;
        totals.filteredOut += loaded.tests.length - chosen.length;
        if (!loaded.tests.length) out(`  ${style.dim('no tests: add a tests: list to the spec or a NAME.test.yaml beside it')}`);
        const logger = createLogger(opts.logLevel, loaded.spec.secrets);
        for (const t of chosen) {
          const r = await runTest(loaded.spec, t, { logger, timeoutMs: opts.timeout });
          if (r.ok) totals.passed++;
          else totals.failed++;
          out(formatResult(r, style));
          if (opts.show) out(formatCaptured(r, style));
        }
      }
      totals.elapsedMs = Date.now() - started;
      out('');
      out(formatSummary(totals, style));
      if (totals.broken) process.exit(2);
      if (totals.failed) process.exit(1);
      if (totals.passed === 0) {
        process.stderr.write(`sluice test: no test ran${filter ? ` (none matches --filter '${opts.filter}')` : ''}\n`);
        process.exit(1);
      }
      process.exit(0);
    });
}
