/**
 * The benchmark scenarios. Each names its input, how to run it in a fresh process, what a run must
 * produce (checked against what the generator injected) and why it may be skipped. References (the
 * tokenize-only ceiling per input, the naive sweep) are measured in the same run, interleaved with
 * the sluice scenarios, so that ratios hold on a noisy shared machine.
 */
import { dirname, join } from 'node:path';
import { DIST_BENCH, PIPELINES_DIR, ROOT } from './lib/paths.js';
import { sluiceRunArgs } from './lib/sluice-args.js';
import type { LogFormat } from './generate/logs.js';
import type { FeedFile, LogFile } from './generate/files.js';

export type Group = 'reference' | 'parse' | 'sweep' | 'analyse' | 'services';

export interface Input {
  format: LogFormat;
  lines: number;
}

export interface Env {
  quick: boolean;
  logs: (input: Input) => LogFile;
  feed: FeedFile;
  /** The smallest feed the generator writes (its hit pool alone): start-up with next to no feed to load. */
  smallFeed: FeedFile;
  /** Names of the registered plugins, or why they could not be read. */
  plugins: Set<string> | string;
  services: { kafka?: string; hdfs?: string };
}

export interface Outputs {
  alerts: string;
  rejects: string;
}

export interface Expect {
  alerts?: number;
  rejects?: number;
}

export interface Scenario {
  id: string;
  title: string;
  group: Group;
  input: Input;
  /** The scenario a `×naive` ratio compares with (sweeps only). */
  naive?: string;
  /** Why it cannot run here, if it cannot. */
  skip?(env: Env): string | undefined;
  /** Node arguments (flags, script, its args). */
  args(env: Env, out: Outputs): string[];
  /** File whose first bytes mark the first detection. */
  watch?: keyof Outputs;
  /**
   * The run's state directory is kept from round to round (the scenario's `state/`, not the run's),
   * and an untimed run before the first round fills it: what a run sees when an earlier run left its
   * state — for the sweep, the feed's snapshot.
   */
  keepState?: boolean;
  expect?(env: Env): Expect;
}

function needPlugins(env: Env, names: string[]): string | undefined {
  if (typeof env.plugins === 'string') return env.plugins;
  const missing = names.filter((n) => !(env.plugins as Set<string>).has(n));
  return missing.length ? `plugin${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} not registered yet` : undefined;
}

/** A run's arguments; `keepState`: its state directory is the scenario's, shared by its rounds (`Scenario.keepState`). */
function sluice(spec: string, out: Outputs, vars: Record<string, string>, flags: string[] = [], keepState = false): string[] {
  const dir = dirname(out.alerts);
  return sluiceRunArgs(join(PIPELINES_DIR, spec), dir, vars, flags, keepState ? join(dirname(dir), 'state') : undefined);
}

export const ceilingId = (i: Input) => `ceiling ${i.format} ${i.lines}`;
export const naiveId = (i: Input) => `naive-sweep ${i.format} ${i.lines}`;
export const naiveParseId = (i: Input) => `naive-parse ${i.format} ${i.lines}`;

export function ceiling(input: Input): Scenario {
  return {
    id: ceilingId(input),
    title: `tokenize-only ceiling, ${input.format}`,
    group: 'reference',
    input,
    args: (env) => [join(DIST_BENCH, 'reference', 'tokenize-ceiling.js'), env.logs(input).path],
  };
}

export function naive(input: Input): Scenario {
  return {
    id: naiveId(input),
    title: 'naive reference sweep (readline + regex + Set)',
    group: 'reference',
    input,
    naive: naiveId(input),
    watch: 'alerts',
    args: (env, out) => [
      join(DIST_BENCH, 'reference', 'naive-sweep.js'),
      '--logs',
      env.logs(input).path,
      '--feed',
      env.feed.path,
      '--alerts',
      out.alerts,
      '--rejects',
      out.rejects,
    ],
    expect: (env) => ({ alerts: env.logs(input).stats.malicious, rejects: env.logs(input).stats.invalid }),
  };
}

/** The naive parse (squid only): readline + regex + `new URL` + the ECS record, rejects to a file. */
export function naiveParse(input: Input): Scenario {
  return {
    id: naiveParseId(input),
    title: 'naive reference parse (readline + regex + new URL)',
    group: 'reference',
    input,
    args: (env, out) => [join(DIST_BENCH, 'reference', 'naive-parse.js'), '--logs', env.logs(input).path, '--rejects', out.rejects],
    expect: (env) => ({ rejects: env.logs(input).stats.invalid }),
  };
}

export function parse(input: Input): Scenario {
  return {
    id: `parse ${input.format}`,
    title: `sluice parse (${input.format})`,
    group: 'parse',
    input,
    naive: input.format === 'squid' ? naiveParseId(input) : undefined,
    skip: (env) => needPlugins(env, ['file', 'proxy-log']),
    args: (env, out) => sluice('parse.yaml', out, { LOGS: env.logs(input).path, FORMAT: input.format, REJECTS: out.rejects }),
    expect: (env) => ({ rejects: env.logs(input).stats.invalid }),
  };
}

/**
 * The sweep with the log's format named. `workers` undefined: the spec as a user writes it (no
 * `settings:`), the runtime decides the worker threads; a value is passed as `--workers N` on the
 * command line (`1`: everything on the main thread). Variant: `format: auto`. `snapshot`: the state
 * directory is kept between runs, so the feed is read back from the snapshot an earlier run wrote
 * (a scheduled sweep or a restart on an unchanged feed); otherwise each run starts with no state and
 * loads the feed from its file (the first run after a feed changed).
 */
export function sweep(input: Input, format: string = input.format, workers?: string, snapshot = false): Scenario {
  const variant = [format !== input.format ? `format: ${format}` : '', workers !== undefined ? `--workers ${workers}` : '', snapshot ? 'feed snapshot' : '']
    .filter(Boolean)
    .join(', ');
  const threads = workers === undefined ? 'no settings, workers decided by the runtime' : workers === '1' ? 'one thread (--workers 1)' : `--workers ${workers}`;
  return {
    id: `sweep ${input.format}${variant ? ` (${variant})` : ''}`,
    title: `sluice default sweep (file → proxy-log ${format} → ioc-sweep → file, ${threads}${snapshot ? ', the feed read back from its snapshot' : ''})`,
    group: 'sweep',
    input,
    naive: naiveId(input),
    watch: 'alerts',
    keepState: snapshot,
    skip: (env) => needPlugins(env, ['file', 'proxy-log', 'ioc-sweep']),
    args: (env, out) =>
      sluice(
        'sweep.yaml',
        out,
        {
          LOGS: env.logs(input).path,
          FEED: env.feed.path,
          FORMAT: format,
          ALERTS: out.alerts,
          REJECTS: out.rejects,
        },
        workers === undefined ? [] : ['--workers', workers],
        snapshot,
      ),
    expect: (env) => ({ alerts: env.logs(input).stats.malicious, rejects: env.logs(input).stats.invalid }),
  };
}

/**
 * The fixed cost, over an empty log: start-up, spec validation and loading the feed. `feed` loads the
 * bench feed from its file, `feed snapshot` from the snapshot an earlier run left, and `small feed`
 * loads the generator's smallest feed (`env.smallFeed`, a thousand indicators): start-up alone, which
 * beside the first tells the feed load from the rest of the fixed cost.
 */
export function startup(input: Input, load: 'feed' | 'feed snapshot' | 'small feed' = 'feed'): Scenario {
  const snapshot = load === 'feed snapshot';
  return {
    id: load === 'small feed' ? startupOnlyId : `startup + feed load${snapshot ? ' (feed snapshot)' : ''}`,
    title:
      load === 'small feed'
        ? 'sluice sweep over an empty log with a feed of a thousand indicators (start-up only)'
        : `sluice sweep over an empty log (start-up and feed loading only${snapshot ? ', the feed read back from its snapshot' : ''})`,
    group: 'sweep',
    input,
    keepState: snapshot,
    skip: (env) => needPlugins(env, ['file', 'proxy-log', 'ioc-sweep']),
    args: (env, out) => {
      const feed = load === 'small feed' ? env.smallFeed : env.feed;
      return sluice('sweep.yaml', out, { LOGS: env.logs(input).path, FEED: feed.path, FORMAT: 'auto', ALERTS: out.alerts, REJECTS: out.rejects }, [], snapshot);
    },
    expect: () => ({ alerts: 0, rejects: 0 }),
  };
}

/** The id of `startup(input, 'small feed')`: start-up alone. */
export const startupOnlyId = 'startup';

export const feedFloorId = 'feed hash floor';

/** The floor of any feed loader: the bench feed's lines hashed into one table, nothing else (`reference/feed-hash-floor.ts`). */
export function feedFloor(input: Input): Scenario {
  return {
    id: feedFloorId,
    title: "the floor of a feed loader: each of the feed's lines hashed into one table, nothing checked or kept",
    group: 'reference',
    input,
    args: (env) => [join(DIST_BENCH, 'reference', 'feed-hash-floor.js'), env.feed.path],
  };
}

export function window(input: Input): Scenario {
  return {
    id: 'window',
    title: 'sluice sliding window (5m/1m per source.ip, count + sum)',
    group: 'analyse',
    input,
    watch: 'alerts',
    skip: (env) => needPlugins(env, ['file', 'proxy-log', 'window']),
    args: (env, out) => sluice('window.yaml', out, { LOGS: env.logs(input).path, FORMAT: input.format, ALERTS: out.alerts, REJECTS: out.rejects }),
    expect: (env) => ({ rejects: env.logs(input).stats.invalid }),
  };
}

/**
 * The default pipeline as it ships (`npm start`'s spec, pipelines/proxy-ioc-sweep.yaml: parse →
 * {sweep against the sample feeds, two rules, a 5m/1m volume window} → alerts, windows, late,
 * rejects) over the bench log, as `auto` runs it and pinned to one thread.
 */
export function defaultPipeline(input: Input, workers?: string): Scenario {
  return {
    id: `default pipeline${workers !== undefined ? ` (--workers ${workers})` : ''}`,
    title: `sluice default pipeline (pipelines/proxy-ioc-sweep.yaml, ${workers === undefined ? 'workers decided by the runtime' : `--workers ${workers}`})`,
    group: 'analyse',
    input,
    watch: 'alerts',
    skip: (env) => needPlugins(env, ['file', 'proxy-log', 'ioc-sweep', 'window', 'rules']),
    args: (env, out) =>
      sluiceRunArgs(
        join(ROOT, 'pipelines', 'proxy-ioc-sweep.yaml'),
        dirname(out.alerts),
        { LOGS: env.logs(input).path, LOGS_JSON: join(dirname(out.alerts), 'none-*.jsonl'), OUT: dirname(out.alerts) },
        workers === undefined ? [] : ['--workers', workers],
      ),
    expect: (env) => ({ rejects: env.logs(input).stats.invalid }),
  };
}

export function rules(input: Input): Scenario {
  return {
    id: 'rules',
    title: 'sluice rules (5 json-logic rules per record)',
    group: 'analyse',
    input,
    watch: 'alerts',
    skip: (env) => needPlugins(env, ['file', 'proxy-log', 'rules']),
    args: (env, out) => sluice('rules.yaml', out, { LOGS: env.logs(input).path, FORMAT: input.format, ALERTS: out.alerts, REJECTS: out.rejects }),
    expect: (env) => ({ rejects: env.logs(input).stats.invalid }),
  };
}

/**
 * The Kafka sweep is measured by `npm run bench -- --kafka` (bench/kafka/): it needs a loading
 * step, Kafka's Java consumer beside it and a latency run, which a file-style scenario cannot
 * express. Here it only says where to look.
 */
export function kafkaSweep(input: Input): Scenario {
  return {
    id: 'sweep kafka',
    title: 'sluice sweep from Kafka (--once)',
    group: 'services',
    input,
    naive: naiveId(input),
    skip: () => "measured by `npm run bench -- --kafka` (throughput beside Kafka's Java consumer, detection latency; section Kafka)",
    args: () => [],
  };
}

// The HDFS scenarios (archive to HDFS beside a local file; the retro-sweep, incremental beside full)
// are in bench/hdfs/scenarios.ts.
