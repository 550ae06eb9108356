/**
 * What a line source delivers, end to end: every line accounted for, exact origins, CRLF, blank
 * lines, invalid UTF-8 (`raw_base64`), over-long lines (`invalid`), a last line without a newline —
 * whether the records are materialised in the main thread (workers: 1) or in worker threads
 * (workers: 2, a parallel chain reading the source). The expectation is computed here from the bytes
 * by a deliberately simple reference, independent of the runtime's code.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { isUtf8 } from 'node:buffer';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const MAX = 200;
let dir: string;
const files: Record<string, Buffer> = {};

function reference(file: string, buf: Buffer): { out: object[]; invalid: { line: number; code: string; original: string }[]; blank: number } {
  const out: object[] = [];
  const invalid: { line: number; code: string; original: string }[] = [];
  let blank = 0;
  let line = 0;
  let start = 0;
  while (start < buf.length) {
    let nl = buf.indexOf(10, start);
    if (nl === -1) nl = buf.length;
    let b = buf.subarray(start, nl);
    start = nl + 1;
    line++;
    if (b.length && b[b.length - 1] === 13) b = b.subarray(0, b.length - 1);
    if (b.length === 0) {
      blank++;
      continue;
    }
    if (b.length > MAX) {
      invalid.push({ line, code: 'LINE_TOO_LONG', original: b.subarray(0, MAX).toString('utf8') });
      continue;
    }
    const rec: Record<string, unknown> = { message: b.toString('utf8'), origin: { file, line } };
    if (!isUtf8(b)) rec.raw_base64 = b.toString('base64');
    out.push(rec);
  }
  return { out, invalid, blank };
}

beforeAll(() => {
  dir = tempDir('lines-');
  const parts: Buffer[] = [];
  const text = (s: string) => parts.push(Buffer.from(s, 'utf8'));
  for (let i = 1; i <= 3000; i++) {
    if (i % 97 === 0)
      text('\n'); // blank
    else if (i % 101 === 0)
      text('\r\n'); // blank once the CR is removed
    else if (i % 89 === 0) parts.push(Buffer.concat([Buffer.from(`bad utf8 ${i} `), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('\n')]));
    else if (i % 83 === 0)
      text(`valid replacement char \uFFFD ${i} é ü 漢\n`); // valid UTF-8: no raw_base64
    else if (i % 211 === 0)
      text(`${'L'.repeat(MAX + 50)} ${i}\n`); // over-long inside a read chunk
    else if (i === 1500)
      text(`${'Z'.repeat(9000)}\n`); // over-long across read chunks
    else if (i % 7 === 0) text(`crlf line ${i}\r\n`);
    else text(`line ${i} ${'x'.repeat(i % 60)}\n`);
  }
  text('last line without newline');
  files['a.log'] = Buffer.concat(parts);
  files['b.log.gz'] = Buffer.concat(parts.slice(0, 800)); // gzip input, same content style
  writeFileSync(join(dir, 'a.log'), files['a.log']);
  writeFileSync(join(dir, 'b.log.gz'), gzipSync(files['b.log.gz']));
});

function spec(workers: number): string {
  const p = join(dir, `spec-${workers}.yaml`);
  writeFileSync(
    p,
    `version: 1
name: lines
settings: { workers: ${workers} }
nodes:
  src: { source: file, with: { paths: ["${dir}/a.log", "${dir}/b.log.gz"], batch_size: 37, max_line_bytes: ${MAX}, read_chunk_bytes: 4096 } }
  keep: { transform: filter, from: src, with: { when: true } }
  out: { sink: file, from: keep, with: { path: "${dir}/out-${workers}.jsonl", mode: overwrite } }
  bad: { sink: file, from: src.invalid, with: { path: "${dir}/bad-${workers}.jsonl", mode: overwrite } }
  raw: { sink: file, from: src, with: { path: "${dir}/raw-${workers}.jsonl", mode: overwrite } }
`,
  );
  return p;
}

describe('line sources: every line accounted for, exactly', () => {
  for (const workers of [1, 2]) {
    it(`workers: ${workers}`, async () => {
      const res = await runCli(['run', spec(workers), '--summary-json', join(dir, `s-${workers}.json`), '--log-level', 'warn']);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      const a = reference(join(dir, 'a.log'), files['a.log']!);
      const b = reference(join(dir, 'b.log.gz'), files['b.log.gz']!);
      const got = readFileSync(join(dir, `out-${workers}.jsonl`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      const key = (r: any) => `${r.origin.file}:${String(r.origin.line).padStart(6, '0')}`;
      got.sort((x, y) => (key(x) < key(y) ? -1 : 1));
      expect(got).toEqual([...a.out, ...b.out]);
      // The same lines also went straight to a main-thread sink (fan-out: each consumer its own bytes).
      const raw = readFileSync(join(dir, `raw-${workers}.jsonl`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      expect(raw).toEqual([...a.out, ...b.out]);
      const bad = readFileSync(join(dir, `bad-${workers}.jsonl`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      expect(bad.map((r) => ({ line: r.origin.line, code: r.error.code, original: r.event.original }))).toEqual([...a.invalid, ...b.invalid]);
      expect(bad.every((r) => r.error.node === 'src')).toBe(true);
      const s = JSON.parse(readFileSync(join(dir, `s-${workers}.json`), 'utf8'));
      const src = s.nodes.find((n: any) => n.node === 'src');
      expect(src.out).toEqual({ out: a.out.length + b.out.length, invalid: a.invalid.length + b.invalid.length });
      expect(src.metrics.blank_lines).toBe(a.blank + b.blank);
      const keep = s.nodes.find((n: any) => n.node === 'keep');
      expect(keep.in).toBe(a.out.length + b.out.length);
    });
  }
});

describe('line sources: random content, batch and read sizes', () => {
  // A small deterministic PRNG: the same cases on every run.
  const rng = (seed: number) => () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}`, async () => {
      const r = rng(seed);
      const parts: Buffer[] = [];
      for (let i = 0; i < 4000; i++) {
        const k = r();
        const len = k < 0.02 ? Math.floor(r() * 3 * MAX) : Math.floor(r() * 120);
        const bytes = Buffer.alloc(len);
        for (let j = 0; j < len; j++) bytes[j] = 32 + Math.floor(r() * 90);
        if (r() < 0.02 && len > 0) bytes[Math.floor(r() * len)] = 0xc3 + Math.floor(r() * 40); // often invalid UTF-8
        parts.push(bytes, Buffer.from(r() < 0.1 ? '\r\n' : '\n'));
      }
      if (r() < 0.5) parts.pop(); // no final newline
      const buf = Buffer.concat(parts);
      const d = tempDir('lines-rnd-');
      writeFileSync(join(d, 'in.log'), buf);
      const batch = 1 + Math.floor(r() * 300);
      const chunk = 4096 + Math.floor(r() * 20000);
      writeFileSync(
        join(d, 'spec.yaml'),
        `version: 1
name: rnd
nodes:
  src: { source: file, with: { paths: ["${d}/in.log"], batch_size: ${batch}, max_line_bytes: ${MAX}, read_chunk_bytes: ${chunk}, checkpoint: true } }
  out: { sink: file, from: src, with: { path: "${d}/out.jsonl", mode: overwrite } }
  bad: { sink: file, from: src.invalid, with: { path: "${d}/bad.jsonl", mode: overwrite } }
`,
      );
      const res = await runCli(['run', join(d, 'spec.yaml'), '--state-dir', join(d, 'state'), '--log-level', 'warn']);
      expect(res.code).toBe(0);
      const ref = reference(join(d, 'in.log'), buf);
      const got = readFileSync(join(d, 'out.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      expect(got).toEqual(ref.out);
      const bad = readFileSync(join(d, 'bad.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      expect(bad.map((x) => ({ line: x.origin.line, code: x.error.code, original: x.event.original }))).toEqual(ref.invalid);
      // The final checkpoint is the whole file.
      const cp = JSON.parse(readFileSync(join(d, 'state/rnd/src/checkpoints.json'), 'utf8'));
      const lineCount = buf.length === 0 ? 0 : buf.toString('latin1').split('\n').length - (buf[buf.length - 1] === 10 ? 1 : 0);
      expect(Object.values(cp.files)[0]).toMatchObject({ offset: buf.length, line: lineCount, complete: true });
    });
  }
});
