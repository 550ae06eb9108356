/**
 * The tokenize-only ceiling: read the file, split it into lines and each line into space-separated
 * fields, and do nothing else. No parser, matcher or writer can beat it by much in plain Node, so a
 * scenario's ratio to it says how much of the possible speed is left on the table.
 *
 * Usage: node tokenize-ceiling.js FILE   (prints one JSON summary line)
 */
import { createReadStream } from 'node:fs';

async function main(path: string): Promise<void> {
  const t0 = performance.now();
  let lines = 0,
    fields = 0,
    bytes = 0;
  let carry = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = carry + (chunk as string);
    bytes += (chunk as string).length;
    const parts = text.split('\n');
    carry = parts.pop()!;
    for (const line of parts) {
      lines++;
      fields += line.split(' ').length;
    }
  }
  if (carry) {
    lines++;
    fields += carry.split(' ').length;
  }
  console.log(JSON.stringify({ lines, fields, bytes, totalMs: Math.round(performance.now() - t0) }));
}

if (!process.argv[2]) {
  console.error('usage: tokenize-ceiling FILE');
  process.exit(2);
}
main(process.argv[2]).catch((e) => {
  console.error(e);
  process.exit(1);
});
