/** Feed fixture files to proxy-log as the file source would, and check the accounting every time. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { resolve } from 'node:path';
import { expect } from 'vitest';
import proxyLog, { type ProxyLogParser, publishedValidator } from '../../../plugins/transform/proxy-log/index.js';
import { createProcessor, testContext } from '../../helpers/harness.js';
import type { Rec } from '../../../src/api.js';

export const FIXTURES = resolve(import.meta.dirname, '../../fixtures/proxy-log');
export const EXAMPLES = resolve(import.meta.dirname, '../../../examples/logs');

/** Split bytes into line records like the file source: `\n` ends a line, `\r` stays, raw_base64 for bad UTF-8. */
export function lineRecords(bytes: Buffer, file: string): Rec[] {
  const out: Rec[] = [];
  let start = 0;
  let line = 0;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  while (start < bytes.length) {
    let end = bytes.indexOf(10, start);
    if (end === -1) end = bytes.length;
    const chunk = bytes.subarray(start, end);
    const rec: Rec = { message: chunk.toString('utf8'), origin: { file, line: ++line } };
    try {
      decoder.decode(chunk);
    } catch {
      rec.raw_base64 = chunk.toString('base64');
    }
    out.push(rec);
    start = end + 1;
  }
  return out;
}

export function fixture(name: string): Rec[] {
  return lineRecords(readFileSync(resolve(FIXTURES, name)), name);
}

export function example(name: string): Rec[] {
  const bytes = readFileSync(resolve(EXAMPLES, name));
  return lineRecords(name.endsWith('.gz') ? gunzipSync(bytes) : bytes, name);
}

export function lines(text: string, file = 'inline.log'): Rec[] {
  return text.split('\n').map((message, i) => ({ message, origin: { file, line: i + 1 } }));
}

export interface Parsed {
  out: Rec[];
  invalid: Rec[];
  totals: ProxyLogParser['totals'];
  counters: Record<string, number>;
}

/** Run batches through a fresh parser; asserts in = out + invalid + directives + blank. */
export async function parse(withConfig: unknown, ...batches: Rec[][]): Promise<Parsed> {
  const ctx = testContext('parse');
  const p = (await createProcessor(proxyLog, withConfig, ctx)) as ProxyLogParser;
  const out: Rec[] = [];
  const invalid: Rec[] = [];
  let n = 0;
  for (const b of batches) {
    const r = p.process(b);
    out.push(...r.out);
    invalid.push(...r.invalid);
    n += b.length;
  }
  const t = p.totals;
  expect(t.in).toBe(n);
  expect(out.length + invalid.length + t.directives + t.blank).toBe(n);
  expect(t.out).toBe(out.length);
  expect(t.invalid).toBe(invalid.length);
  expect(ctx.counters.lines_in ?? 0).toBe(n);
  // the parser checks its records against the schema less its key checks (the layout makes them
  // hold): the published schema, key checks included, must accept every record it let through
  const published = publishedValidator();
  for (const r of out) expect(published(r), JSON.stringify([r, published.errors])).toBe(true);
  return { out, invalid, totals: t, counters: ctx.counters };
}

/** The record parsed from a given line of a given file. */
export function at(recs: Rec[], line: number, file?: string): Rec {
  const r = recs.find((x) => x.origin?.line === line && (file === undefined || x.origin?.file === file));
  if (!r) throw new Error(`no record for line ${line}${file ? ` of ${file}` : ''}`);
  return r;
}

export function codes(invalid: Rec[]): [number, string][] {
  return invalid.map((r) => [r.origin.line, r.error.code]);
}
