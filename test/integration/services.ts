/**
 * Real services for integration tests. In a test file:
 *
 *   import { describeWithServices, useServices } from './services.js';
 *   describeWithServices(['kafka'], 'kafka source', () => {
 *     beforeAll(() => useServices(['kafka']));   // starts the broker unless it already answers
 *     ...
 *   });
 *
 * Without Java the suite is skipped with a loud message; with CI=true that is a failure instead.
 * Services started here are stopped at the end of the vitest run (test/services/vitest-global.ts);
 * `startKafka`/`stopKafka`/`startHdfs`/`stopHdfs` let a test take a service away for a while
 * (its data dir is kept).
 */
import fs from 'node:fs';
import { describe, inject } from 'vitest';
import * as svc from '../services/services.mjs';
import { startedFile } from '../services/vitest-global.js';

export * from '../services/services.mjs';

export type ServiceName = 'kafka' | 'hdfs';

let availability: { ok: boolean; why: string } | undefined;

/** Java present (and the jars fetched, or Maven there to fetch them)? Checked once per process. */
export function servicesAvailable(): { ok: boolean; why: string } {
  if (availability) return availability;
  if (!svc.javaAvailable()) availability = { ok: false, why: 'Java 17 (java, javac) is not on the PATH' };
  else if (!svc.jarsReady() && !svc.mavenAvailable())
    availability = { ok: false, why: `the Kafka/Hadoop jars are not in ${svc.cacheDir()} and Maven (mvn) is not on the PATH to fetch them` };
  else availability = { ok: true, why: '' };
  return availability;
}

/** `describe` for a suite that needs real services: skipped loudly without Java; in CI a failure. */
export function describeWithServices(names: ServiceName[], title: string, fn: () => void): void {
  const { ok, why } = servicesAvailable();
  if (ok) {
    describe(title, fn);
    return;
  }
  const banner = `\n${'!'.repeat(78)}\n!! SKIPPING "${title}": needs real ${names.join(' + ')}, but ${why}.\n!! Install Java 17 and Maven, or run \`npm run services:up\` once.\n${'!'.repeat(78)}\n`;
  if (process.env.CI === 'true' || process.env.CI === '1') {
    describe(title, () => {
      throw new Error(`CI: integration suite cannot be skipped: ${why}`);
    });
    return;
  }
  console.warn(banner);
  describe.skip(title, fn);
}

function recordStarted(name: ServiceName) {
  let runId: string | undefined;
  try {
    runId = inject('sluiceServicesRunId');
  } catch {}
  if (!runId) return;
  fs.mkdirSync(svc.runDir(), { recursive: true });
  fs.appendFileSync(startedFile(runId), `${name}\n`);
}

/** Starts the named services unless they already answer; resolves when they all answer. */
export async function useServices(names: ServiceName[]): Promise<void> {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  await svc.fetchJars();
  // one at a time: two JVMs starting at once on two cores is slower than one after the other
  for (const n of names) {
    if (await svc.ensure[n]()) recordStarted(n);
  }
}

/**
 * Starts a service again after a test stopped it (stopKafka()/stopHdfs()), over its kept data.
 * Not recorded as started by this run: it was either recorded when first started here, or was
 * running before the run (and so stays running after it).
 */
export async function restartService(name: ServiceName): Promise<void> {
  await (name === 'kafka' ? svc.startKafka() : svc.startHdfs());
}
