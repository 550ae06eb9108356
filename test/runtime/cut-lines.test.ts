/**
 * `cutLines` (src/line-reader.ts), the line sources' cutter, on random text cut into two chunks the
 * way the file source reads it (the line across the cut carried over as `pre`): every block says
 * where its lines end (`LineBlock.ends`: each newline, and the end of a last line without one) and
 * how many records it gives, and the blocks with the over-long lines account for every line.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CutLines } from '../../src/line-reader.js';
import { cutInTwo } from '../helpers/cut-in-two.js';
import type { LineBlock } from '../../src/record.js';

const MAX = 12;

/** The reference: each `\n` of `bytes`, and its end when the last line has none. */
function endsOf(bytes: Uint8Array): number[] {
  const ends: number[] = [];
  bytes.forEach((c, i) => {
    if (c === 0x0a) ends.push(i);
  });
  if (bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a) ends.push(bytes.length);
  return ends;
}

/** The blocks, the over-long lines' numbers and the blank lines' count of `text` cut at `split`. */
async function cut(text: Buffer, split: number, batchSize: number) {
  const blocks: LineBlock[] = [];
  const tooLong: number[] = [];
  const emitted: { endOffset: number; line: number }[] = [];
  let blank = 0;
  const o: CutLines = {
    file: 'x.log',
    batchSize,
    maxLineBytes: MAX,
    line: 0,
    emit: async (block, endOffset, line) => {
      if (block) blocks.push({ ...block, bytes: block.bytes.slice() });
      emitted.push({ endOffset, line });
      return true;
    },
    tooLong: (line) => void tooLong.push(line),
    blank: () => void blank++,
  };
  await cutInTwo(text, split, o);
  return { blocks, tooLong, blank, emitted };
}

/** Lines of `text` before stream offset `end` (a last line without a newline counts at the very end). */
function linesBefore(text: Buffer, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) if (text[i] === 0x0a) n++;
  return end === text.length && end > 0 && text[end - 1] !== 0x0a ? n + 1 : n;
}

/** Every emit's offset and line number agree with the text, no block holds more than `batchSize` records, and the last emit is the text's end. */
function expectEmitsAgree(text: Buffer, r: Awaited<ReturnType<typeof cut>>, batchSize: number): void {
  let last = 0;
  for (const e of r.emitted) {
    expect(e.endOffset).toBeGreaterThanOrEqual(last);
    expect(e.line).toBe(linesBefore(text, e.endOffset));
    last = e.endOffset;
  }
  expect(last).toBe(text.length);
  for (const b of r.blocks) expect(b.records).toBeLessThanOrEqual(batchSize);
}

const line = fc.oneof(
  fc.constant(''),
  fc.constant('\r'),
  fc.stringMatching(/^[a-z .\r]{1,10}$/),
  fc.stringMatching(/^[a-z]{13,20}$/), // longer than MAX: rejected, not in a block
);

describe('cutLines', () => {
  it('hands over where each line of a block ends, blank lines included (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        fc.nat(),
        fc.integer({ min: 1, max: 6 }),
        async (lines, finalNl, at, batchSize) => {
          const text = Buffer.from(lines.join('\n') + (finalNl ? '\n' : ''));
          const r = await cut(text, text.length === 0 ? 0 : at % text.length, batchSize);
          const { blocks, tooLong, blank } = r;
          expectEmitsAgree(text, r, batchSize);
          let inBlocks = 0;
          for (const b of blocks) {
            expect(b.ends).toBeDefined();
            expect([...b.ends!]).toEqual(endsOf(b.bytes));
            const texts = Buffer.from(b.bytes).toString('latin1').replace(/\n$/, '').split('\n');
            expect(b.records).toBe(texts.filter((t) => t.replace(/\r$/, '') !== '').length);
            inBlocks += b.ends!.length;
          }
          // every line once: in a block, or rejected as too long (a last '' without a newline after it is no line)
          const counted = finalNl || lines[lines.length - 1] !== '' ? lines : lines.slice(0, -1);
          expect(inBlocks + tooLong.length).toBe(counted.length);
          expect(blank).toBe(counted.filter((l) => l.replace(/\r$/, '') === '').length);
          expect(tooLong).toEqual(counted.flatMap((l, i) => (l.length > MAX ? [i + 1] : [])));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps blank lines beyond the batch size, and counts them (property)', async () => {
    // more blank lines in one block than the room first kept for its line ends (the batch size + 16)
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('', '', '', '\r', 'ab'), { minLength: 20, maxLength: 90 }), fc.nat(), async (lines, at) => {
        const text = Buffer.from(`${lines.join('\n')}\n`);
        const r = await cut(text, at % text.length, 1);
        expectEmitsAgree(text, r, 1);
        expect(r.blocks.reduce((n, b) => n + b.ends!.length, 0)).toBe(lines.length);
        expect(r.blank).toBe(lines.filter((l) => l.replace(/\r$/, '') === '').length);
        for (const b of r.blocks) expect([...b.ends!]).toEqual(endsOf(b.bytes));
      }),
      { numRuns: 200 },
    );
  });
});
