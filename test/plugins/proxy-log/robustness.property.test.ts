/**
 * No input crashes proxy-log, and every line is accounted for: in = out + invalid + directives + blank.
 * `parse()` (helpers) asserts the arithmetic on every run.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { lineRecords, parse, fixture } from './helpers.js';
import type { Rec } from '../../../src/api.js';

const FORMATS = ['auto', 'squid', 'combined', 'elff', 'elff-json', 'zscaler-nss'] as const;
const LOGFORMAT = '%>a %[ui %[un [%{%d/%m/%Y %H:%M:%S}tl] "%rm %ru HTTP/%rv" %>Hs %<st %Ss:%Sh %<a %{X-Category}<h %{X-Risk}<h';
/** Every format, and squid read by a logformat (the native preset and a CLF-like one). */
const CONFIGS = [...FORMATS.map((format) => ({ format })), { format: 'squid', logformat: 'squid' }, { format: 'squid', logformat: LOGFORMAT }];

const SAMPLE_LINES = [
  ...fixture('squid-native.log'),
  ...fixture('combined.log'),
  ...fixture('elff-main.log'),
  ...fixture('zscaler.jsonl'),
  ...fixture('squid-aborted.log'),
  ...fixture('zscaler-feed.jsonl'),
  ...fixture('cloudswg.jsonl'),
  ...fixture('combined-vhost.log'),
  ...fixture('squid-logformat.log'),
].map((r) => r.message as string);

describe('proxy-log robustness (property)', () => {
  it('arbitrary bytes, split into lines like a file source, never crash any format', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...CONFIGS), fc.uint8Array({ maxLength: 2000 }), async (config, bytes) => {
        await parse(config, lineRecords(Buffer.from(bytes), 'fuzz.log'));
      }),
      { numRuns: 300 },
    );
  });

  it('truncating or corrupting real-shaped lines anywhere never crashes and keeps the raw text', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...CONFIGS),
        fc.array(fc.tuple(fc.constantFrom(...SAMPLE_LINES), fc.nat(), fc.option(fc.string({ maxLength: 8 }), { nil: undefined })), { maxLength: 30 }),
        async (config, picks) => {
          const recs: Rec[] = picks.map(([line, cut, junk], i) => {
            const at = cut % (line.length + 1);
            return {
              message: junk === undefined ? line.slice(0, at) : line.slice(0, at) + junk + line.slice(at),
              origin: { file: `f${i % 3}.log`, line: i + 1 },
            };
          });
          const { invalid } = await parse(config, recs);
          for (const r of invalid) {
            expect(r.event.original).toBe(recs[r.origin.line - 1]!.message);
            expect(r.error.code).toMatch(/^[A-Z_]+$/);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('invalid UTF-8 keeps its bytes; empty input and empty lines are fine', async () => {
    const bytes = Buffer.concat([
      Buffer.from('1715680801.120 1 10.0.0.1 TCP_MISS/200 10 GET http://a.example/\xff - DIRECT/192.0.2.1 -\n', 'latin1'),
      Buffer.from([0xc3, 0x28, 0x0a, 0x0a]),
    ]);
    const recs = lineRecords(bytes, 'bad-utf8.log');
    const { out, invalid, totals } = await parse({ format: 'squid' }, recs);
    expect(out).toHaveLength(1);
    expect(out[0]!.tags).toEqual(['invalid_utf8']);
    expect(invalid).toHaveLength(1);
    expect(invalid[0]!.event.original_base64).toBe(Buffer.from([0xc3, 0x28]).toString('base64'));
    expect(totals.blank).toBe(1);
    await parse({ format: 'auto' }, []);
    await parse({ format: 'auto' }, [{ message: '', origin: { file: 'e', line: 1 } }]);
  });

  const big = 'x'.repeat(10 * 1024 * 1024);
  const bigLines = (): Rec[] => [
    { message: `1715680801.120 1 10.0.0.1 TCP_MISS/200 10 GET http://a.example/${big} - DIRECT/192.0.2.1 -`, origin: { file: 'a', line: 1 } },
    { message: big, origin: { file: 'b', line: 1 } },
    { message: `"${big}`, origin: { file: 'c', line: 1 } },
    { message: `{"eurl":"${big}`, origin: { file: 'd', line: 1 } },
    { message: ' '.repeat(10 * 1024 * 1024), origin: { file: 'e', line: 1 } },
  ];

  it('10 MB lines are parsed or rejected, not crashed on, in every format', async () => {
    const recs = bigLines();
    for (const format of FORMATS) {
      const { out, invalid, totals } = await parse({ format }, recs);
      expect(out.length + invalid.length + totals.blank).toBe(5);
    }
    const { out } = await parse({ format: 'squid' }, recs.slice(0, 1));
    expect(out[0]!.url.path.length).toBeGreaterThan(10 * 1024 * 1024);
  });

  it('10 MB lines through a logformat: read in one pass, rejected or parsed', async () => {
    const recs = bigLines();
    for (const config of CONFIGS.filter((c) => 'logformat' in c)) {
      const { out, invalid, totals } = await parse(config, recs);
      expect(out.length + invalid.length + totals.blank).toBe(5);
    }
  });
});
