/**
 * The naive parse reference: readline over the file, one regex per squid line, `new URL`, the ECS
 * record built from the captures (`naive-squid.ts`), lines that do not match written as JSON lines
 * with their line number — what `file → proxy-log (squid) → rejects` does, as a quick script would.
 *
 * Usage: node naive-parse.js --logs FILE --rejects OUT
 * Prints one JSON summary line on stdout.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { naiveSquidRecord } from './naive-squid.js';

const { values } = parseArgs({ options: { logs: { type: 'string' }, rejects: { type: 'string' } } });
if (!values.logs || !values.rejects) {
  console.error('usage: naive-parse --logs FILE --rejects OUT');
  process.exit(2);
}

function write(ws: WriteStream, s: string): Promise<void> | undefined {
  if (ws.write(s)) return undefined;
  return new Promise((r) => ws.once('drain', r));
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const rejects = createWriteStream(values.rejects!);
  let lines = 0;
  let records = 0;
  let invalid = 0;
  const rl = createInterface({ input: createReadStream(values.logs!), crlfDelay: Infinity });
  for await (const line of rl) {
    lines++;
    if (naiveSquidRecord(line, values.logs!, lines)) {
      records++;
      continue;
    }
    invalid++;
    const p = write(rejects, JSON.stringify({ line: lines, reason: 'NO_MATCH', original: line }) + '\n');
    if (p !== undefined) await p;
  }
  await new Promise((r) => rejects.end(r));
  console.log(JSON.stringify({ lines, records, invalid, totalMs: Math.round(performance.now() - t0) }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
