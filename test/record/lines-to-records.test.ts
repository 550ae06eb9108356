/**
 * `linesToRecords` against a plain reference (split on LF, one trailing CR dropped, empty lines
 * skipped but counted), on ASCII blocks (one string per line, copied from the bytes) and on blocks
 * holding non-ASCII bytes (one decoded text, sliced), with and without a final newline.
 */
import { isAscii } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { linesToRecords, recordChunks, type LineBlock } from '../../src/record.js';

function reference(text: string, file: string, firstLine: number) {
  const parts = text.split('\n');
  if (text.endsWith('\n')) parts.pop();
  const out: { message: string; origin: { file: string; line: number } }[] = [];
  parts.forEach((p, i) => {
    const m = p.endsWith('\r') ? p.slice(0, -1) : p;
    if (m.length > 0) out.push({ message: m, origin: { file, line: firstLine + i } });
  });
  return out;
}

function block(bytes: Buffer, records: number): LineBlock {
  return { kind: 'lines', file: 'x.log', firstLine: 3, bytes: new Uint8Array(bytes), records };
}

const char = fc.constantFrom('a', 'Z', '0', ' ', '\t', '\r', '/', '"', 'é', '→');
const line = fc.array(char, { maxLength: 12 }).map((cs) => cs.join(''));

describe('linesToRecords', () => {
  it('gives the reference records for ASCII and non-ASCII blocks (property)', () => {
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 20 }), fc.boolean(), (lines, finalNl) => {
        const text = lines.join('\n') + (finalNl ? '\n' : '');
        const want = reference(text, 'x.log', 3);
        const got = linesToRecords(block(Buffer.from(text, 'utf8'), want.length));
        expect(got).toEqual(want);
      }),
      { numRuns: 500 },
    );
  });

  it('recordChunks with a line skip: ASCII lines asked as their bytes, refused ones counted; other blocks not asked (property)', () => {
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 40 }), fc.boolean(), fc.integer({ min: 1, max: 8 }), (lines, finalNl, max) => {
        const text = lines.join('\n') + (finalNl ? '\n' : '');
        const want = reference(text, 'x.log', 3);
        const bytes = Buffer.from(text, 'utf8');
        const ascii = isAscii(bytes);
        const refused = (m: string) => m.length % 3 === 0;
        const asked: string[] = [];
        const skip = {
          skipped: 0,
          keep: (_m: string): boolean => {
            throw new Error('asked as text');
          },
          keepBytes: (b: Uint8Array, from: number, to: number) => {
            const m = Buffer.from(b.buffer, b.byteOffset + from, to - from).toString('latin1');
            asked.push(m);
            return !refused(m);
          },
        };
        const got = [...recordChunks(block(bytes, want.length), max, skip)].flat();
        if (ascii) {
          expect(asked).toEqual(want.map((r) => r.message));
          expect(got).toEqual(want.filter((r) => !refused(r.message)));
          expect(skip.skipped).toBe(want.length - got.length);
        } else {
          expect(asked).toEqual([]);
          expect(got).toEqual(want);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('recordChunks: the chunks give the same records, in order, at most `max` each (property)', () => {
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 40 }), fc.boolean(), fc.integer({ min: 1, max: 8 }), (lines, finalNl, max) => {
        const text = lines.join('\n') + (finalNl ? '\n' : '');
        const want = reference(text, 'x.log', 3);
        const chunks = [...recordChunks(block(Buffer.from(text, 'utf8'), want.length), max)];
        for (const c of chunks) {
          expect(c.length).toBeGreaterThan(0);
          expect(c.length).toBeLessThanOrEqual(max);
        }
        expect(chunks.flat()).toEqual(want);
      }),
      { numRuns: 500 },
    );
  });
});
