/**
 * The kafka source starts connecting in `create`, while the rest of the pipeline is created. A
 * stop (SIGINT) that comes then — here while a slow `prepare` runs and no broker answers (a port
 * nothing listens on: no broker needed) — is a clean stop, not a failure of the source still
 * retrying its connection.
 */
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

const slowPrepare = resolve(import.meta.dirname, '../../fixtures/plugins/slow-prepare.mjs');

/** A local port nothing listens on (taken, then released). */
async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('kafka source: stopped while the pipeline is created, brokers unreachable', () => {
  for (const once of [false, true]) {
    it(`SIGINT during a slow prepare stops the run cleanly${once ? ' (--once)' : ''}`, async () => {
      const dir = tempDir('kafka-start-');
      const brokers = `127.0.0.1:${await deadPort()}`;
      const spec = join(dir, 'spec.yaml');
      writeFileSync(
        spec,
        `version: 1
name: kafka-start
plugins: [${JSON.stringify(slowPrepare)}]
settings: { workers: 1 }
nodes:
  src: { source: kafka, with: { brokers: ["${brokers}"], topics: [t] } }
  hold: { transform: slow-prepare, from: src, with: { ms: 3000 } }
  out: { sink: file, from: [hold, src.invalid], with: { path: "${dir}/out.jsonl", mode: overwrite } }
`,
      );
      const r = startCli(['run', spec, '--log-level', 'info', '--no-progress', '--state-dir', join(dir, 'state'), ...(once ? ['--once'] : [])]);
      await new Promise<void>((res) => {
        const on = (d: Buffer) => {
          if (/Connection error|ECONNREFUSED/.test(String(d))) {
            r.child.stderr!.off('data', on);
            res();
          }
        };
        r.child.stderr!.on('data', on);
      });
      r.child.kill('SIGINT'); // the source is still connecting, the prepare still running
      const res = await r.done;
      expect(res.stderr).not.toMatch(/run failed/);
      expect(res.stderr).toMatch(/stopping/);
      expect(res.code, res.stderr.slice(-2000)).toBe(0);
    });
  }
});
