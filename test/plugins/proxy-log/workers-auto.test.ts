/**
 * `format: auto` on one big file gives the same records and rejects, in the same order, on one
 * thread as on two worker copies: a squid file's format settles and its batches spread over both
 * copies (runtime/worker-pool.ts); an ELFF file, whose `#Fields:` may change mid-file, never settles.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

function spec(dir: string, log: string): string {
  const file = join(dir, 'spec.yaml');
  writeFileSync(
    file,
    `version: 1
name: auto-workers
nodes:
  logs: { source: file, with: { paths: ["${log}"], batch_size: 250 } }
  parse: { transform: proxy-log, from: logs, with: { format: auto } }
  records: { sink: file, from: parse, with: { path: "\${OUT}/records.jsonl" } }
  rejects: { sink: file, from: [logs.invalid, parse.invalid], with: { path: "\${OUT}/rejects.jsonl" } }
`,
  );
  return file;
}

/** Records and rejects (rejects without the time they were made), in the order written, for 1 and 2 workers. */
async function both(dir: string, log: string) {
  const file = spec(dir, log);
  const got: Record<string, { records: string[]; rejects: string[]; counts: unknown }> = {};
  for (const w of ['1', '2']) {
    const out = join(dir, `w${w}`);
    const r = await runCli(['run', file, '--var', `OUT=${out}`, '--workers', w, '--summary-json', join(out, 's.json'), '--log-level', 'warn']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const read = (f: string) => readFileSync(join(out, f), 'utf8').split('\n').filter(Boolean);
    const summary = JSON.parse(readFileSync(join(out, 's.json'), 'utf8'));
    got[w] = {
      records: read('records.jsonl'),
      rejects: read('rejects.jsonl').map((l) => {
        const j = JSON.parse(l);
        delete j['@timestamp'];
        return JSON.stringify(j);
      }),
      counts: summary.nodes.map((n: any) => [n.node, n.in, n.out, n.metrics]),
    };
  }
  expect(got['2']!.records).toEqual(got['1']!.records);
  expect(got['2']!.rejects).toEqual(got['1']!.rejects);
  expect(got['2']!.counts).toEqual(got['1']!.counts);
  return got['1']!;
}

describe('proxy-log format: auto with worker copies', () => {
  it('one squid file, rejects included: --workers 2 gives exactly what --workers 1 gives', async () => {
    const dir = tempDir('auto-squid-');
    const lines: string[] = ['not a log line', '# a comment', 'still nothing auto can read'];
    for (let i = 0; i < 12_000; i++) {
      if (i % 997 === 5)
        lines.push('1715680800.123 oops'); // a squid line cut short: PARSE_FIELD_COUNT
      else if (i % 1499 === 7) lines.push('#Fields: date time c-ip'); // a directive in a squid file is not ELFF
      lines.push(
        `1715680800.${String(i % 1000).padStart(3, '0')}    120 10.1.${i % 7}.${i % 200} TCP_MISS/200 512 GET http://h${i % 50}.example/p${i} - DIRECT/192.0.2.${i % 250} text/html`,
      );
    }
    const log = join(dir, 'access.log');
    writeFileSync(log, lines.join('\n') + '\n');
    const one = await both(dir, log);
    expect(one.records).toHaveLength(12_000);
    const codes = one.rejects.map((l) => JSON.parse(l).error.code);
    expect(codes.slice(0, 2)).toEqual(['PARSE_FORMAT', 'PARSE_FORMAT']);
    expect(codes.filter((c) => c === 'PARSE_FIELD_COUNT')).toHaveLength(13);
  });

  it('one ELFF file whose #Fields: change mid-file: --workers 2 gives exactly what --workers 1 gives', async () => {
    const dir = tempDir('auto-elff-');
    const lines: string[] = ['#Software: SGOS 7.3.5.1', '#Fields: date time c-ip sc-status cs-method cs-uri'];
    const t = (i: number) => `2024-03-22 10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`;
    for (let i = 0; i < 3000; i++) lines.push(`${t(i)} 10.0.0.${i % 200} 200 GET http://a${i % 9}.example/x${i}`);
    // the header changes: columns reordered and one added; lines after it only parse with the new one
    lines.push('#Fields: date time cs-method sc-status c-ip cs-host cs-uri');
    for (let i = 0; i < 3000; i++) lines.push(`${t(i)} GET 404 10.0.1.${i % 200} b${i % 5}.example http://b${i % 5}.example/y${i}`);
    const log = join(dir, 'main.log');
    writeFileSync(log, lines.join('\n') + '\n');
    const one = await both(dir, log);
    expect(one.rejects).toEqual([]);
    expect(one.records).toHaveLength(6000);
    const last = JSON.parse(one.records.at(-1)!);
    expect(last.http.response.status_code).toBe(404);
    expect(last.source.ip).toBe('10.0.1.199');
  });
});
