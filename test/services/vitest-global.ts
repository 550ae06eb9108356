/**
 * Vitest globalSetup for the real services (Kafka, HDFS). Starts nothing by itself: integration
 * test files call `useServices()` (test/integration/services.ts) in beforeAll, which starts what is
 * not running under a file lock (the forks pool runs files in several processes) and records what
 * it started under this run's id. At the end of the run, this stops exactly those services —
 * services that were already running (`npm run services:up`) are left running.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { runDir, stop } from './services.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    sluiceServicesRunId: string;
  }
}

export const startedFile = (runId: string) => path.join(runDir(), `started-by-${runId}`);

export default function setup(project: TestProject) {
  const runId = randomUUID();
  project.provide('sluiceServicesRunId', runId);
  return async function teardown() {
    const file = startedFile(runId);
    let started: string[] = [];
    try {
      started = [...new Set(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean))];
    } catch {
      return;
    }
    for (const s of started as Array<keyof typeof stop>) {
      if (process.env.SLUICE_KEEP_SERVICES) {
        console.error(`[services] ${s} started by this test run is left running (SLUICE_KEEP_SERVICES)`);
        continue;
      }
      const t0 = Date.now();
      await stop[s]();
      console.error(`[services] stopped ${s}, started by this test run (${Date.now() - t0} ms)`);
    }
    fs.rmSync(file, { force: true });
  };
}
