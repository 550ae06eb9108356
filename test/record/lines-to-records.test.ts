/**
 * `linesToRecords` against a plain reference (split on LF, one trailing CR dropped, empty lines
 * skipped but counted), on ASCII blocks (one string per line, copied from the bytes) and on blocks
 * holding non-ASCII bytes (one decoded text, sliced), with and without a final newline, and with
 * and without the line ends a source hands over (`LineBlock.ends`).
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

/** Where each line of `bytes` ends, as `LineBlock.ends` says: each `\n`, and the end of a last line without one. */
function endsOf(bytes: Buffer): Int32Array {
  const ends: number[] = [];
  bytes.forEach((c, i) => {
    if (c === 0x0a) ends.push(i);
  });
  if (bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a) ends.push(bytes.length);
  return Int32Array.from(ends);
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

  it('reads the lines where the block says they end: the same records as without (property)', () => {
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 20 }), fc.boolean(), (lines, finalNl) => {
        const text = lines.join('\n') + (finalNl ? '\n' : '');
        const bytes = Buffer.from(text, 'utf8');
        const want = reference(text, 'x.log', 3);
        expect(linesToRecords({ ...block(bytes, want.length), ends: endsOf(bytes) })).toEqual(want);
      }),
      { numRuns: 500 },
    );
  });

  it('reads each line where `ends` says it ends, without searching the bytes (the source found them)', () => {
    // ends that do not fall on the newline: read as given, so the line after starts one byte past it
    const got = linesToRecords({ ...block(Buffer.from('ab\ncd'), 2), ends: Int32Array.from([1, 6]) });
    expect(got.map((r) => r.message)).toEqual(['a', '\ncd']);
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
