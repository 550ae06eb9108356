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
  let blank = 0;
  const o: CutLines = {
    file: 'x.log',
    batchSize,
    maxLineBytes: MAX,
    line: 0,
    emit: async (block) => {
      if (block) blocks.push({ ...block, bytes: block.bytes.slice() });
      return true;
    },
    tooLong: (line) => void tooLong.push(line),
    blank: () => void blank++,
  };
  await cutInTwo(text, split, o);
  return { blocks, tooLong, blank };
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
          const { blocks, tooLong, blank } = await cut(text, text.length === 0 ? 0 : at % text.length, batchSize);
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
});
