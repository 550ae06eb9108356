/**
 * A log file read as the `file` source reads it, for the in-process benchmarks: 1 MiB reads, whole
 * lines cut into blocks of at most `perBlock` lines, the lines a read ends with given as a shorter
 * block of their own (the source emits a chunk's last lines at the end of that chunk), a last line
 * without its newline as the last block. Blocks are numbered from line 1 and own their bytes.
 */
import { createReadStream } from 'node:fs';
import type { LineBlock } from '../../src/record.js';

export async function* lineBlocks(path: string, perBlock: number): AsyncGenerator<LineBlock> {
  let line = 1;
  let rest: Buffer = Buffer.alloc(0);
  const block = (bytes: Buffer, records: number): LineBlock => {
    const b: LineBlock = { kind: 'lines', file: path, firstLine: line, bytes: new Uint8Array(bytes), records };
    line += records;
    return b;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let from = 0;
    for (;;) {
      let end = from;
      let n = 0;
      while (n < perBlock) {
        const nl = buf.indexOf(10, end);
        if (nl === -1) break;
        end = nl + 1;
        n++;
      }
      if (n === 0) break;
      yield block(buf.subarray(from, end), n);
      from = end;
      if (n < perBlock) break;
    }
    rest = buf.subarray(from);
  }
  if (rest.length) yield block(rest, 1);
}
