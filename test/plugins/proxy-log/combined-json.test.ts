import { describe, it, expect } from 'vitest';
import proxyLog from '../../../plugins/transform/proxy-log/index.js';
import { configFor } from '../../helpers/harness.js';
import { at, codes, fixture, lines, parse } from './helpers.js';

describe('proxy-log combined', () => {
  it('parses proxy combined lines with squid %Ss:%Sh, zone offsets, CONNECT, "-" requests, CLF without UA', async () => {
    const { out, invalid } = await parse({ format: 'combined' }, fixture('combined.log'));
    expect(out).toHaveLength(5);
    const r = at(out, 1);
    expect(r).toMatchObject({
      '@timestamp': '2024-05-14T10:00:20.000Z',
      event: { dataset: 'apache.access', action: 'TCP_MISS' },
      source: { ip: '10.2.0.5' },
      user: { name: 'alice' },
      http: { version: '1.1', request: { method: 'GET' }, response: { status_code: 200, bytes: 10182 } },
      url: { full: 'http://www.example.com/' },
      user_agent: { original: 'Mozilla/5.0 (X11)' },
      squid: { hierarchy: 'HIER_DIRECT' },
    });
    expect(at(out, 2)['@timestamp']).toBe('2024-05-14T10:00:21.000Z'); // 12:00:21 +0200
    expect(at(out, 2).destination).toEqual({ domain: 'login.example.net', port: 443 });
    expect(at(out, 3).http).toEqual({ response: { status_code: 400, bytes: 0 } });
    expect(at(out, 3).url).toBeUndefined();
    expect(at(out, 4).url).toEqual({ original: '/index.html', path: '/index.html' });
    expect(at(out, 4).user_agent).toBeUndefined();
    const f = at(out, 5);
    expect(f.url).toMatchObject({ port: 80, fragment: 'frag', full: 'http://dl.example.net/x.exe' });
    expect(f.user_agent.original).toBe('Mozilla/5.0 "quoted" (X11)');
    expect(f.apache).toEqual({ extra: ['-'] });
    expect(codes(invalid)).toEqual([
      [6, 'PARSE_FIELD_COUNT'],
      [7, 'PARSE_QUOTE'],
      [8, 'PARSE_TIMESTAMP'],
    ]);
  });
});

describe('proxy-log zscaler-nss', () => {
  it('parses wrapped and bare NSS records; eurl without scheme; "None" placeholders dropped', async () => {
    const { out, invalid } = await parse({ format: 'zscaler-nss' }, fixture('zscaler.jsonl'));
    expect(invalid).toEqual([]);
    const r = at(out, 1);
    expect(r).toMatchObject({
      '@timestamp': '2024-05-14T10:00:40.000Z',
      event: { dataset: 'zscaler.nss', action: 'blocked', duration: 48_000_000 },
      source: { ip: '10.2.0.50' },
      user: { name: 'erin' },
      destination: { domain: 'www.example.com', ip: '192.0.2.10', port: 443 },
      url: { original: 'https://www.example.com/join/', scheme: 'https', full: 'https://www.example.com/join/', category: 'Corporate Marketing' },
      http: { request: { method: 'POST', bytes: 218 }, response: { status_code: 403, bytes: 14230 } },
    });
    expect(r.http.request.referrer).toBeUndefined();
    expect(r.zscaler.malwarecat).toBeUndefined();
    expect(r.zscaler.devicehostname).toBe('WS-050');
    expect(r.zscaler.login).toBe('erin@example.com');
    const c = at(out, 2);
    expect(c.url).toEqual({ original: 'login.example.net:443', domain: 'login.example.net', port: 443 });
    expect(c.user_agent).toBeUndefined();
    expect(at(out, 3).destination.ip).toBeUndefined();
    expect(at(out, 3).url.category).toBeUndefined();
    expect(at(out, 4)['@timestamp']).toBe('2024-05-07T10:00:43.000Z'); // space-padded day
  });

  it('rejects truncated JSON, non-objects and bad times', async () => {
    const { invalid } = await parse(
      { format: 'zscaler-nss' },
      lines('{"event":{"time":"Tue May 14 10:00:40 2024","eurl":"a.exa\n[1,2]\n{"event":{"time":"yesterday","eurl":"a.example"}}'),
    );
    expect(codes(invalid)).toEqual([
      [1, 'PARSE_JSON'],
      [2, 'PARSE_JSON'],
      [3, 'PARSE_TIMESTAMP'],
    ]);
  });
});

describe('proxy-log json with a field mapping', () => {
  const withConfig = {
    format: 'json',
    fields: {
      '@timestamp': 'ts',
      'source.ip': 'client.ip',
      'url.original': 'req.url',
      'http.response.status_code': 'status',
      'http.request.bytes': 'up',
      'event.duration_ms': 'ms',
      'url.category': 'cat',
    },
  };

  it('maps nested source paths to ECS and converts types', async () => {
    const { out, invalid } = await parse(
      withConfig,
      lines(
        [
          '{"ts":"2024-05-14T10:00:00Z","client":{"ip":"10.0.0.1"},"req":{"url":"https://A.Example./p?q=1"},"status":"200","up":5000000,"ms":12,"cat":"none"}',
          '{"ts":1715680800,"client":{"ip":"::FFFF:10.0.0.2"},"req":{"url":"http://b.example/"},"status":404}',
          '{"ts":1715680800123,"client":{"ip":"2001:DB8::1"}}',
        ].join('\n'),
      ),
    );
    expect(invalid).toEqual([]);
    expect(out[0]).toMatchObject({
      '@timestamp': '2024-05-14T10:00:00.000Z',
      source: { ip: '10.0.0.1' },
      url: { domain: 'a.example', full: 'https://a.example/p?q=1', category: 'none' },
      http: { response: { status_code: 200 }, request: { bytes: 5000000 } },
      event: { dataset: 'json', duration: 12_000_000 },
    });
    expect(out[1]!.source.ip).toBe('10.0.0.2');
    expect(out[2]!['@timestamp']).toBe('2024-05-14T10:00:00.123Z');
    expect(out[2]!.source.ip).toBe('2001:db8::1');
  });

  it('rejects records without a usable timestamp, or with bad numbers', async () => {
    const { invalid } = await parse(
      withConfig,
      lines('{"client":{"ip":"10.0.0.1"}}\n{"ts":"2024-05-14T10:00:00","status":"x"}\n{"ts":"2024-05-14T10:00:00Z","status":"x"}'),
    );
    expect(codes(invalid)).toEqual([
      [1, 'PARSE_TIMESTAMP'],
      [2, 'PARSE_TIMESTAMP'],
      [3, 'PARSE_NUMBER'],
    ]);
  });

  it('check() refuses unknown targets, a missing @timestamp, and json without fields', () => {
    expect(() => configFor(proxyLog, { format: 'json' })).toThrow(/needs a fields mapping/);
    expect(() => configFor(proxyLog, { format: 'json', fields: { '@timestamp': 't', 'source.ipp': 'x' } })).toThrow(/unknown target 'source.ipp'/);
    expect(() => configFor(proxyLog, { format: 'json', fields: { 'source.ip': 'x' } })).toThrow(/must map @timestamp/);
    expect(() => configFor(proxyLog, { format: 'elff', elff_fields: 'bcreportermain_v2' })).toThrow(/neither a preset nor a field list/);
    expect(() => configFor(proxyLog, { format: 'squidd' })).toThrow();
  });
});
