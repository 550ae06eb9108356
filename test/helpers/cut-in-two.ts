/**
 * `cutLines` over `text` read as the file source reads a file in two chunks: the first chunk ends at
 * the last newline before `split`, and the line across the cut is carried over into the second call
 * as `pre` (a copy of its start joined with its end). Returns when both chunks are cut.
 */
import { cutLines, type CutLines } from '../../src/line-reader.js';

export async function cutInTwo(text: Buffer, split: number, o: CutLines): Promise<void> {
  const lastNl = text.subarray(0, split).lastIndexOf(0x0a);
  if (lastNl === -1) {
    await cutLines(text, text.length, o);
    return;
  }
  o.line = await cutLines(text.subarray(0, lastNl + 1), lastNl + 1, o);
  const rest = text.subarray(lastNl + 1);
  const nl = rest.indexOf(0x0a);
  if (nl === -1) await cutLines(rest, text.length, o);
  else await cutLines(rest.subarray(nl + 1), text.length, o, Buffer.from(rest.subarray(0, nl + 1)));
}
