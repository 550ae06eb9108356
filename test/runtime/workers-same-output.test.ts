/**
 * The default pipeline's shape — file → proxy-log → {ioc-sweep, rules} in worker copies, a window
 * on the main thread reading every parsed record — run with one thread and with two worker copies
 * over the same generated logs: the same alerts, windows, late records and rejects (as multisets;
 * rejects without their `@timestamp`, the time they were made). The logs are cut into many small
 * batches (`batch_size`) so that both copies get batches of each file, and hold records out of
 * order, records later than `allowed_lateness`, a second file whose event time starts before the
 * first file's windows were closed (late by windows already emitted), lines without a client
 * address and broken lines.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSpec } from '../../src/spec/validate.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { runPipeline } from '../../src/runtime/run.js';
import { testContext } from '../helpers/harness.js';
import { tempDir } from '../helpers/tmp.js';

/** A deterministic generator (no Math.random: both runs and every run of the test see the same logs). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const HOSTS = ['www.example.com', 'bad.example.net', 'cdn.example.org', '198.51.100.7', 'api.example.io', 'files.example.com'];
const PATHS = ['/', '/index.html', '/x/setup.exe', '/a.js', '/upload', '/img/p.png'];

/** `n` squid lines from `t0` (epoch s), mostly in order, some out of order, some far too late. */
function squidLog(seed: number, t0: number, n: number): string {
  const rnd = lcg(seed);
  const lines: string[] = [];
  let t = t0;
  for (let i = 0; i < n; i++) {
    t += rnd() * 2;
    let at = t;
    const r = rnd();
    if (r < 0.05)
      at = t - rnd() * 90; // out of order, within the lateness
    else if (r < 0.07) at = t - 600 - rnd() * 600; // later than the lateness: LATE
    const ip = `10.0.${Math.floor(rnd() * 3)}.${Math.floor(rnd() * 6)}`;
    const host = HOSTS[Math.floor(rnd() * HOSTS.length)]!;
    const path = PATHS[Math.floor(rnd() * PATHS.length)]!;
    const method = rnd() < 0.2 ? 'POST' : 'GET';
    const bytes = method === 'POST' ? Math.floor(rnd() * 3_000_000) : Math.floor(rnd() * 50_000);
    if (rnd() < 0.01) {
      lines.push(`garbage line ${i} without the squid fields`);
      continue;
    }
    // a client field of '-' has no address: the window's MISSING_KEY
    const client = rnd() < 0.01 ? '-' : ip;
    lines.push(`${at.toFixed(3)} ${Math.floor(rnd() * 500)} ${client} TCP_MISS/200 ${bytes} ${method} http://${host}${path} - HIER_DIRECT/192.0.2.1 text/html`);
  }
  return `${lines.join('\n')}\n`;
}

function spec(dir: string): string {
  return `version: 1
name: same-output
nodes:
  proxy:
    source: file
    with: { paths: ["${dir}/logs/*.log"], batch_size: 40 }
  parse:
    transform: proxy-log
    from: proxy
    with: { format: auto, keep_original: true }
  sweep:
    analyse: ioc-sweep
    from: parse
    with:
      feeds: [{ name: bad, path: "${dir}/bad.txt", format: list }]
  volume:
    analyse: window
    from: parse
    with:
      key: [source.ip]
      size: 5m
      slide: 1m
      allowed_lateness: 2m
      aggregate:
        requests: count
        bytes_out: { sum: http.request.bytes }
        biggest: { max: http.request.bytes }
        hosts: { distinct: url.domain }
      alert_when: { ">": [{ var: requests }, 12] }
      samples: 2
      alert: { name: busy }
  detect:
    analyse: rules
    from: parse
    with:
      rules:
        - name: raw-ip-exe
          when: { and: [{ is_ip: { var: url.domain } }, { "==": [{ var: url.path }, /x/setup.exe] }] }
        - name: big-post
          when: { and: [{ "==": [{ var: http.request.method }, POST] }, { ">": [{ var: http.request.bytes }, 2000000] }] }
  alerts:
    sink: file
    from: [sweep.alerts, volume.alerts, detect.alerts]
    with: { path: "${dir}/OUT/alerts.jsonl", mode: overwrite }
  windows:
    sink: file
    from: volume.windows
    with: { path: "${dir}/OUT/windows.jsonl", mode: overwrite }
  late:
    sink: file
    from: volume.late
    with: { path: "${dir}/OUT/late.jsonl", mode: overwrite }
  rejects:
    sink: file
    from: [proxy.invalid, parse.invalid]
    with: { path: "${dir}/OUT/rejects.jsonl", mode: overwrite }
`;
}

type Outputs = { alerts: string[]; windows: string[]; late: string[]; rejects: string[] };

async function run(dir: string, workers: number): Promise<Outputs> {
  const file = join(dir, `spec-${workers}.yaml`);
  writeFileSync(file, spec(dir).replaceAll('/OUT/', `/out-${workers}/`));
  const { spec: compiled, issues } = await loadSpec(file, { registry: builtinRegistry() });
  expect(issues?.filter((i) => i.severity === 'error') ?? []).toEqual([]);
  const summary = await runPipeline(compiled!, { stateDir: join(dir, `state-${workers}`), logger: testContext().logger, workers, once: true });
  expect(summary.workers?.count).toBe(workers);
  const read = (name: string) =>
    readFileSync(join(dir, `out-${workers}`, `${name}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const r = JSON.parse(l);
        if (name === 'rejects') delete r['@timestamp'];
        return JSON.stringify(r);
      })
      .sort();
  return { alerts: read('alerts'), windows: read('windows'), late: read('late'), rejects: read('rejects') };
}

describe('one thread and two worker copies give the same outputs', () => {
  it('the default pipeline shape, records out of order and late, two files, many batches', async () => {
    const dir = tempDir('same-');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'bad.txt'), 'bad.example.net\n10.0.2.5\n');
    const t0 = 1_715_680_800;
    writeFileSync(join(dir, 'logs', 'a.log'), squidLog(1, t0, 3000));
    // the second file starts 30 minutes into the first: its early records fall before windows
    // the first file's watermark already closed
    writeFileSync(join(dir, 'logs', 'b.log'), squidLog(2, t0 + 1800, 2000));
    const one = await run(dir, 1);
    const two = await run(dir, 2);
    // the data exercises what it should
    expect(one.alerts.length).toBeGreaterThan(20);
    expect(one.windows.length).toBeGreaterThan(100);
    const reasons = new Set(one.late.map((l) => JSON.parse(l).window.reason));
    expect(reasons).toEqual(new Set(['LATE', 'MISSING_KEY']));
    expect(one.rejects.length).toBeGreaterThan(10);
    expect(two.alerts).toEqual(one.alerts);
    expect(two.windows).toEqual(one.windows);
    expect(two.late).toEqual(one.late);
    expect(two.rejects).toEqual(one.rejects);
  }, 60_000);
});
