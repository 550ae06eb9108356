/**
 * What the window's batch summaries (API 1.8) cost and save, in-process, on one core:
 *   node --expose-gc dist/bench/window-summary.js [log=bench/data/logs-squid-s42-n1000000-g1.log] [rounds=2] [workers=2] [lateness=2h]
 *
 * The log is parsed by the proxy-log transform as the default pipeline has it (`format: auto`,
 * `keep_original: true`), in the file source's blocks of 1000 lines and the runtime's chunks; each
 * block's parsed records make one batch, given to every stage below just after it is parsed (the
 * parse not measured). The window is the volume window of `pipelines/proxy-ioc-sweep.yaml` (its
 * `allowed_lateness` replaceable); the batches are summarised by `workers` summarisers in turn, as
 * worker copies would (each remembers the raw lines it sent: summary.ts). Per
 * batch, measured around each call (CPU: `process.cpuUsage`, user + system, all threads):
 *   - today's crossing: `encodeProjected` of the batch on the window's `reads` fields (+ origin), in
 *     the worker; `structuredClone` of that wire with its typed arrays transferred (serialise and
 *     deserialise, as `postMessage` does both halves); `decodeProjected` on the main thread;
 *   - the summary's crossing: `summarise` (the worker's half), `structuredClone` of the summary,
 *     its typed arrays transferred;
 *   - the main thread: window P `process`es the decoded projections; window M `merge`s the cloned
 *     summary, or `process`es the decoded projections when there is none or `merge` refuses it.
 * Bytes: `v8.serialize` of each (the serialiser structured cloning uses; transferred buffers are
 * not copied by `postMessage` but are counted here). P's and M's windows and alerts must be equal
 * (their JSON, in order); the script exits 1 when not. Prints totals per stage and per record, and
 * how many batches M merged.
 */
import { serialize } from 'node:v8';
import windowPlugin from '../plugins/analyse/window/index.js';
import type { ProcessorInstance, Rec } from '../src/api.js';
import { decodeProjected, encodeProjected, transferOfProjected } from '../src/runtime/projection.js';
import type { WindowSummary } from '../plugins/analyse/window/summary.js';
import { quietContext } from './lib/context.js';
import { configure, parseBlocks, volumeWindow } from './lib/default-window.js';

const LOG = process.argv[2] ?? 'bench/data/logs-squid-s42-n1000000-g1.log';
const ROUNDS = Number(process.argv[3] ?? 2);
const WORKERS = Number(process.argv[4] ?? 2);
const LATENESS = process.argv[5] ?? '2h';
const BLOCK = 1000;

const VOLUME = volumeWindow(LATENESS);

/** Parse the log, giving `onBatch` the parsed records of each block of lines. */
const parse = (path: string, onBatch: (batch: Rec[]) => void): Promise<void> => parseBlocks(path, BLOCK, onBatch);

const STAGES = ['encode', 'clone wire', 'decode', 'process', 'summarise', 'clone summary', 'merge', 'merge fallback'] as const;
type Stage = (typeof STAGES)[number];

async function round(summaryFirst: boolean): Promise<{
  cpu: Record<Stage, number>;
  wall: Record<Stage, number>;
  bytes: { wire: number; summary: number };
  n: number;
  batches: number;
  merged: number;
  unsummarised: number;
  refused: number;
  same: boolean;
  windows: number;
  alerts: number;
}> {
  const config = configure(windowPlugin, VOLUME);
  const fields = [...new Set(['origin', ...windowPlugin.reads!(config)!.fields])];
  const P = (await windowPlugin.create(config, quietContext('volume'))) as ProcessorInstance;
  const M = (await windowPlugin.create(config, quietContext('volume'))) as ProcessorInstance;
  const summarisers = Array.from({ length: WORKERS }, () => windowPlugin.batchSummary!.create(config));
  const cpu = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  const wall = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  const bytes = { wire: 0, summary: 0 };
  const outP: string[] = [];
  const outM: string[] = [];
  let n = 0;
  let batches = 0;
  let merged = 0;
  let unsummarised = 0;
  let refused = 0;
  const timed = <T>(stage: Stage, f: () => T): T => {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const v = f();
    wall[stage] += Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    cpu[stage] += (c.user + c.system) / 1e6;
    return v;
  };
  const keep = (to: string[], o: Record<string, Rec[] | undefined>) => {
    for (const r of o.windows ?? []) to.push(JSON.stringify(r));
    for (const r of o.alerts ?? []) to.push(`alert ${JSON.stringify(r)}`);
  };
  (globalThis as { gc?: () => void }).gc?.();
  await parse(LOG, (batch) => {
    n += batch.length;
    batches++;
    // The halves alternate by round: the first one finds the batch's records fresher in the caches.
    if (summaryFirst) withSummaries(batch);
    const projections = today(batch);
    if (!summaryFirst) withSummaries(batch, projections);
  });
  /** Today: projections cross, the window processes them; returns the projections. */
  function today(batch: Rec[]): Rec[] {
    const wire = timed('encode', () => encodeProjected(batch, fields)!);
    bytes.wire += serialize(wire).byteLength;
    const wireCopy = timed('clone wire', () => structuredClone(wire, { transfer: transferOfProjected(wire) }));
    const projections = timed('decode', () => decodeProjected(wireCopy));
    keep(
      outP,
      timed('process', () => P.process(projections) as Record<string, Rec[]>),
    );
    return projections;
  }
  /** Summaries: the worker summarises, the summary crosses, the window merges it (or processes `projections`). */
  function withSummaries(batch: Rec[], projections?: Rec[]): void {
    const summary = timed('summarise', () => summarisers[batches % WORKERS]!.summarise(batch)) as WindowSummary | undefined;
    let o: Record<string, Rec[] | undefined> | undefined;
    if (summary === undefined) unsummarised++;
    else {
      bytes.summary += serialize(summary).byteLength;
      const transfer = [summary.partTimes, summary.paneKey, summary.paneNums, summary.idEnds, summary.ids, summary.sampleEnds, summary.omitted].map(
        (a) => a.buffer as ArrayBuffer,
      );
      const copy = timed('clone summary', () => structuredClone(summary, { transfer }));
      o = timed('merge', () => M.merge!(copy, batch.length) as Record<string, Rec[]> | undefined);
      if (o === undefined) refused++;
      else merged++;
    }
    if (o === undefined) {
      const projected = projections ?? decodeProjected(encodeProjected(batch, fields)!);
      o = timed('merge fallback', () => M.process(projected) as Record<string, Rec[]>);
    }
    keep(outM, o);
  }
  keep(outP, P.finish!() as Record<string, Rec[]>);
  keep(outM, M.finish!() as Record<string, Rec[]>);
  const same = outP.length === outM.length && outP.every((s, i) => s === outM[i]);
  const alerts = outP.filter((s) => s.startsWith('alert ')).length;
  return { cpu, wall, bytes, n, batches, merged, unsummarised, refused, same, windows: outP.length - alerts, alerts };
}

for (let r = 0; r < ROUNDS; r++) {
  const res = await round(r % 2 === 1);
  const per = (s: number) => `${Math.round((s * 1e9) / res.n)} ns/rec`;
  console.log(
    `round ${r + 1} (${r % 2 === 1 ? 'summary' : 'projections'} first): ${res.n.toLocaleString('en-US')} records in ${res.batches} batches; merged ${res.merged}, not summarised ${res.unsummarised}, refused ${res.refused}; ${res.windows} windows, ${res.alerts} alerts; ${res.same ? 'same outputs' : 'OUTPUTS DIFFER'}`,
  );
  for (const s of STAGES) console.log(`  ${s.padEnd(15)} ${res.cpu[s].toFixed(2)} CPU s (${per(res.cpu[s])}), ${res.wall[s].toFixed(2)} wall s`);
  const today = res.cpu['clone wire'] + res.cpu.decode + res.cpu.process;
  const withSummary = res.cpu['clone summary'] + res.cpu.merge + res.cpu['merge fallback'];
  console.log(
    `  bytes: wire ${(res.bytes.wire / res.batches / 1024).toFixed(1)} KiB/batch, summary ${(res.bytes.summary / Math.max(1, res.merged + res.refused) / 1024).toFixed(1)} KiB/batch`,
  );
  console.log(`  main thread (clone + decode + process) ${today.toFixed(2)} s vs (clone + merge + fallback) ${withSummary.toFixed(2)} s`);
  console.log(`  worker (encode) ${res.cpu.encode.toFixed(2)} s vs (summarise) ${res.cpu.summarise.toFixed(2)} s`);
  if (!res.same) process.exitCode = 1;
}
