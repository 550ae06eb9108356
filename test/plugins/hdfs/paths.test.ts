/** Pure parts of the hdfs sink and source: templates, the sanitiser, file names, ranges, globs. */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { posix } from 'node:path';
import {
  compileTemplate,
  PathExpander,
  sanitiseValue,
  streamOf,
  fileName,
  parseFileName,
  tempName,
  ArchivedRanges,
  csvField,
  timeOf,
  TemplateError,
} from '../../../plugins/sink/hdfs/paths.js';
import { segmentRegExp, isGlobSegment } from '../../../src/hdfs/glob.js';
import { isHiddenName, encodeHdfsPath, Hdfs } from '../../../src/hdfs/webhdfs.js';

const MISSING = '__HIVE_DEFAULT_PARTITION__';
const expander = (tpl: string, timeField = '@timestamp') => new PathExpander(compileTemplate(tpl), { timeField, missing: MISSING });

describe('path templates', () => {
  it('Hive-style daily and hourly partitions from @timestamp, in UTC', () => {
    const e = expander('/data/proxy/dt=%Y-%m-%d/hour=%H/');
    expect(e.template.base).toBe('/data/proxy');
    expect(e.expand({ '@timestamp': '2026-12-05T23:59:59.999Z' }).dir).toBe('/data/proxy/dt=2026-12-05/hour=23');
    // an offset is converted to UTC
    expect(e.expand({ '@timestamp': '2026-12-06T01:30:00+02:00' }).dir).toBe('/data/proxy/dt=2026-12-05/hour=23');
    // no zone: taken as UTC, not local time
    expect(e.expand({ '@timestamp': '2026-12-05T07:00:00' }).dir).toBe('/data/proxy/dt=2026-12-05/hour=07');
    // epoch milliseconds
    expect(e.expand({ '@timestamp': Date.UTC(2024, 1, 29, 5) }).dir).toBe('/data/proxy/dt=2024-02-29/hour=05');
  });

  it("Flume's %Y%m%d and the other escapes; a configured time field", () => {
    const e = expander('/flume/%Y%m%d/%y.%j.%M%S.%s', 'event.created');
    expect(e.expand({ event: { created: '2026-02-01T10:11:12Z' } }).dir).toBe(`/flume/20260201/26.032.1112.${Date.UTC(2026, 1, 1, 10, 11, 12) / 1000}`);
  });

  it('record fields fill %{...}; %% is a percent sign', () => {
    const e = expander('/logs/100%%/host=%{observer.hostname}/%{event.dataset}-x');
    expect(e.template.base).toBe('/logs/100%');
    expect(e.expand({ observer: { hostname: 'proxy-01' }, event: { dataset: 'squid.access' } }).dir).toBe('/logs/100%/host=proxy-01/squid.access-x');
  });

  it('a missing time makes the whole segment key=MISSING; a missing field gives MISSING', () => {
    const e = expander('/d/dt=%Y-%m-%d/h%H/%{user.name}');
    const r = e.expand({ '@timestamp': 'yesterday' });
    expect(r.dir).toBe(`/d/dt=${MISSING}/${MISSING}/${MISSING}`);
    expect(r.missingTime).toBe(true);
    expect(r.missingFields).toBe(1);
    expect(e.expand({ '@timestamp': '2026-01-01T00:00:00Z', user: { name: {} } }).dir).toBe(`/d/dt=2026-01-01/h00/${MISSING}`);
  });

  it('refuses bad templates with a clear message', () => {
    expect(() => compileTemplate('data/x')).toThrow(/absolute/);
    expect(() => compileTemplate('/data/%Q/')).toThrow(/unknown escape '%Q'/);
    expect(() => compileTemplate('/data/%{a.b')).toThrow(/without its/);
    expect(() => compileTemplate('/data/%{__proto__.x}')).toThrow(TemplateError);
    expect(() => compileTemplate('/data/../etc/%Y')).toThrow(/'\.\.'/);
    expect(() => compileTemplate('/data/a b/%Y')).toThrow(/characters outside/);
    expect(() => compileTemplate('/data/x%')).toThrow(/lone '%'/);
  });
});

describe('the sanitiser', () => {
  it('keeps ../../etc inside the base directory', () => {
    const e = expander('/data/proxy/user=%{user.name}/');
    const dir = e.expand({ user: { name: '../../etc' } }).dir;
    expect(dir.startsWith('/data/proxy/user=')).toBe(true);
    expect(posix.normalize(dir)).toBe(dir);
    expect(dir.split('/')).toHaveLength(4);
    const alone = expander('/data/%{x}').expand({ x: '..' }).dir;
    expect(alone).toMatch(/^\/data\/__~[0-9a-f]{8}$/);
  });

  it('any value gives one safe segment inside the base (property)', () => {
    const e = expander('/base/k=%{v}/%{w}');
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('..', '.', '/', '../../etc', '\\..\\', '%2e%2e', 'a/../../b', '\u0000')),
        fc.string(),
        (v, w) => {
          const dir = e.expand({ v, w }).dir;
          const segs = dir.split('/');
          expect(segs[0]).toBe('');
          expect(segs[1]).toBe('base');
          expect(segs).toHaveLength(4);
          for (const s of segs.slice(2)) {
            expect(s).not.toBe('.');
            expect(s).not.toBe('..');
            expect(s.startsWith('.')).toBe(false);
            expect(s).toMatch(/^[A-Za-z0-9._=~-]+$/);
          }
          expect(posix.normalize(dir)).toBe(dir);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('changed values carry a hash so that different values stay apart', () => {
    expect(sanitiseValue('proxy-01.example', 'M')).toBe('proxy-01.example');
    expect(sanitiseValue('a/b', 'M')).not.toBe(sanitiseValue('a_b', 'M'));
    expect(sanitiseValue('a/b', 'M')).toMatch(/^a_b~[0-9a-f]{8}$/);
    expect(sanitiseValue('', 'M')).toBe('M');
    expect(sanitiseValue('x'.repeat(500), 'M').length).toBeLessThanOrEqual(109);
  });
});

describe('file names and ranges', () => {
  it('name the stream and the first and last positions; parse back', () => {
    const s = streamOf({ file: '/var/log/squid/access.log', line: 17 })!;
    expect(s.label).toMatch(/^access\.log~[0-9a-f]{8}$/);
    expect(s.pos).toBe(17);
    const name = fileName({ prefix: 'part', label: s.label, first: 17, last: 2016, ext: '.jsonl.gz' });
    expect(parseFileName(name, 'part', '.jsonl.gz')).toEqual({ label: s.label, first: 17, last: 2016 });
    expect(parseFileName(tempName(name), 'part', '.jsonl.gz')).toBeNull();
    expect(isHiddenName(tempName(name))).toBe(true);
    expect(isHiddenName(name)).toBe(false);
    expect(parseFileName('part.20261206T010000Z.abc123.4.jsonl.gz', 'part', '.jsonl.gz')).toBeNull();
    expect(parseFileName(name, 'part', '.csv')).toBeNull();
  });

  it('kafka origins: topic.partition, offsets; same file path → same label, other path → other label', () => {
    const k = streamOf({ topic: 'proxy-logs', partition: 3, offset: '123456' })!;
    expect(k).toEqual({ label: 'proxy-logs.3', pos: 123456 });
    const name = fileName({ prefix: 'part', label: k.label, first: 100, last: 123456, ext: '.jsonl' });
    expect(parseFileName(name, 'part', '.jsonl')).toEqual({ label: 'proxy-logs.3', first: 100, last: 123456 });
    expect(streamOf({ file: '/a/x.log', line: 1 })!.label).toBe(streamOf({ file: '/a/x.log', line: 9 })!.label);
    expect(streamOf({ file: '/a/x.log', line: 1 })!.label).not.toBe(streamOf({ file: '/b/x.log', line: 1 })!.label);
    expect(streamOf({ file: 'hdfs://h/../../x', line: 1 })!.label).toMatch(/^x~/);
    expect(streamOf(null)).toBeUndefined();
    expect(streamOf({ file: 'x' })).toBeUndefined();
    expect(streamOf({ topic: 't', partition: 0, offset: 'abc' })).toBeUndefined();
  });

  it('stream fields split a stream', () => {
    const a = streamOf({ file: '/x', line: 1 }, ['parse'])!;
    const b = streamOf({ file: '/x', line: 1 }, ['proxy'])!;
    expect(a.label).not.toBe(b.label);
    expect(a.label.endsWith('~parse')).toBe(true);
  });

  it('ranges answer whether a position is archived, overlapping ranges included', () => {
    const r = new ArchivedRanges();
    r.add('s', 1, 100);
    r.add('s', 201, 300);
    r.add('s', 50, 150);
    r.add('t', 1000, 1000);
    r.seal();
    for (const [p, want] of [
      [0, false],
      [1, true],
      [100, true],
      [150, true],
      [151, false],
      [200, false],
      [201, true],
      [300, true],
      [301, false],
    ] as const) {
      expect(r.has('s', p), String(p)).toBe(want);
    }
    expect(r.has('t', 1000)).toBe(true);
    expect(r.has('u', 5)).toBe(false);
  });

  it('ranges agree with a brute-force check (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(200), fc.nat(50)), { maxLength: 20 }), fc.nat(260), (rs, p) => {
        const r = new ArchivedRanges();
        for (const [a, len] of rs) r.add('s', a, a + len);
        r.seal();
        expect(r.has('s', p)).toBe(rs.some(([a, len]) => a <= p && p <= a + len));
      }),
    );
  });
});

describe('odds and ends', () => {
  it('CSV fields are quoted when needed', () => {
    expect(csvField('a', ',')).toBe('a');
    expect(csvField('a,b', ',')).toBe('"a,b"');
    expect(csvField('say "hi"', ',')).toBe('"say ""hi"""');
    expect(csvField(undefined, ',')).toBe('');
    expect(csvField({ a: 1 }, ',')).toBe('"{""a"":1}"');
    expect(csvField(' x', ',')).toBe('" x"');
  });

  it('times', () => {
    expect(timeOf('2026-12-05T10:00:00.000Z')).toBe(Date.UTC(2026, 11, 5, 10));
    expect(timeOf('nope')).toBeUndefined();
    expect(timeOf(undefined)).toBeUndefined();
  });

  it('HDFS globs per segment', () => {
    expect(isGlobSegment('dt=2026-12-0{1,2}')).toBe(true);
    expect(isGlobSegment('dt=2026-12-01')).toBe(false);
    expect(segmentRegExp('dt=2026-12-0{1,2}').test('dt=2026-12-02')).toBe(true);
    expect(segmentRegExp('dt=2026-12-0{1,2}').test('dt=2026-12-03')).toBe(false);
    expect(segmentRegExp('*.gz').test('a.log.gz')).toBe(true);
    expect(segmentRegExp('*.gz').test('a.log')).toBe(false);
    expect(segmentRegExp('access.log-2026120[1-7].gz').test('access.log-20261207.gz')).toBe(true);
    expect(segmentRegExp('access.log-2026120[!1-7].gz').test('access.log-20261207.gz')).toBe(false);
    expect(segmentRegExp('a?c').test('abc')).toBe(true);
    expect(segmentRegExp('a.c').test('abc')).toBe(false);
  });

  it('paths are percent-encoded per segment; the delegation token rides on every call and user.name is then left out', () => {
    expect(encodeHdfsPath('/data/dt=2026-12-05/a b#c')).toBe('/data/dt%3D2026-12-05/a%20b%23c');
    const h = new Hdfs({ url: 'http://nn.example:9870', user: 'etl', delegation_token: 'TOKEN-SECRET-123', timeout_ms: 1000 });
    const u = new URL(h.endpoint('create', '/data/x'));
    expect(u.searchParams.get('delegation')).toBe('TOKEN-SECRET-123');
    expect(u.searchParams.get('user.name')).toBeNull();
    expect(u.pathname).toBe('/webhdfs/v1/data/x');
    const plain = new URL(new Hdfs({ url: 'http://nn.example:9870', user: 'etl', timeout_ms: 1000 }).endpoint('liststatus', '/d'));
    expect(plain.searchParams.get('user.name')).toBe('etl');
    expect(plain.searchParams.get('delegation')).toBeNull();
  });

  it('errors mask the delegation token and unreachable WebHDFS is transient (no HDFS needed: port 9 refuses)', async () => {
    const h = new Hdfs({ url: 'http://127.0.0.1:9', delegation_token: 'TOKEN-SECRET-123', timeout_ms: 2000 });
    const err = await h.list('/TOKEN-SECRET-123').catch((e) => e);
    expect(err.transient).toBe(true);
    expect(String(err.message)).not.toContain('TOKEN-SECRET-123');
  });
});

describe('the hour cache of event times', () => {
  it('gives the same directories as parsing every time (property)', () => {
    const tpl = '/d/dt=%Y-%m-%d/hour=%H/';
    const cached = expander(tpl);
    const times = fc.array(
      fc.oneof(
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }).map((t) => new Date(t).toISOString()),
        fc.constantFrom('2026-12-05T10:59:59.999Z', '2026-12-05T11:00:00.000Z', '2026-12-05T10:00:00+02:00', 'garbage-garbage-garbage', '2026-12-05T10:30:00Z'),
      ),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(times, (ts) => {
        for (const t of ts) expect(cached.expand({ '@timestamp': t }).dir).toBe(expander(tpl).expand({ '@timestamp': t }).dir);
      }),
    );
  });
});
