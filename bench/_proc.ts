import { readFileSync } from 'node:fs';
import proxyLog, { ProxyLogParser } from '../plugins/transform/proxy-log/index.js';
import { parseSquid } from '../plugins/transform/proxy-log/squid.js';
import { quietContext } from './lib/context.js';
import { chunksOf } from '../src/runtime/chunks.js';
import type { LineBlock } from '../src/record.js';
const fd = readFileSync(process.argv[2]!).subarray(0, 40_000_000);
const blocks: LineBlock[] = [];
let s = 0; let line = 1;
for (let b = 0; b < 100; b++) { let e = s; for (let k = 0; k < 1000; k++) e = fd.indexOf(10, e) + 1; blocks.push({ kind: 'lines', file: 'f', firstLine: line, bytes: new Uint8Array(fd.subarray(s, e)), records: 1000 }); s = e; line += 1000; }
const p = proxyLog.create({ format: 'squid', keep_original: false }, quietContext('parse')) as ProxyLogParser;
const which = process.argv[3];
const res: number[] = [];
for (let pass = 0; pass < 8; pass++) {
  let out = 0; const t = performance.now();
  for (const b of blocks) for (const recs of chunksOf(b)) {
    if (which === 'process') out += p.process(recs).out.length;
    else if (which === 'parse') { for (let i = 0; i < recs.length; i++) { const r = parseSquid(recs[i]!.message); if ((r as any).http) out++; } }
    else out += recs.length;
  }
  res.push((performance.now() - t) * 1e6 / 100000);
}
res.sort((a, b) => a - b);
console.log(which, 'min', res[0]!.toFixed(0), 'med', res[4]!.toFixed(0));
