/**
 * The benchmark generator: deterministic (same seed → same bytes), and what it writes is what the
 * parser and the sweep see — every format parses, the broken lines it injected are exactly the
 * parser's invalid records, and the sweep raises exactly one alert per malicious line it injected.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mulberry32, subSeed } from '../../bench/lib/prng.js';
import { feedLines, hitPool, HIT_POOL_SIZE } from '../../bench/generate/feed.js';
import { emptyStats, logLines, LOG_FORMATS, type LogFormat, type LogStats } from '../../bench/generate/logs.js';
import { ensureFeed, ensureLog } from '../../bench/generate/files.js';
import proxyLog from '../../plugins/transform/proxy-log/index.js';
import iocSweep from '../../plugins/analyse/ioc-sweep/index.js';
import { createProcessor, processAll } from '../helpers/harness.js';
import type { Rec } from '../../src/api.js';
import { tempDir } from '../helpers/tmp.js';

function generate(format: LogFormat, seed: number, lines: number): { text: string; stats: LogStats } {
  const stats = emptyStats();
  const text = [...logLines({ seed, lines, format }, stats)].join('\n') + '\n';
  return { text, stats };
}

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

describe('mulberry32', () => {
  it('is a pure function of its seed', () => {
    const a = mulberry32(7),
      b = mulberry32(7),
      c = mulberry32(8);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
    // Pinned: a change of algorithm must change GENERATOR_VERSION too.
    expect(mulberry32(42)()).toBeCloseTo(0.6011037519, 9);
    expect(subSeed(42, 'feed')).not.toBe(subSeed(42, 'logs'));
  });
});

describe('log generator', () => {
  for (const format of LOG_FORMATS) {
    it(`${format}: same seed, same bytes; another seed, other bytes`, () => {
      const a = generate(format, 1, 3000),
        b = generate(format, 1, 3000),
        c = generate(format, 2, 3000);
      expect(sha(a.text)).toBe(sha(b.text));
      expect(a.stats).toEqual(b.stats);
      expect(sha(c.text)).not.toBe(sha(a.text));
      expect(a.stats.lines).toBe(3000);
    });
  }

  it('writes the same file twice and reuses it', () => {
    const dir = tempDir('bench-');
    const f1 = ensureLog('squid', 5, 2000, dir);
    const bytes1 = readFileSync(f1.path);
    const f2 = ensureLog('squid', 5, 2000, dir);
    expect(f2.path).toBe(f1.path);
    expect(sha(readFileSync(f2.path))).toBe(sha(bytes1));
    expect(f2.stats).toEqual(f1.stats);
    expect(bytes1.toString('utf8')).toBe(generate('squid', 5, 2000).text);
  });

  it('injects broken, malicious and near-miss lines at the advertised rates', () => {
    const { stats } = generate('squid', 3, 100_000);
    expect(stats.invalid / stats.lines).toBeGreaterThan(0.004);
    expect(stats.invalid / stats.lines).toBeLessThan(0.006);
    expect(stats.malicious / stats.lines).toBeGreaterThan(0.0015);
    expect(stats.malicious / stats.lines).toBeLessThan(0.0025);
    expect(stats.nearMiss).toBeGreaterThan(50);
    for (const n of Object.values(stats.maliciousByType)) expect(n).toBeGreaterThan(0);
  });
});

describe('feed generator', () => {
  it('is deterministic, holds exactly M indicators and the whole hit pool', () => {
    const a = [...feedLines({ seed: 9, indicators: 20_000 })];
    expect([...feedLines({ seed: 9, indicators: 20_000 })]).toEqual(a);
    const values = a.filter((l) => l && !l.startsWith('#'));
    expect(values).toHaveLength(20_000);
    const set = new Set(values);
    const pool = hitPool(9);
    expect(pool).toHaveLength(HIT_POOL_SIZE);
    for (const ind of pool) expect(set.has(ind.value)).toBe(true);
    const kinds = { cidr4: 0, cidr6: 0, ipv6: 0, url: 0 };
    for (const v of values) {
      if (v.includes('://')) kinds.url++;
      else if (v.includes('/')) v.includes(':') ? kinds.cidr6++ : kinds.cidr4++;
      else if (v.includes(':')) kinds.ipv6++;
    }
    for (const n of Object.values(kinds)) expect(n).toBeGreaterThan(100);
  });
});

function lineRecords(text: string, file: string): Rec[][] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const batches: Rec[][] = [];
  for (let i = 0; i < lines.length; i += 500) {
    batches.push(lines.slice(i, i + 500).map((message, j) => ({ message, origin: { file, line: i + j + 1 } })));
  }
  return batches;
}

describe('generated logs through the real parser and sweep', () => {
  for (const format of LOG_FORMATS) {
    it(`${format}: parses, and the parser rejects exactly the injected broken lines`, async () => {
      const { text, stats } = generate(format, 11, 20_000);
      for (const cfg of [{ format }, { format: 'auto' }]) {
        const parser = await createProcessor(proxyLog, cfg);
        const out = await processAll(parser, lineRecords(text, `gen.${format}`));
        expect(out.invalid?.length ?? 0, `${cfg.format}: invalid`).toBe(stats.invalid);
        expect(out.out?.length ?? 0, `${cfg.format}: parsed`).toBe(stats.lines - stats.invalid);
      }
    });
  }

  // Zscaler NSS keeps the scheme-less `eurl` in url.original; the sweep matches the rebuilt url.full.
  for (const format of LOG_FORMATS) {
    it(`${format}: the sweep raises one alert per injected malicious line and none for near misses`, async () => {
      const dir = tempDir('bench-');
      const feed = ensureFeed(11, 5_000, dir);
      const log = ensureLog(format, 11, 30_000, dir);
      const parser = await createProcessor(proxyLog, { format });
      const parsed = await processAll(parser, lineRecords(readFileSync(log.path, 'utf8'), log.path));
      const sweep = await createProcessor(iocSweep, { feeds: [{ name: 'bench', path: feed.path, format: 'list' }] });
      const swept = await processAll(sweep, [parsed.out ?? []]);
      expect(log.stats.malicious).toBeGreaterThan(30);
      expect(swept.alerts?.length ?? 0).toBe(log.stats.malicious);
    });
  }
});
