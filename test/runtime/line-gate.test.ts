/**
 * Records that are never made (src/runtime/line-gate.ts): in a parallel chain file → proxy-log →
 * ioc-sweep whose parsed and passed-on records nobody else reads, the squid lines the sweep cannot
 * alert on are skipped before their record is made. The run must be indistinguishable from one
 * without the gate (SLUICE_LINE_GATE=0) but for the `gated` metric: the same alerts in the same
 * order, the same rejects, the same counts on every node and port. And the gate stays off where a
 * skipped record would be seen: parsed records read by another node, the sweep's passed-on records
 * read, an alert suppressor (whose clock each batch's last record moves). Both ways a probe and a
 * gate can speak (the probe's objects, API 1.6; spans of an ASCII line's bytes, API 1.10, the
 * default, with the objects for the blocks that are not ASCII) give that run.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunSummary } from '../../src/runtime/summary.js';
import { tempDir } from '../helpers/tmp.js';
import { nodeOf, runTestSpec } from '../helpers/run-spec.js';
import { linesWithoutTime } from '../helpers/jsonl.js';

const HOSTS = ['www.example.com', 'bad.example.net', 'cdn.example.org', 'x.evil.example.io', 'files.example.com', 'a.example.com:443'];
const PEERS = ['192.0.2.1', '198.51.100.7', '2001:db8::7', '-'];

/** `n` squid lines: every 89th broken (a reject), a few in a layout the probe leaves to the parser, hosts and peers some of which are in the feed. */
function squidLog(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 89 === 13) {
      lines.push(i % 2 ? `broken line ${i}` : `${1715680800 + i}.000 12 10.0.0.1 TCP_MISS/200`);
      continue;
    }
    const host = HOSTS[(i * 7 + (i >> 3)) % HOSTS.length]!;
    const connect = host.endsWith(':443');
    const url = connect ? host : `http://${host}/p${i % 11}${i % 5 === 0 ? '?q=1' : ''}`;
    const peer = PEERS[i % PEERS.length]!;
    // every 50th: an HTTP version column (the general parser's layout), or a client that is a name
    const client = i % 50 === 7 ? 'client.example' : `10.0.${i % 3}.${i % 7}`;
    const version = i % 50 === 9 ? ' HTTP/1.1' : '';
    // a user name that is not ASCII: its block's lines are all made into records
    const user = i === 2500 ? 'jos\u00e9' : '-';
    // some lines end in CR LF
    const cr = i % 97 === 5 ? '\r' : '';
    lines.push(
      `${1715680800 + i}.${String(i % 1000).padStart(3, '0')} ${i % 500} ${client} TCP_MISS/200 ${i * 13} ${connect ? 'CONNECT' : 'GET'} ${url}${version} ${user} HIER_DIRECT/${peer} text/html${cr}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function setup(sweepWith = '', extra = ''): { dir: string; file: string } {
  const dir = tempDir('line-gate-');
  writeFileSync(join(dir, 'a.log'), squidLog(6000));
  writeFileSync(join(dir, 'bad.txt'), 'bad.example.net\n198.51.100.0/24\nevil.example.io\nhttp://files.example.com/p3\n');
  const file = join(dir, 'spec.yaml');
  writeFileSync(
    file,
    `version: 1
name: line-gate
nodes:
  logs: { source: file, with: { paths: ["${dir}/a.log"], batch_size: 500 } }
  parse: { transform: proxy-log, from: logs, with: { format: auto } }
  sweep:
    analyse: ioc-sweep
    from: parse
    with: { feeds: [{ name: bad, path: "${dir}/bad.txt", format: list }]${sweepWith} }
  alerts: { sink: file, from: sweep.alerts, with: { path: "\${OUT}/alerts.jsonl" } }
  rejects: { sink: file, from: [logs.invalid, parse.invalid], with: { path: "\${OUT}/rejects.jsonl" } }
${extra}`,
  );
  return { dir, file };
}

/**
 * `gate`: false, off; 'spans', on as the runtime uses it by default (spans of an ASCII line's bytes,
 * API 1.10); 'objects', on with the probe's objects only (API 1.6, `SLUICE_LINE_SPANS=0`).
 */
async function run(file: string, out: string, gate: false | 'spans' | 'objects'): Promise<RunSummary> {
  const before = [process.env.SLUICE_LINE_GATE, process.env.SLUICE_LINE_SPANS];
  // worker threads take the environment as it is when they start
  if (gate) delete process.env.SLUICE_LINE_GATE;
  else process.env.SLUICE_LINE_GATE = '0';
  if (gate === 'objects') process.env.SLUICE_LINE_SPANS = '0';
  else delete process.env.SLUICE_LINE_SPANS;
  try {
    return await runTestSpec(file, out, { workers: 2 });
  } finally {
    for (const [k, v] of [
      ['SLUICE_LINE_GATE', before[0]],
      ['SLUICE_LINE_SPANS', before[1]],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const read = (f: string) => readFileSync(f, 'utf8');
/** Rejects carry the time they were made (`@timestamp`): compared without it. */
const rejects = linesWithoutTime;
const node = nodeOf;
const withoutGated = (m: Record<string, number>) => {
  const { gated: _, ...rest } = m;
  return rest;
};

describe('the line gate', () => {
  it('skips most lines, and the run is the run without it: alerts in order, rejects, every count', async () => {
    const { dir, file } = setup();
    const on = await run(file, join(dir, 'on'), 'objects');
    const off = await run(file, join(dir, 'off'), false);
    const spans = await run(file, join(dir, 'spans'), 'spans');
    const alerts = read(join(dir, 'off', 'alerts.jsonl'));
    expect(alerts.split('\n').filter(Boolean).length).toBeGreaterThan(1000);
    const rej = rejects(join(dir, 'off', 'rejects.jsonl'));
    expect(rej.length).toBeGreaterThan(50);
    for (const [way, sum] of [
      ['on', on],
      ['spans', spans],
    ] as const) {
      expect(read(join(dir, way, 'alerts.jsonl')), way).toBe(alerts);
      expect(rejects(join(dir, way, 'rejects.jsonl')), way).toEqual(rej);
      for (const name of ['logs', 'parse', 'sweep', 'alerts', 'rejects']) {
        expect(node(sum, name).in, name).toBe(node(off, name).in);
        expect(node(sum, name).out, name).toEqual(node(off, name).out);
        expect(withoutGated(node(sum, name).metrics), name).toEqual(node(off, name).metrics);
      }
    }
    // the spans skip the lines the objects skip (the log's IPv6 peer is written canonically)
    expect(node(spans, 'parse').metrics.gated).toBe(node(on, 'parse').metrics.gated);
    // most lines never became records; the ones the probe leaves to the parser, and the alerting ones, did
    const gated = node(on, 'parse').metrics.gated!;
    expect(node(off, 'parse').metrics.gated).toBeUndefined();
    expect(gated).toBeGreaterThan(1500);
    expect(gated).toBeLessThan(node(on, 'parse').out.out! - node(on, 'sweep').out.alerts!);
  });

  it('stays off where a skipped record would be seen', async () => {
    const cases = [
      // the parsed records are read by a sink too
      setup('', '  parsed: { sink: file, from: parse, with: { path: "${OUT}/parsed.jsonl" } }\n'),
      // the sweep's passed-on records are read
      setup('', '  swept: { sink: file, from: sweep, with: { path: "${OUT}/swept.jsonl" } }\n'),
      // alert suppression
      setup(', suppress: { period: 10m }'),
    ];
    for (const { dir, file } of cases) {
      const on = await run(file, join(dir, 'on'), 'spans');
      expect(node(on, 'parse').metrics.gated, file).toBeUndefined();
      expect(node(on, 'parse').out.out).toBeGreaterThan(5000);
    }
  });
});
