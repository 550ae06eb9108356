import { describe, it, expect, beforeAll } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

let dir: string;
const lines = (text: string) => text.split('\n').filter(Boolean);

beforeAll(() => {
  dir = tempDir('pipe-');
  const plain = [];
  for (let i = 0; i < 1000; i++) plain.push(`${i % 3 === 0 ? 'GET' : 'POST'} /p/${i} ${i % 5 === 0 ? 500 : 200}`);
  plain.push('X'.repeat(5000)); // longer than max_line_bytes below: rejected by the source
  plain.push('');
  writeFileSync(join(dir, 'a.log'), plain.join('\n') + '\n');
  const gz = [];
  for (let i = 0; i < 500; i++) gz.push(`GET /gz/${i} ${i % 7 === 0 ? 404 : 200}`);
  writeFileSync(join(dir, 'b.log.gz'), gzipSync(gz.join('\r\n'))); // CRLF and no final newline
  writeFileSync(
    join(dir, 'spec.yaml'),
    `version: 1
name: arith
nodes:
  src:
    source: file
    with: { paths: ["${dir}/*.log", "${dir}/*.gz"], max_line_bytes: 1000, batch_size: 100 }
  no-errors:
    transform: filter
    from: src
    with: { when: { "!": [{ "in": [" 500", { var: message }] }] } }
  split:
    transform: route
    from: no-errors
    with: { routes: { gets: { "in": ["GET", { var: message }] } } }
  gets:
    sink: file
    from: split.gets
    with: { path: "${dir}/out/gets.jsonl", mode: overwrite }
  others:
    sink: file
    from: split.unmatched
    with: { path: "${dir}/out/others.jsonl.gz", mode: overwrite }
  rejects:
    sink: file
    from: src.invalid
    with: { path: "${dir}/out/rejects.jsonl", mode: overwrite }
`,
  );
});

describe('file → filter → route → two file sinks', () => {
  it('reads plain and gzip input and its summary adds up: in = out + filtered + rejected', async () => {
    const res = await runCli(['run', join(dir, 'spec.yaml'), '--summary-json', join(dir, 'summary.json'), '--log-level', 'warn']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    const gets = lines(readFileSync(join(dir, 'out/gets.jsonl'), 'utf8'));
    const others = lines(gunzipSync(readFileSync(join(dir, 'out/others.jsonl.gz'))).toString());
    const rejects = lines(readFileSync(join(dir, 'out/rejects.jsonl'), 'utf8'));
    // 1000 + 1 over-long line in a.log (the blank line is skipped, counted), 500 in b.log.gz
    expect(s.recordsIn).toBe(1501);
    expect(rejects.length).toBe(1);
    expect(JSON.parse(rejects[0]!).error.code).toBe('LINE_TOO_LONG');
    const expectedFiltered = Array.from({ length: 1000 }, (_, i) => i).filter((i) => i % 5 === 0).length;
    expect(s.filtered).toBe(expectedFiltered);
    expect(s.invalid).toBe(1);
    expect(gets.length + others.length).toBe(s.recordsOut - rejects.length);
    expect(s.recordsIn).toBe(gets.length + others.length + s.filtered + s.invalid);
    // CRLF stripped, every gzip line present
    const gzGets = gets.map((l) => JSON.parse(l).message).filter((m: string) => m.includes('/gz/'));
    expect(gzGets.length).toBe(500);
    expect(gzGets.every((m: string) => !m.endsWith('\r'))).toBe(true);
    // the table is printed
    expect(res.stdout).toContain('records in 1,501');
  });
});

describe('file source paths', () => {
  it('reads each file once whether named or matched, and takes an existing file name with glob characters as written', async () => {
    const d = tempDir('paths-');
    writeFileSync(join(d, 'a.log'), 'a1\na2\n');
    writeFileSync(join(d, 'b.log'), 'b1\n');
    writeFileSync(join(d, 'c[1].log'), 'c1\nc2\nc3\n'); // as a pattern, `[1]` would match `c1.log` only
    writeFileSync(
      join(d, 'spec.yaml'),
      `version: 1
name: paths
nodes:
  src:
    source: file
    with: { paths: ["${d}/a.log", "${d}/./a.log", "${d}/?.log", "${d}/c[1].log"] }
  out:
    sink: file
    from: [src, src.invalid]
    with: { path: "${d}/out.jsonl", mode: overwrite }
`,
    );
    const res = await runCli(['run', join(d, 'spec.yaml'), '--log-level', 'warn']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const messages = lines(readFileSync(join(d, 'out.jsonl'), 'utf8'))
      .map((l) => JSON.parse(l).message)
      .sort();
    // a.log named twice and matched by the glob; c[1].log only named (`?.log` does not match it)
    expect(messages).toEqual(['a1', 'a2', 'b1', 'c1', 'c2', 'c3']);
  });
});
