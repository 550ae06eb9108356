/**
 * `sluice tap` and `sluice top` against a running pipeline, as a user runs them: the built CLI,
 * a pipeline started with `sluice run --metrics ADDR` and slowed by a sink that waits per batch.
 * Piped (not a terminal), top writes plain frames with no control characters.
 */
import { describe, it, expect } from 'vitest';
import { createServer } from 'node:net';
import { runCli, startCli } from '../helpers/cli.js';
import { compileSlow, slowSpecText, sleep, startObservedRun } from '../helpers/observed-run.js';
import { RunMonitor } from '../../src/observe/monitor.js';
import { renderTop } from '../../src/cli/top.js';

async function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => ok(p));
    });
  });
}

async function waitReady(base: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  throw new Error(`${base} never became ready`);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for control characters
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

describe('tap', () => {
  it('no tap, no sampling: the monitor asks for a port only while a tap is attached', async () => {
    const { spec } = await compileSlow({ copies: 1, msPerBatch: 0 });
    const m = new RunMonitor(spec);
    expect(m.wants('parse', 'out')).toBe(false);
    const detach = m.attachTap({ node: 'parse', port: 'out', rate: 5, limit: 10, send: () => undefined, end: () => undefined });
    expect(m.wants('parse', 'out')).toBe(true);
    detach();
    expect(m.wants('parse', 'out')).toBe(false);
    expect(m.untappable('nope', 'out')).toMatch(/no node named 'nope'/);
    expect(m.untappable('parse', 'alerts')).toMatch(/no port 'alerts' \(ports: out, invalid\)/);
    expect(m.untappable('records', 'out')).toMatch(/is a sink/);
  });

  it('samples records at a port over HTTP, at most the limit; refuses unknown ports with a reason', async () => {
    const { spec, dir } = await compileSlow({ copies: 20, msPerBatch: 10 });
    const { obs, base, run } = await startObservedRun(spec, dir);
    try {
      await waitReady(base);
      const r = await fetch(`${base}/tap?node=parse&port=out&rate=50&limit=5`);
      expect(r.status).toBe(200);
      const lines = (await r.text()).trim().split('\n');
      expect(lines).toHaveLength(5);
      for (const l of lines) expect(JSON.parse(l)['@timestamp']).toMatch(/^20\d\d-/);
      const bad = await fetch(`${base}/tap?node=parse&port=nope`);
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toMatch(/no port 'nope'/);
    } finally {
      await run;
      await obs.close();
    }
  });
});

describe('sluice tap and sluice top (CLI)', () => {
  it('tap prints JSON lines of a running pipeline; top, piped, prints plain frames until the run ends', async () => {
    const { file } = slowSpecText({ copies: 30, msPerBatch: 20 });
    const port = await freePort();
    const addr = `127.0.0.1:${port}`;
    const pipeline = startCli(['run', file, '--metrics', addr, '--log-level', 'warn']);
    try {
      await waitReady(`http://${addr}`);
      const top = startCli(['top', '--addr', addr, '--interval', '0.3']);
      const tap = await runCli(['tap', 'parse.invalid', '--addr', addr, '--limit', '3']);
      expect(tap.code, tap.stderr).toBe(0);
      const recs = tap.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { error: { code: string } });
      expect(recs, tap.stderr).toHaveLength(3);
      for (const r of recs) expect(r.error.code).toMatch(/^PARSE_/);
      expect(tap.stderr).toMatch(/3 records/);

      const unknown = await runCli(['tap', 'nosuch', '--addr', addr]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/no node named 'nosuch'/);

      const end = await pipeline.done;
      expect(end.code, end.stderr).toBe(0);
      const t = await top.done;
      expect(t.code, t.stderr).toBe(0);
      expect(t.stdout).toMatch(/sluice top — observed · running/);
      expect(t.stdout).toMatch(/^parse +transform +proxy-log /m);
      expect(t.stdout.split('sluice top —').length, t.stdout).toBeGreaterThan(2); // several frames
      expect(CONTROL.test(t.stdout)).toBe(false);
      expect(t.stderr).toMatch(/went away/);
    } finally {
      pipeline.child.kill('SIGTERM');
    }
  });

  it('top and tap say clearly when nothing answers', async () => {
    const port = await freePort();
    const t = await runCli(['top', '--addr', `127.0.0.1:${port}`, '--once']);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/nothing answers at http:\/\/127\.0\.0\.1:\d+.*--metrics ADDR/);
    const bad = await runCli(['top', '--addr', 'not an address']);
    expect(bad.code).toBe(2);
  });

  it('renderTop: one frame, plain text within the width', async () => {
    const { spec } = await compileSlow({ copies: 1, msPerBatch: 0 });
    const lines = renderTop(new RunMonitor(spec).snapshot(), 80);
    expect(lines[0]).toMatch(/^sluice top — observed · idle/);
    for (const l of lines) {
      expect(l.length).toBeLessThanOrEqual(80);
      expect(CONTROL.test(l)).toBe(false);
    }
  });
});
