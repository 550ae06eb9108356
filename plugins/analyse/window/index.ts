/**
 * `window`: event-time volume metrics per key over tumbling or sliding windows, with alerts when a
 * closed window meets a json-logic condition.
 *
 * Ports (the choice is recorded in docs/rules.md):
 *   out     every input record, unchanged — like every analyser, `window` only observes the stream
 *   windows one metric record per closed window (`event.kind: metric`)
 *   alerts  closed windows for which `alert_when` holds (`event.kind: alert`)
 *   late    records the window could not count (too late, no event time, no key), with the reason
 *
 * As one of N by-key copies (`ctx.share`, API 1.7; share.ts, docs/rules.md), it reads every
 * record's time but counts and emits only what it owns: `out` carries its own records only.
 *
 * Batch summaries (API 1.8, `batchSummary`; summary.ts): a worker copy of the chain that feeds the
 * window summarises each batch per key and pane, and `merge` applies the summary as `process` would
 * have applied the records — or refuses it, changing nothing, when a record of the batch would be
 * late (against a partition's watermark, or before windows already emitted), a key would be
 * spilled, or a pane lacks raw lines the summary left out; the runtime then gives `process` the
 * records. The outputs are those of `process`, with
 * one difference in rounding: a `sum` (and `avg`) of non-integer values adds a pane's partial sum
 * from the batch at once to what the pane already held, where `process` adds record by record, so
 * the last bits may differ. Integers (byte counts) add exactly either way, below 2^53.
 */
import { definePlugin, compileLogic, parseDuration, type Rec, type ConfigIssue, type CompiledLogic } from '../../../src/api.js';
import { checkLogicRule, prepareLogicRule, LOGIC_CODES } from '../../../src/internal.js';
import { Plan, parseAgg, fieldWriter, type AggSpec, type Pane } from './aggregates.js';
import { SAMPLE_FIELD, durations, ipv4Number, ipv4Text, keyFields } from './fields.js';
import { recordReader } from './record-reader.js';
import { keyOwner, originOwner } from './share.js';
import { WindowState, type ClosedWindow, type KeyId, type KeyState } from './state.js';
import { TimeReader } from './time.js';
import { createSummariser, type WindowSummary } from './summary.js';
import { Watermarks, type Partition } from './watermarks.js';

export { ipv4Number } from './fields.js';

type Severity = 'low' | 'medium' | 'high' | 'critical';
const SEVERITY_SCORE: Readonly<Record<Severity, number>> = { low: 21, medium: 47, high: 73, critical: 99 };

export interface WindowConfig {
  key: string | string[];
  time_field: string;
  size: string | number;
  slide?: string | number;
  allowed_lateness: string | number;
  idle_timeout: string | number;
  aggregate: Record<string, AggSpec>;
  alert_when?: unknown;
  alert: { name?: string; description?: string; severity: Severity; tags: string[] };
  max_keys: number;
  samples: number;
}

/** Why a record went to `late`. */
export const LATE_REASONS = ['LATE', 'NO_TIMESTAMP', 'MISSING_KEY'] as const;

const DURATION = {
  anyOf: [
    { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?(ms|s|m|h|d)\\s*$' },
    { type: 'number', minimum: 0 },
  ],
};

/** Top-level names of a window record that aggregates and key fields may not take. */
const RESERVED = new Set(['@timestamp', 'event', 'window', 'rule', 'tags']);

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** `[...xs, x]`, by a loop: the spread cost more on arrays this short (a pane's samples). */
function withOne(xs: readonly string[], x: string): string[] {
  const n = xs.length;
  const out: string[] = new Array(n + 1);
  for (let i = 0; i < n; i++) out[i] = xs[i]!;
  out[n] = x;
  return out;
}

/** Two dotted paths where one is the other or lies inside it. */
function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(b + '.') || b.startsWith(a + '.');
}

export default definePlugin<WindowConfig>({
  name: 'window',
  kind: 'analyse',
  summary: 'Count, sum, min, max, avg and distinct-count per key over event-time tumbling or sliding windows; alert on thresholds.',
  configCodes: {
    DURATION: 'a duration (`size`, `slide`, ...) cannot be read, or is shorter than 1ms',
    WINDOW_SLIDE: '`slide` is longer than `size`',
    WINDOW_RESERVED: "a key field or aggregate name clashes with the window record's own fields or with another key or aggregate",
    FIELD_PATH: 'a key field or aggregate name is not a usable field path',
    WINDOW_AGGREGATE: 'an aggregate cannot be read',
    ...LOGIC_CODES,
  },
  description: [
    'Windows are aligned to the Unix epoch (UTC): a `5m` window with `slide: 1m` covers',
    '[12:00, 12:05), [12:01, 12:06), ... Without `slide` windows tumble (slide = size).',
    "Each source partition (a Kafka topic partition, a file: the record's `origin`) has its own",
    'watermark, the greatest event time seen from it minus `allowed_lateness`; windows close once the',
    'smallest watermark of the partitions that are not idle passes their end. A partition that sent',
    'nothing for `idle_timeout` (wall-clock) stops holding the others back, and when every partition',
    'is idle the watermark advances with wall-clock time, so a quiet stream still emits its windows',
    "and alerts. A record older than its partition's watermark, or falling before windows already",
    'emitted, goes to `late` (reason `LATE`), as do records without a parseable `time_field`',
    '(`NO_TIMESTAMP`) or without a key field (`MISSING_KEY`). Every input record also passes through',
    'on `out`.',
    'Window records carry the key fields, `window.start`/`window.end` (ISO-8601), the aggregates by',
    'name and `event.kind: metric`; those meeting `alert_when` are also sent to `alerts` as',
    '`event.kind: alert` with `rule.name`. Windows with no records are not emitted.',
    'When `max_keys` keys hold open windows, the key with the oldest open window is spilled: its',
    'windows are emitted at once with `window.partial: true` (aggregates of the records seen so far).',
    'At the end of a finite run every open window is emitted.',
    "With `samples: N`, alerts carry the raw lines of the window's first N records (their",
    '`event.original`, kept by `proxy-log` with `keep_original: true`) in `event.original`, one per line.',
    'With a key the window may run as copies that each read the whole stream and own a share of the',
    'keys (`parallel: by-key`, see docs/rules.md, "Copies that share the keys"); `max_keys` is then per copy.',
    'Batches may be summarised per key in the threads that parse them and merged here (API 1.8): the',
    'windows are the same, except that a `sum` or `avg` of non-integer values may differ in its last',
    "digits (a batch's partial sum is added at once); integers, such as byte counts, add exactly.",
  ].join('\n'),
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['size', 'aggregate'],
    properties: {
      key: {
        anyOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
        ],
        default: [],
        description: 'Field(s) to group by, e.g. `[source.ip]`. Empty: one window series for all records.',
        examples: [['source.ip'], ['source.ip', 'url.domain']],
      },
      time_field: { type: 'string', minLength: 1, default: '@timestamp', description: 'Event-time field: an ISO-8601 string or epoch milliseconds.' },
      size: { ...DURATION, description: 'Window length: a number and a unit (ms, s, m, h, d), or milliseconds.', examples: ['5m'] },
      slide: { ...DURATION, description: 'Distance between window starts for sliding windows (at most `size`). Omit for tumbling windows.', examples: ['1m'] },
      allowed_lateness: {
        ...DURATION,
        default: '1m',
        description:
          'How far behind the greatest event time seen a record may be and still be counted. Larger values hold windows open longer (more memory, later alerts).',
        examples: ['30s', '1h'],
      },
      idle_timeout: {
        anyOf: [...DURATION.anyOf, { const: 'never' }],
        default: '30s',
        description:
          'Wall-clock time after which a source partition that sent nothing stops holding back the watermark of the others; when every partition is idle, the watermark advances with wall-clock time from then on, so windows of a quiet stream close at most this much later than on a busy one. `never`: windows close on event time only (and at the end of a finite run).',
        examples: ['30s', '2m', 'never'],
      },
      aggregate: {
        type: 'object',
        minProperties: 1,
        description:
          'Output name → `count`, or `{count|sum|min|max|avg|distinct: field}`. `distinct` counts distinct values exactly; `{count: f}` counts records that have f.',
        additionalProperties: {
          anyOf: [
            { const: 'count' },
            {
              type: 'object',
              minProperties: 1,
              maxProperties: 1,
              propertyNames: { enum: ['count', 'sum', 'min', 'max', 'avg', 'distinct'] },
              additionalProperties: { type: 'string', minLength: 1 },
            },
          ],
        },
        examples: [{ requests: 'count', bytes: { sum: 'http.response.bytes' }, hosts: { distinct: 'url.domain' } }],
      },
      alert_when: {
        description:
          'json-logic condition over a closed window record (aggregates by name, e.g. `{">": [{var: requests}, 600]}`); matching windows are also emitted on `alerts`.',
        examples: [{ '>': [{ var: 'requests' }, 600] }],
      },
      alert: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'How alerts from `alert_when` are labelled.',
        properties: {
          name: { type: 'string', minLength: 1, description: '`rule.name` of the alerts; default: the node name.' },
          description: { type: 'string', description: '`rule.description` of the alerts.' },
          severity: {
            enum: ['low', 'medium', 'high', 'critical'],
            default: 'medium',
            description: 'Kept as `rule.severity`; `event.severity` carries the ECS score (21/47/73/99).',
          },
          tags: { type: 'array', items: { type: 'string' }, default: [], description: 'Tags of the alerts.' },
        },
      },
      samples: {
        type: 'integer',
        minimum: 0,
        maximum: 100,
        default: 0,
        description:
          "Alerts carry, in `event.original`, the raw lines (`event.original` of the records, e.g. from `proxy-log` with `keep_original: true`) of up to this many of the window's first records, one per line, so that an analyst sees what was logged. 0: none.",
        examples: [3],
      },
      max_keys: {
        type: 'integer',
        minimum: 1,
        default: 250000,
        description:
          'Most keys with open windows held at once (by each copy, when by-key copies share the keys); beyond it the key with the oldest open window is emitted early, flagged `window.partial: true`.',
      },
    },
  },
  ports: ['out', 'windows', 'alerts', 'late'],
  // Copies may each see the whole stream and own a share of the keys (API 1.7; share.ts). Without a
  // key every record has the same one: nothing to share.
  parallel: (config) => (keyFields(config).length ? 'by-key' : 'none'),
  // Worker copies summarise their batches, the instance merges the summaries (API 1.8; summary.ts).
  // `out` carries every input record: the runtime counts the batch there.
  batchSummary: { passes: ['out'], create: createSummariser },
  // What `process` reads of a record (API 1.5): its event time, its key fields, the aggregated
  // fields, the raw line when alerts carry samples (and `origin`, always kept). `out` and `late`
  // carry the input records themselves (`late` with `window` added).
  reads(config) {
    const fields = [config.time_field, ...keyFields(config)];
    for (const spec of Object.values(config.aggregate)) {
      const { field } = parseAgg(spec);
      if (field !== undefined) fields.push(field);
    }
    if (config.samples > 0) fields.push(SAMPLE_FIELD);
    return { fields: [...new Set(fields)], whole: ['out', 'late'] };
  },
  examples: [
    {
      title: 'Requests per client over 5 minutes, every minute; alert above 600',
      with: {
        key: ['source.ip'],
        size: '5m',
        slide: '1m',
        aggregate: { requests: 'count', bytes: { sum: 'http.response.bytes' }, hosts: { distinct: 'url.domain' } },
        alert_when: { '>': [{ var: 'requests' }, 600] },
        alert: { name: 'high-request-rate', severity: 'medium' },
      },
    },
  ],
  check(config) {
    const issues: ConfigIssue[] = [];
    const ms: Record<string, number> = {};
    for (const f of ['size', 'slide', 'allowed_lateness', 'idle_timeout'] as const) {
      const v = config[f];
      if (v === undefined || (f === 'idle_timeout' && v === 'never')) continue;
      try {
        ms[f] = parseDuration(v);
      } catch (err) {
        issues.push({ path: `/${f}`, code: 'DURATION', message: (err as Error).message });
      }
    }
    if (ms.size !== undefined && Math.round(ms.size) < 1) issues.push({ path: '/size', code: 'DURATION', message: 'size must be at least 1ms' });
    if (ms.slide !== undefined && Math.round(ms.slide) < 1) issues.push({ path: '/slide', code: 'DURATION', message: 'slide must be at least 1ms' });
    if (ms.size !== undefined && ms.slide !== undefined && ms.slide > ms.size) {
      issues.push({
        path: '/slide',
        code: 'WINDOW_SLIDE',
        message: `slide (${config.slide}) is longer than size (${config.size}): records between windows would be counted nowhere`,
        hint: 'use slide ≤ size, or omit slide for tumbling windows',
      });
    }
    const keys = keyFields(config);
    keys.forEach((k, i) => {
      const where = typeof config.key === 'string' ? '/key' : `/key/${i}`;
      if (RESERVED.has(k.split('.')[0]!))
        issues.push({ path: where, code: 'WINDOW_RESERVED', message: `key field '${k}' clashes with the window record's own '${k.split('.')[0]}'` });
      if (k.split('.').some((p) => p === '__proto__' || p === 'constructor' || p === 'prototype' || p === ''))
        issues.push({ path: where, code: 'FIELD_PATH', message: `'${k}' is not a usable field path` });
      const inside = keys.find((o, j) => j < i && overlaps(o, k));
      if (inside) issues.push({ path: where, code: 'WINDOW_RESERVED', message: `key field '${k}' overlaps key field '${inside}'` });
    });
    const names: string[] = [];
    for (const [name, spec] of Object.entries(config.aggregate)) {
      const where = `/aggregate/${escapePointer(name)}`;
      try {
        parseAgg(spec);
      } catch (err) {
        issues.push({ path: where, code: 'WINDOW_AGGREGATE', message: (err as Error).message });
      }
      const parts = name.split('.');
      if (parts.some((p) => p === '__proto__' || p === 'constructor' || p === 'prototype' || p === ''))
        issues.push({ path: where, code: 'FIELD_PATH', message: `'${name}' is not a usable output name` });
      else if (RESERVED.has(parts[0]!))
        issues.push({ path: where, code: 'WINDOW_RESERVED', message: `aggregate name '${name}' clashes with the window record's own '${parts[0]}'` });
      const clash = keys.find((k) => overlaps(k, name)) ?? names.find((n) => overlaps(n, name));
      if (clash)
        issues.push({
          path: where,
          code: 'WINDOW_RESERVED',
          message: `aggregate name '${name}' clashes with ${keys.includes(clash) ? 'key field' : 'aggregate'} '${clash}'`,
        });
      names.push(name);
    }
    if (config.alert_when !== undefined) issues.push(...checkLogicRule(config.alert_when, '/alert_when'));
    return issues;
  },
  create(config, ctx) {
    // A copy of `count` (ctx.share, API 1.7) reads every record's time, so its watermarks are one
    // window's; it counts, and emits on every port, only what it owns (share.ts).
    const share = ctx.share;
    if (
      share !== undefined &&
      !(Number.isInteger(share.count) && share.count >= 1 && Number.isInteger(share.index) && share.index >= 0 && share.index < share.count)
    )
      throw new Error(`window: share ${share.index} of ${share.count} is not a copy number 0 ≤ index < count`);
    const shares = share === undefined ? 1 : share.count;
    const myShare = share === undefined ? 0 : share.index;
    const sharing = shares > 1;
    const { size, slide, lateness } = durations(config);
    const keys = keyFields(config);
    const nKeys = keys.length;
    const plan = new Plan(config.aggregate);
    const keyWriters = keys.map(fieldWriter);
    const nSamples = config.samples;
    // Every field a record is read for, at once (record-reader.ts), in `vals`: the time at 0, the
    // key fields from 1, the aggregated fields from `AT_FIELDS`, the raw line last (with samples).
    // A copy with a share reads the time and key fields of every record into `vals`, the others
    // only of the records it owns, into `ownedVals` (from 0).
    const headPaths = [config.time_field, ...keys];
    const restPaths = [...plan.fields, ...(nSamples ? [SAMPLE_FIELD] : [])];
    const readFields = recordReader(sharing ? headPaths : [...headPaths, ...restPaths]);
    const readOwned = sharing ? recordReader(restPaths) : undefined;
    const vals: unknown[] = new Array(headPaths.length + (sharing ? 0 : restPaths.length)).fill(undefined);
    const ownedVals: unknown[] = sharing ? new Array(restPaths.length).fill(undefined) : vals;
    const AT_FIELDS = sharing ? 0 : headPaths.length;
    const AT_ORIGINAL = AT_FIELDS + plan.fields.length;
    const aggWriters = plan.aggregates.map((a) => fieldWriter(a.name));
    const state = new WindowState(size, slide, plan);
    const maxKeys = config.max_keys;
    const alertTest: CompiledLogic | undefined =
      config.alert_when === undefined ? undefined : compileLogic(prepareLogicRule(config.alert_when, {}, ctx.resolvePath));
    const alertRule: Rec = Object.freeze({
      name: config.alert.name ?? ctx.node,
      ruleset: ctx.node,
      severity: config.alert.severity,
      ...(config.alert.description !== undefined ? { description: config.alert.description } : {}),
    });
    const alertSeverity = SEVERITY_SCORE[config.alert.severity];
    const alertTags = config.alert.tags;
    /** The first `nSamples` raw lines of a closed window's records, one per line; undefined when none. */
    const samplesOf = (c: ClosedWindow): string | undefined => {
      const lines: string[] = [];
      for (let i = c.from; i < c.to && lines.length < nSamples; i++) {
        const s = c.panes[i]!.samples;
        if (s) for (let k = 0; k < s.length && lines.length < nSamples; k++) lines.push(s[k]!);
      }
      return lines.length ? lines.join('\n') : undefined;
    };

    const idleMs = config.idle_timeout === 'never' ? Infinity : parseDuration(config.idle_timeout);
    const marks = new Watermarks(idleMs);
    const times = new TimeReader();
    const closed: ClosedWindow[] = [];
    // Window bounds are aligned, so few distinct instants recur across keys: format each once.
    const isoCache = new Map<number, string>();
    const isoOf = (ms: number): string => {
      let s = isoCache.get(ms);
      if (s === undefined) {
        if (isoCache.size > 4096) isoCache.clear();
        s = new Date(ms).toISOString();
        isoCache.set(ms, s);
      }
      return s;
    };
    let lateCount = 0;
    let spilled = 0;

    const lateRecord = (rec: Rec, reason: (typeof LATE_REASONS)[number], watermark = -Infinity): Rec => {
      lateCount++;
      ctx.metrics.add(`late.${reason}`);
      return { ...rec, window: { late: true, reason, watermark: Number.isFinite(watermark) ? new Date(watermark).toISOString() : null, node: ctx.node } };
    };

    /** Close the windows the effective watermark at `now` has passed; emit them. */
    const advance = (now: number, windows: Rec[], alerts: Rec[]): void => {
      const wm = marks.effective(now);
      state.advance(wm, closed);
      materialise(windows, alerts);
      ctx.metrics.set('keys', state.keys.size);
      ctx.metrics.set('partitions', marks.size);
      if (Number.isFinite(wm)) ctx.metrics.set('watermark_ms', wm);
    };

    /** Turn closed windows into records on `windows` and `alerts`. */
    const materialise = (windows: Rec[], alerts: Rec[]): void => {
      if (!closed.length) return;
      // The records are built in the order the windows were closed, a key's windows one after
      // another, while its panes are in the cache (each pane is in several windows); in time
      // order they would be read key after key, window after window.
      for (const c of closed) {
        const start = isoOf(c.start);
        const end = isoOf(c.end);
        const w: Rec = {
          '@timestamp': start,
          event: { kind: 'metric', dataset: 'sluice.window', provider: ctx.node },
          window: c.partial ? { start, end, partial: true } : { start, end },
        };
        for (let k = 0; k < nKeys; k++) keyWriters[k]!(w, c.key.values[k]);
        plan.emit(c.panes, c.from, c.to, w, aggWriters);
        c.record = w;
      }
      // Per key windows come in time order; across keys, order by end (stable).
      let ordered = true;
      for (let i = 1; i < closed.length && ordered; i++) ordered = closed[i - 1]!.end <= closed[i]!.end;
      if (!ordered) closed.sort((a, b) => a.end - b.end);
      for (const c of closed) {
        const w = c.record!;
        windows.push(w);
        if (alertTest?.test(w)) {
          const event: Rec = { kind: 'alert', dataset: 'sluice.window', provider: ctx.node, severity: alertSeverity };
          if (nSamples) {
            const original = samplesOf(c);
            if (original !== undefined) event.original = original;
          }
          alerts.push({
            ...w,
            event,
            rule: { ...alertRule },
            ...(alertTags.length ? { tags: alertTags.slice() } : {}),
          });
        }
      }
      closed.length = 0;
      ctx.metrics.add('windows', windows.length);
      if (alerts.length) ctx.metrics.add('alerts', alerts.length);
    };

    // Idle time is only measured when there is an idle timeout: without one the clock is never read.
    const clock = idleMs === Infinity ? () => 0 : () => Date.now();
    // The panes every live key holds, for renumbering the `distinct` ids (distinct.ts).
    const heldPanes = function* (): Iterable<Pane[]> {
      for (const ks of state.keys.values()) yield ks.panes;
    };
    return {
      // Tick often enough that a quiet stream's windows close within about a tenth of idle_timeout.
      ...(idleMs === Infinity
        ? {}
        : {
            tickIntervalMs: Math.min(1000, Math.max(10, Math.round(idleMs / 10))),
            tick(nowMs: number) {
              if (marks.size === 0) return {};
              const windows: Rec[] = [];
              const alerts: Rec[] = [];
              advance(nowMs, windows, alerts);
              return { windows, alerts };
            },
          }),
      merge(summary: unknown, _count: number) {
        const s = summary as WindowSummary;
        const nParts = s.origins.length;
        const partTimes = s.partTimes;
        // Refuse, before changing anything, a summary that cannot stand for its records now.
        // A record older than its partition's watermark, or before the windows emitted, is late.
        let least = Infinity;
        for (let p = 0; p < nParts; p++) {
          const min = partTimes[2 * p]!;
          const known = marks.find(s.origins[p]);
          if (known !== undefined && min < known.wm) return undefined;
          if (min < least) least = min;
        }
        if (least < marks.closed) return undefined;
        // A new key beyond `max_keys` would spill another in the middle of the batch.
        const keyIds = s.keyIds;
        const nBatchKeys = keyIds.length;
        const mineKeys: boolean[] | undefined = sharing ? new Array(nBatchKeys) : undefined;
        let fresh = 0;
        for (let k = 0; k < nBatchKeys; k++) {
          const id = keyIds[k]!;
          if (mineKeys !== undefined && !(mineKeys[k] = keyOwner(id, shares) === myShare)) continue;
          if (!state.keys.has(id)) fresh++;
        }
        if (state.keys.size + fresh > maxKeys) return undefined;
        // The raw lines a summary left out: the window's pane must hold enough already (summary.ts).
        const paneKey = s.paneKey;
        const paneNums = s.paneNums;
        const stride = 2 + plan.slots;
        const omitted = s.omitted;
        for (let j = 0; j < omitted.length; j += 2) {
          const i = omitted[j]!;
          const k = paneKey[i]!;
          if (mineKeys !== undefined && !mineKeys[k]) continue;
          const ks = state.keys.get(keyIds[k]!);
          const pane = ks === undefined ? undefined : state.findPane(ks, paneNums[i * stride]!);
          if (pane === undefined || (pane.samples === null ? 0 : pane.samples.length) < omitted[j + 1]!) return undefined;
        }

        const now = clock();
        plan.compactIds(heldPanes);
        // The partitions, in the order the records met them, as `process` moves them.
        for (let p = 0; p < nParts; p++) {
          const part = marks.of(s.origins[p], undefined);
          part.lastSeen = now;
          const max = partTimes[2 * p + 1]!;
          if (max > part.maxT) {
            part.maxT = max;
            part.wm = max - lateness;
          }
        }
        // The panes, in the order their first records came: keys are made, and filed to close,
        // in the order `process` would have (state.ts, `paneAt`).
        const kss: (KeyState | undefined)[] = new Array(nBatchKeys);
        const sets = plan.sets;
        const idEnds = s.idEnds;
        const batchIds = s.ids;
        const batchValues = s.values;
        // the node's id of each of the batch's distinct values, once it was needed (-1: not yet)
        const valueId = sets ? new Int32Array(batchValues.length).fill(-1) : undefined;
        const sampleEnds = s.sampleEnds;
        const batchSamples = s.samples;
        let idFrom = 0;
        let sampleFrom = 0;
        for (let i = 0; i < paneKey.length; i++) {
          const k = paneKey[i]!;
          const idTo = sets ? idEnds[(i + 1) * sets - 1]! : 0;
          const sampleTo = nSamples ? sampleEnds[i]! : 0;
          if (mineKeys === undefined || mineKeys[k]) {
            let ks = kss[k];
            if (ks === undefined) {
              const id = keyIds[k]!;
              ks = state.keys.get(id) ?? state.newKey(id, typeof id === 'number' ? [ipv4Text(id)] : s.keyValues.slice(k * nKeys, (k + 1) * nKeys));
              kss[k] = ks;
            }
            const b = i * stride;
            const pane = state.paneAt(ks, paneNums[b]!);
            plan.absorb(pane, paneNums[b + 1]!, paneNums, b + 2);
            for (let si = 0, at = idFrom; si < sets; si++) {
              const end = idEnds[i * sets + si]!;
              for (; at < end; at++) {
                const v = batchIds[at]!;
                let id = valueId![v]!;
                if (id === -1) valueId![v] = id = plan.valueIds.id(batchValues[v]);
                plan.addValueId(pane, si, id);
              }
            }
            for (let j = sampleFrom; j < sampleTo && (pane.samples === null || pane.samples.length < nSamples); j++)
              pane.samples = pane.samples === null ? [batchSamples[j]!] : withOne(pane.samples, batchSamples[j]!);
          }
          idFrom = idTo;
          sampleFrom = sampleTo;
        }
        const windows: Rec[] = [];
        const alerts: Rec[] = [];
        advance(now, windows, alerts);
        return { windows, alerts };
      },
      process(records: Rec[]) {
        let late: Rec[] | undefined;
        // With a share, the records this copy owns, in order: its `out`.
        const owned: Rec[] | undefined = sharing ? [] : undefined;
        const values: unknown[] = new Array(nKeys);
        const now = clock();
        let part: Partition | undefined;
        // nothing refers to pane ids outside the live keys between batches: renumber them here if due
        plan.compactIds(heldPanes);
        for (let r = 0; r < records.length; r++) {
          const rec = records[r]!;
          readFields(rec, vals);
          const t = times.read(vals[0]);
          if (Number.isNaN(t)) {
            if (owned !== undefined) {
              if (originOwner(rec.origin, shares) !== myShare) continue;
              owned.push(rec);
            }
            (late ??= []).push(lateRecord(rec, 'NO_TIMESTAMP'));
            continue;
          }
          let id: KeyId = '';
          let missing = false;
          if (nKeys === 1) {
            const v = vals[1];
            if (v === undefined || v === null) missing = true;
            else if (typeof v === 'string') {
              // Strings (nearly every key) are their own id, an IPv4 address its number: a lookup by a
              // small integer costs less than hashing and comparing a new string every record. Only
              // the canonical text is a number, so two strings never share an id.
              const ip = ipv4Number(v);
              id = ip === -1 ? v : ip;
            }
            // other types are tagged so 1 and "1" differ
            else id = '\u0001' + JSON.stringify(v);
            values[0] = v;
          } else if (nKeys > 1) {
            for (let k = 0; k < nKeys; k++) {
              const v = vals[1 + k];
              if (v === undefined || v === null) {
                missing = true;
                break;
              }
              values[k] = v;
            }
            if (!missing) id = JSON.stringify(values);
          }
          if (missing) {
            if (owned !== undefined) {
              if (originOwner(rec.origin, shares) !== myShare) continue;
              owned.push(rec);
            }
            (late ??= []).push(lateRecord(rec, 'MISSING_KEY'));
            continue;
          }
          // A copy that does not own the key still moves the watermarks with the record's time.
          let mine = true;
          if (owned !== undefined) {
            mine = keyOwner(id, shares) === myShare;
            if (mine) owned.push(rec);
          }
          // Records of one batch nearly always share their partition: look it up only when it changes.
          part = marks.of(rec.origin, part);
          part.lastSeen = now;
          if (t < part.wm) {
            if (mine) (late ??= []).push(lateRecord(rec, 'LATE', part.wm));
            continue;
          }
          if (t > part.maxT) {
            part.maxT = t;
            part.wm = t - lateness;
          }
          // Within the partition's lateness, but its windows were already emitted (the partition
          // was idle, or joined after the others had moved on).
          if (t < marks.closed) {
            if (mine) (late ??= []).push(lateRecord(rec, 'LATE', marks.closed));
            continue;
          }
          if (!mine) continue;
          let ks = state.keys.get(id);
          if (ks === undefined) {
            if (state.keys.size >= maxKeys) {
              const victim = state.oldest();
              if (victim) {
                state.spill(victim, closed);
                spilled++;
                ctx.metrics.add('spilled_keys');
              }
            }
            ks = state.newKey(id, values.slice());
          }
          if (readOwned !== undefined) readOwned(rec, ownedVals);
          const pane = state.add(ks, t, ownedVals, AT_FIELDS);
          if (nSamples && (pane.samples === null || pane.samples.length < nSamples)) {
            const original = ownedVals[AT_ORIGINAL];
            if (typeof original === 'string') pane.samples = pane.samples === null ? [original] : withOne(pane.samples, original);
          }
        }
        const windows: Rec[] = [];
        const alerts: Rec[] = [];
        advance(now, windows, alerts);
        const out: Record<string, Rec[]> = { out: owned ?? records, windows, alerts };
        if (late) out.late = late;
        return out;
      },
      finish() {
        state.flushAll(closed);
        const windows: Rec[] = [];
        const alerts: Rec[] = [];
        materialise(windows, alerts);
        ctx.metrics.set('keys', 0);
        ctx.logger.debug({ late: lateCount, spilled }, 'window: all windows closed');
        return { windows, alerts };
      },
    };
  },
});
