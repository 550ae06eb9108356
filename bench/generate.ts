/**
 * `node dist/bench/generate.js [--seed N] [--lines N] [--indicators M] [--format F ...]`: write
 * benchmark data under bench/data/ (or reuse it) and print the paths. `npm run bench` calls the same
 * functions; this entry point exists for looking at the data or feeding it to other tools.
 */
import { parseArgs } from 'node:util';
import { ensureFeed, ensureLog } from './generate/files.js';
import { LOG_FORMATS, type LogFormat } from './generate/logs.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '42' },
    lines: { type: 'string', default: '100000' },
    indicators: { type: 'string', default: '100000' },
    format: { type: 'string', multiple: true },
  },
});
const seed = Number(values.seed);
const lines = Number(values.lines);
const indicators = Number(values.indicators);
const formats = (values.format ?? LOG_FORMATS) as LogFormat[];
for (const f of formats) {
  if (!LOG_FORMATS.includes(f)) throw new Error(`unknown format '${f}' (one of ${LOG_FORMATS.join(', ')})`);
  const t = performance.now();
  const log = ensureLog(f, seed, lines);
  console.log(`${log.path}  ${(log.bytes / 1e6).toFixed(1)} MB  ${JSON.stringify(log.stats)}  ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
if (indicators > 0) {
  const t = performance.now();
  const feed = ensureFeed(seed, indicators);
  console.log(`${feed.path}  ${(feed.bytes / 1e6).toFixed(1)} MB  ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
