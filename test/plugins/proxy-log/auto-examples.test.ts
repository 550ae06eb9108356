import { describe, it, expect } from 'vitest';
import { detectFormat } from '../../../plugins/transform/proxy-log/index.js';
import { at, codes, example, fixture, lines, parse } from './helpers.js';

describe('proxy-log auto detection', () => {
  it('detects each format from its lines', () => {
    expect(detectFormat('1715680801.120    231 10.2.0.5 TCP_MISS/200 10 GET http://a.example/ - DIRECT/192.0.2.1 -', false)).toBe('squid');
    expect(detectFormat('10.0.0.1 - - [14/May/2024:10:00:20 +0000] "GET / HTTP/1.1" 200 1', false)).toBe('combined');
    expect(detectFormat('#Fields: date time c-ip', false)).toBe('elff');
    expect(detectFormat('#Software: SGOS 7.3', false)).toBe('elff');
    expect(detectFormat('2024-05-14 10:01:54 1 10.2.0.2 - -', false)).toBe('elff');
    expect(detectFormat('"2017-06-28" "07:26:35" "a"', false)).toBe('elff');
    expect(detectFormat('{ "sourcetype" : "zscalernss-web", "event" :{"eurl":"a"}}', false)).toBe('zscaler-nss');
    expect(detectFormat('{"ts":1}', true)).toBe('json');
    expect(detectFormat('{"ts":1}', false)).toBeUndefined();
    expect(detectFormat('# a comment', false)).toBeUndefined();
    expect(detectFormat('hello world', false)).toBeUndefined();
  });

  it('keeps one format per source: files of different formats interleaved in one batch', async () => {
    const batch = [...fixture('squid-native.log'), ...fixture('elff-main.log'), ...fixture('zscaler.jsonl'), ...fixture('combined.log')].sort(
      (a, b) => a.origin.line - b.origin.line,
    );
    const { out, invalid } = await parse({ format: 'auto' }, batch);
    const datasets = new Map(out.map((r) => [r.origin.file, r.event.dataset]));
    expect(Object.fromEntries(datasets)).toEqual({
      'squid-native.log': 'squid.access',
      'elff-main.log': 'proxysg.elff',
      'zscaler.jsonl': 'zscaler.nss',
      'combined.log': 'apache.access',
    });
    expect(invalid.map((r) => `${r.origin.file}:${r.origin.line} ${r.error.code}`).sort()).toEqual([
      'combined.log:6 PARSE_FIELD_COUNT',
      'combined.log:7 PARSE_QUOTE',
      'combined.log:8 PARSE_TIMESTAMP',
      'elff-main.log:14 PARSE_FIELD_COUNT',
    ]);
  });

  it('lines before the format is known that say nothing go to invalid with PARSE_FORMAT; comments wait', async () => {
    const { out, invalid, totals } = await parse(
      { format: 'auto' },
      lines('# a comment\ngarbage first line\n1715680801.120 1 10.0.0.1 TCP_MISS/200 10 GET http://a.example/ - DIRECT/192.0.2.1 -'),
    );
    expect(codes(invalid)).toEqual([[2, 'PARSE_FORMAT']]);
    expect(totals.directives).toBe(1);
    expect(out[0]!.event.dataset).toBe('squid.access');
  });

  it('topic/partition origins are separate sources too', async () => {
    const recs = [
      { message: '#Fields: date time c-ip cs-uri sc-status', origin: { topic: 'proxy', partition: 0, offset: '1' } },
      {
        message: '1715680801.120 1 10.0.0.1 TCP_MISS/200 10 GET http://a.example/ - DIRECT/192.0.2.1 -',
        origin: { topic: 'proxy', partition: 1, offset: '1' },
      },
      { message: '2024-05-14 10:00:00 10.0.0.2 http://b.example/ 200', origin: { topic: 'proxy', partition: 0, offset: '2' } },
    ];
    const { out, invalid } = await parse({}, recs);
    expect(invalid).toEqual([]);
    expect(out.map((r) => r.event.dataset)).toEqual(['squid.access', 'proxysg.elff']);
    expect(out[1]!.origin).toEqual({ topic: 'proxy', partition: 0, offset: '2' });
  });

  it('runs of one partition, then another partition, topic or file, each keep their own format', async () => {
    const squid = '1715680801.120 1 10.0.0.1 TCP_MISS/200 10 GET http://a.example/ - DIRECT/192.0.2.1 -';
    const elff = '2024-05-14 10:00:00 10.0.0.2 http://b.example/ 200';
    const o = (topic: string, partition: number, offset: number) => ({ topic, partition, offset: String(offset) });
    const recs = [
      { message: '#Fields: date time c-ip cs-uri sc-status', origin: o('proxy', 0, 1) },
      { message: elff, origin: o('proxy', 0, 2) },
      { message: squid, origin: o('proxy', 1, 1) },
      { message: squid, origin: o('proxy', 1, 2) },
      { message: '#Fields: date time c-ip cs-uri sc-status', origin: o('other', 1, 1) },
      { message: elff, origin: o('other', 1, 2) },
      { message: squid, origin: { file: 'a.log', line: 1 } },
      { message: elff, origin: o('proxy', 0, 3) },
      { message: squid, origin: o('proxy', 1, 3) },
      { message: elff, origin: o('other', 1, 3) },
    ];
    const { out, invalid } = await parse({}, recs);
    expect(invalid).toEqual([]);
    expect(out.map((r) => `${r.origin.file ?? `${r.origin.topic}/${r.origin.partition}`} ${r.event.dataset}`)).toEqual([
      'proxy/0 proxysg.elff',
      'proxy/1 squid.access',
      'proxy/1 squid.access',
      'other/1 proxysg.elff',
      'a.log squid.access',
      'proxy/0 proxysg.elff',
      'proxy/1 squid.access',
      'other/1 proxysg.elff',
    ]);
  });

  it('an input that is not a line record goes to invalid with INPUT_TYPE', async () => {
    const { invalid } = await parse({}, [
      { origin: { file: 'x', line: 1 }, msg: 'oops' },
      { message: 42, origin: { file: 'x', line: 2 } },
    ]);
    expect(codes(invalid)).toEqual([
      [1, 'INPUT_TYPE'],
      [2, 'INPUT_TYPE'],
    ]);
    expect(invalid[0]!.event.original).toBe('{"origin":{"file":"x","line":1},"msg":"oops"}');
  });
});

describe('proxy-log on the bundled examples/logs', () => {
  const expected: [string, number, number, number, [number, string][]][] = [
    [
      'squid-access.log',
      731,
      3,
      0,
      [
        [10, 'PARSE_FIELD_COUNT'],
        [11, 'PARSE_FIELD_COUNT'],
        [12, 'PARSE_TIMESTAMP'],
      ],
    ],
    ['squid-access-2.log.gz', 3, 1, 0, [[4, 'PARSE_FIELD_COUNT']]],
    [
      'combined-access.log',
      8,
      3,
      0,
      [
        [8, 'PARSE_QUOTE'],
        [9, 'PARSE_SYNTAX'],
        [10, 'PARSE_TIMESTAMP'],
      ],
    ],
    [
      'proxysg-elff.log',
      8,
      3,
      7,
      [
        [11, 'PARSE_QUOTE'],
        [12, 'PARSE_TIMESTAMP'],
        [18, 'PARSE_FIELD_COUNT'],
      ],
    ],
    [
      'zscaler-nss.jsonl',
      5,
      3,
      0,
      [
        [5, 'PARSE_JSON'],
        [6, 'PARSE_JSON'],
        [7, 'PARSE_TIMESTAMP'],
      ],
    ],
  ];
  it.each(expected)('%s: %i parsed, %i invalid, %i directives', async (file, nOut, nInvalid, nDirectives, invalidCodes) => {
    const { out, invalid, totals } = await parse({ format: 'auto' }, example(file));
    expect([out.length, invalid.length, totals.directives]).toEqual([nOut, nInvalid, nDirectives]);
    expect(codes(invalid)).toEqual(invalidCodes);
  });

  it('the garbage-bytes lines keep their exact bytes as base64', async () => {
    const recs = example('squid-access.log');
    const { invalid } = await parse({}, recs);
    const g = invalid.find((r) => r.origin.line === 11)!;
    expect(g.event.original_base64).toBe(recs[10]!.raw_base64);
    expect(Buffer.from(g.event.original_base64, 'base64')[0]).toBe(0xff);
  });

  it('parses the scenario traffic into the fields the sweep matches', async () => {
    const all = [...example('squid-access.log'), ...example('combined-access.log'), ...example('proxysg-elff.log'), ...example('zscaler-nss.jsonl')];
    const { out } = await parse({}, all);
    const sq = (l: number) => at(out, l, 'squid-access.log');
    expect(sq(4)).toMatchObject({ source: { ip: '10.1.1.20' }, destination: { ip: '203.0.113.66', port: 8080 } });
    expect(sq(7)).toMatchObject({ destination: { ip: '198.51.100.23' }, url: { domain: '198.51.100.23', path: '/files/invoice.exe' } });
    expect(sq(9).destination).toEqual({ ip: '2001:db8:bad::5', port: 443 });
    expect(at(out, 7, 'proxysg-elff.log').url.domain).toBe('cdn.update-check.evil.example');
    expect(at(out, 9, 'proxysg-elff.log').destination).toEqual({ ip: '192.0.2.77', port: 8080 });
    expect(at(out, 15, 'proxysg-elff.log')).toMatchObject({
      http: { request: { method: 'POST', bytes: 5000000 } },
      url: { domain: 'upload.unknown-host.example', category: 'none' },
    });
    expect(at(out, 3, 'combined-access.log').url.full).toBe('http://dl.payload.example/drop/stage2.exe');
    expect(at(out, 2, 'zscaler-nss.jsonl').url).toMatchObject({ domain: 'phish-login.example', full: 'https://phish-login.example/signin' });
    const burst = out.filter((r) => r.source?.ip === '10.1.1.99');
    expect(burst).toHaveLength(720);
    const span = Date.parse(burst.at(-1)!['@timestamp']) - Date.parse(burst[0]!['@timestamp']);
    expect(span).toBeLessThan(5 * 60_000);
  });
});
