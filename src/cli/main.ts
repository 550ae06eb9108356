#!/usr/bin/env node
/**
 * The `sluice` command. Exit codes: 0 success, 1 runtime failure, 2 bad spec or usage.
 */
import type * as Commander from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { declaredBuiltinRegistry } from '../plugins/declared-builtins.js';
import type { CompiledSpec } from '../graph/build.js';
import { formatIssue, type SpecIssue } from '../errors.js';
import { redact } from '../util/redact.js';
import { parseDuration } from '../util/duration.js';
import { requirePackage } from '../util/require-package.js';
// Loaded when a command or option needs them (start-up time of every run): the metrics server and
// status page, the progress bar, --top, node-cron, graph drawing, plugin docs, the schema generator;
// the spec loader (yaml) for the commands that read a spec; the runtime, the logger (pino) and the
// summary table (cli-table3) for `run` (`--version`, `validate`, `graph` do without them).
import type { Observing, RunMonitor } from '../observe/index.js';
import type { TopScreen } from './top.js';
import { registerReplay } from './replay.js';
import { registerTestCommand } from './test-command.js';

const { Command, InvalidArgumentError, Option } = requirePackage('commander') as typeof Commander;

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
export const PIPELINE_SCHEMA_PATH = join(root, 'schemas', 'pipeline.schema.json');

function collectVars(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new Error(`--var expects NAME=value, got '${value}'`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** `--workers`: an integer 1–64, or `auto`. */
function parseWorkers(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError("an integer from 1 to 64, or 'auto'");
  return n;
}

function printIssues(issues: SpecIssue[]): void {
  for (const i of issues) process.stderr.write(formatIssue(i) + '\n');
}

async function compile(file: string, vars: Record<string, string>): Promise<CompiledSpec | undefined> {
  const { loadSpec } = await import('../spec/validate.js');
  const { spec, issues } = await loadSpec(file, { vars, registry: declaredBuiltinRegistry() });
  printIssues(issues);
  if (!spec) {
    const n = issues.filter((i) => i.severity === 'error').length;
    process.stderr.write(`${file}: ${n} error${n === 1 ? '' : 's'}\n`);
  }
  return spec;
}

const program = new Command();
program
  .name('sluice')
  .description('Declarative pipelines for proxy-log threat detection.')
  .version(pkg.version)
  .showHelpAfterError()
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

program
  .command('run')
  .description('Run a pipeline (once, or on its schedule:)')
  .argument('<spec>', 'pipeline YAML file')
  .option('--var <NAME=value>', 'set a ${NAME} variable (repeatable)', collectVars, {})
  .option('--once', 'run once even if the spec has a schedule; drain caught-up streams and stop')
  .option('--workers <n>', "worker threads per parallel chain, overriding settings.workers (1: none; 'auto': the size rule)", parseWorkers)
  .option('--state-dir <dir>', 'where sources keep checkpoints', '.sluice/state')
  .option('--summary-json <file>', 'also write the run summary as JSON to this file')
  .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error', 'silent']).default('info'))
  .option('--no-progress', 'no progress line on a terminal')
  .option('--metrics <addr>', 'serve Prometheus metrics, /healthz and /readyz at HOST:PORT (e.g. 127.0.0.1:9464)')
  .option('--ui <addr>', 'serve the status page at HOST:PORT (the same address as --metrics serves both)')
  .option('--top', 'show per-node rates and queues live instead of the progress bar (sluice top, in this process)')
  .option('--linger <duration>', 'after a finite run, keep serving --metrics/--ui this long (e.g. 30s) for a last scrape or look; Ctrl-C ends it')
  .action(async (file: string, opts) => {
    const spec = await compile(file, opts.var);
    if (!spec) process.exit(2);
    if (opts.workers === 'auto') spec.settings.workers = 'auto';
    const [{ runPipeline }, { createLogger }, { renderSummary }] = await Promise.all([
      import('../runtime/run.js'),
      import('../log/logger.js'),
      import('./summary-table.js'),
    ]);
    const logger = createLogger(opts.logLevel, spec.secrets);
    let observing: Observing | undefined;
    let monitor: RunMonitor | undefined;
    let lingerMs = 0;
    try {
      if (opts.linger !== undefined) {
        try {
          lingerMs = parseDuration(opts.linger);
        } catch (err) {
          throw new Error(`--linger: ${(err as Error).message}`);
        }
      }
      const watched = opts.metrics !== undefined || opts.ui !== undefined;
      const obs = watched || opts.top ? await import('../observe/index.js') : undefined;
      for (const a of [opts.metrics, opts.ui]) if (a !== undefined) obs!.parseAddress(a);
      if (watched) {
        observing = await obs!.observe(spec, { metrics: opts.metrics, ui: opts.ui });
        monitor = observing.monitor;
        for (const l of observing.listening) {
          const what = l.features.map((f) => (f === 'ui' ? `status page ${l.url}/ui` : `metrics ${l.url}/metrics`)).join(', ');
          logger.info({ url: l.url, serves: l.features }, 'serving');
          if (process.stderr.isTTY && !opts.top) process.stderr.write(`sluice: ${what} (also /healthz /readyz /api/snapshot /tap)\n`);
        }
      } else if (opts.top) monitor = new obs!.RunMonitor(spec);
    } catch (err) {
      process.stderr.write(`sluice: ${(err as Error).message}\n`);
      process.exit(2);
    }
    const hasStdoutSink = [...spec.nodes.values()].some((n) => n.kind === 'sink' && n.plugin.def.name === 'stdout');
    const report = hasStdoutSink ? process.stderr : process.stdout;

    let stopping = false;
    let current: AbortController | undefined;
    const onSignal = (sig: string) => {
      if (stopping) {
        logger.error({ signal: sig }, 'second signal: exiting without draining');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal: sig }, 'stopping: draining in-flight batches, flushing sinks, committing');
      current?.abort();
      scheduler?.stop();
      if (!current) process.exit(0);
    };
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));

    const runOnce = async (): Promise<boolean> => {
      current = new AbortController();
      const progress = opts.progress && !opts.top && process.stderr.isTTY ? (await import('./progress.js')).createProgress(spec) : undefined;
      let top: { screen: TopScreen; timer: NodeJS.Timeout } | undefined;
      if (opts.top && monitor) {
        const m = monitor;
        const screen = (await import('./top.js')).topScreen(process.stderr, () => onSignal('SIGINT'));
        top = {
          screen,
          timer: setInterval(() => {
            if (!observing) m.tick();
            screen.draw(m.snapshot());
          }, 1000),
        };
      }
      const endTop = () => {
        if (!top || !monitor) return;
        clearInterval(top.timer);
        if (!observing) monitor.tick();
        top.screen.end(monitor.snapshot());
        top = undefined;
      };
      try {
        const summary = await runPipeline(spec, {
          stateDir: resolve(opts.stateDir),
          logger,
          signal: current.signal,
          once: !!opts.once,
          logLevel: opts.logLevel,
          onProgress: progress?.update,
          observer: monitor,
          workers: typeof opts.workers === 'number' ? opts.workers : undefined,
        });
        progress?.stop();
        endTop();
        report.write(renderSummary(summary) + '\n');
        if (opts.summaryJson) writeFileSync(opts.summaryJson, JSON.stringify(summary, null, 2));
        return true;
      } catch (err) {
        progress?.stop();
        endTop();
        const e = err as Error & { summary?: import('../runtime/summary.js').RunSummary; code?: unknown };
        logger.error({ err: redact(e.stack ?? String(e), spec.secrets) }, 'run failed');
        const code = typeof e.code === 'string' && e.code.startsWith('SLUICE_E_') ? ` [${e.code}]` : '';
        process.stderr.write(`sluice: run failed: ${redact(e.message, spec.secrets)}${code}\n`);
        if (e.summary) {
          report.write(renderSummary(e.summary) + '\n');
          if (opts.summaryJson) writeFileSync(opts.summaryJson, JSON.stringify(e.summary, null, 2));
        }
        return false;
      } finally {
        current = undefined;
      }
    };

    let scheduler: { stop(): void } | undefined;
    if (spec.schedule && !opts.once) {
      logger.info({ schedule: spec.schedule }, 'waiting for the schedule (Ctrl-C to stop)');
      const { scheduleWithoutOverlap } = await import('../runtime/schedule.js');
      await new Promise<void>((done) => {
        scheduler = scheduleWithoutOverlap(
          spec.schedule!,
          async () => {
            const ok = await runOnce();
            if (!ok) logger.warn({}, 'scheduled run failed; waiting for the next one');
            if (stopping) done();
          },
          () => logger.warn({ schedule: spec.schedule }, 'previous run still going: skipping this tick'),
        );
        process.on('SIGINT', () => !current && done());
        process.on('SIGTERM', () => !current && done());
      });
      await observing?.close();
      process.exit(0);
    }
    const ok = await runOnce();
    if (observing && lingerMs > 0 && !stopping) {
      logger.info({ ms: lingerMs }, 'run ended; still serving metrics and the status page (--linger)');
      if (process.stderr.isTTY) process.stderr.write(`sluice: run ended; serving for ${opts.linger} more (Ctrl-C to exit)\n`);
      await new Promise<void>((done) => {
        const t = setTimeout(done, lingerMs);
        const end = () => {
          clearTimeout(t);
          done();
        };
        process.removeAllListeners('SIGINT');
        process.removeAllListeners('SIGTERM');
        process.once('SIGINT', end);
        process.once('SIGTERM', end);
      });
    }
    await observing?.close();
    process.exit(ok ? 0 : 1);
  });

const addrOption = () => new Option('--addr <addr>', 'where the pipeline serves (its --metrics or --ui address)').default('127.0.0.1:9464');
const baseUrl = async (addr: string): Promise<string> => {
  const a = (await import('../observe/index.js')).parseAddress(addr);
  return `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
};

program
  .command('top')
  .description('Show per-node rates, totals and queue depths of a running pipeline, live')
  .addOption(addrOption())
  .option('--interval <seconds>', 'seconds between refreshes', '1')
  .option('--once', 'print one frame and exit')
  .action(async (opts) => {
    let base: string;
    try {
      base = await baseUrl(opts.addr);
    } catch (err) {
      process.stderr.write(`sluice top: ${(err as Error).message}\n`);
      process.exit(2);
    }
    const interval = Math.max(0.2, Number(opts.interval) || 1) * 1000;
    process.exit(await (await import('./top.js')).topRemote(base, { intervalMs: interval, once: !!opts.once }));
  });

program
  .command('tap')
  .description('Print a sample of the records passing NODE.PORT of a running pipeline (JSON lines)')
  .argument('<ref>', 'NODE or NODE.PORT (default port: out), e.g. parse.invalid')
  .addOption(addrOption())
  .option('--rate <n>', 'at most this many records a second', '10')
  .option('--limit <n>', 'stop after this many records')
  .option('--pretty', 'indent each record')
  .action(async (ref: string, opts) => {
    let base: string;
    try {
      base = await baseUrl(opts.addr);
    } catch (err) {
      process.stderr.write(`sluice tap: ${(err as Error).message}\n`);
      process.exit(2);
    }
    const limit = opts.limit !== undefined ? Number(opts.limit) : undefined;
    process.exit(await (await import('./tap.js')).tapRemote(base, ref, { rate: Number(opts.rate) || 10, limit, pretty: !!opts.pretty }));
  });

program
  .command('validate')
  .description('Check pipeline specs; print every problem as file:line:col CODE message')
  .argument('<spec...>', 'pipeline YAML files')
  .option('--var <NAME=value>', 'set a ${NAME} variable (repeatable)', collectVars, {})
  .action(async (files: string[], opts) => {
    let bad = 0;
    for (const f of files) {
      const spec = await compile(f, opts.var);
      if (spec) process.stdout.write(`${f}: ok (${spec.nodes.size} nodes)\n`);
      else bad++;
    }
    process.exit(bad ? 2 : 0);
  });

program
  .command('graph')
  .description('Draw the pipeline DAG')
  .argument('<spec>', 'pipeline YAML file')
  .addOption(new Option('--format <format>', 'output format').choices(['mermaid', 'dot']).default('mermaid'))
  .option('--var <NAME=value>', 'set a ${NAME} variable (repeatable)', collectVars, {})
  .action(async (file: string, opts) => {
    const spec = await compile(file, opts.var);
    if (!spec) process.exit(2);
    if (opts.workers === 'auto') spec.settings.workers = 'auto';
    process.stdout.write((await import('../graph/draw.js')).drawGraph(spec, opts.format) + '\n');
  });

program
  .command('plugins')
  .description('List plugins, or print the configuration reference of one')
  .argument('[name]', 'plugin name')
  .action(async (name?: string) => {
    const { pluginList, pluginReference } = await import('./plugin-docs.js');
    const registry = await declaredBuiltinRegistry().loadAll();
    if (!name) {
      process.stdout.write(pluginList(registry) + '\n');
      return;
    }
    const found = registry.find(name);
    if (!found.length) {
      process.stderr.write(`sluice: no plugin named '${name}'. Run 'sluice plugins' for the list.\n`);
      process.exit(2);
    }
    process.stdout.write(found.map((p) => pluginReference(p.def)).join('\n\n') + '\n');
  });

program
  .command('schema')
  .description('Print the pipeline JSON Schema generated from the registered plugins')
  .option('--write', `write it to schemas/pipeline.schema.json`)
  .option('--check', 'exit 1 if schemas/pipeline.schema.json differs from the generated one')
  .action(async (opts) => {
    const { generatePipelineSchema } = await import('../spec/pipeline-schema.js');
    const text = JSON.stringify(generatePipelineSchema(await declaredBuiltinRegistry().loadAll()), null, 2) + '\n';
    if (opts.write) {
      writeFileSync(PIPELINE_SCHEMA_PATH, text);
      process.stdout.write(`wrote ${PIPELINE_SCHEMA_PATH}\n`);
    } else if (opts.check) {
      let current = '';
      try {
        current = readFileSync(PIPELINE_SCHEMA_PATH, 'utf8');
      } catch {
        /* missing counts as drift */
      }
      if (current !== text) {
        process.stderr.write('schemas/pipeline.schema.json is out of date: run npm run schema\n');
        process.exit(1);
      }
      process.stdout.write('schemas/pipeline.schema.json is up to date\n');
    } else process.stdout.write(text);
  });

registerReplay(program);
registerTestCommand(program);

program.parseAsync(process.argv).catch((err) => {
  process.stderr.write(`sluice: ${(err as Error).message}\n`);
  process.exit(2);
});
