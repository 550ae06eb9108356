import { describe, it, expect } from 'vitest';
import { at, codes, fixture, lines, parse } from './helpers.js';

describe('proxy-log elff (W3C extended, BlueCoat ProxySG)', () => {
  it('maps columns from #Fields, rebuilds the URL, consumes directives, strips CR', async () => {
    const { out, invalid, totals, counters } = await parse({ format: 'elff' }, fixture('elff-main.log'));
    expect(totals.directives).toBe(6);
    expect(counters.directives).toBe(6);
    expect(codes(invalid)).toEqual([[14, 'PARSE_FIELD_COUNT']]);
    expect(out).toHaveLength(8);
    const r = at(out, 6);
    expect(r['@timestamp']).toBe('2024-05-14T10:00:30.000Z');
    expect(r.event).toEqual({ dataset: 'proxysg.elff', duration: 48_000_000, action: 'TCP_NC_MISS' });
    expect(r.url).toEqual({
      original: 'https://track.example.com/sync?id=1&u=https%3A%2F%2Fx.example%2F',
      scheme: 'https',
      domain: 'track.example.com',
      path: '/sync',
      query: 'id=1&u=https%3A%2F%2Fx.example%2F',
      full: 'https://track.example.com/sync?id=1&u=https%3A%2F%2Fx.example%2F',
      port: 443,
      category: 'Web Ads/Analytics;Tracking',
    });
    expect(r.observer).toEqual({ ip: '192.0.2.2', product: 'SGOS 7.3.5.1' });
    expect(r.http.request).toEqual({ bytes: 969, method: 'GET', referrer: 'https://ref.example.com/' });
    expect(r.user).toEqual({ name: 'carol' });
    // no value carries the CR of the CRLF line end
    expect(JSON.stringify(out)).not.toContain('\\r');
  });

  it('restores the undeclared cs(User-Agent) column of ProxySG main (#Fields lists 23, lines carry 24)', async () => {
    const { out } = await parse({ format: 'elff' }, fixture('elff-main.log'));
    // quoted UA in the undeclared column: every later column keeps its declared meaning
    const a = at(out, 6);
    expect(a.user_agent).toEqual({ original: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)' });
    expect(a.proxysg['sc-filter-result']).toBe('OBSERVED');
    // '-' in the undeclared column
    const b = at(out, 7);
    expect(b.user_agent).toBeUndefined();
    expect(b.proxysg['sc-filter-result']).toBe('OBSERVED');
    expect(b.url.category).toBe('Web Ads/Analytics');
    expect(b.observer.ip).toBe('192.0.2.2');
    // 27 values: the 3 beyond the 24 are kept, not lost, not shifted into declared fields
    const c = at(out, 11);
    expect(c.observer.ip).toBe('192.0.2.2');
    expect(c.proxysg.extra_values).toEqual(['192.0.2.55', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)', 'sha256WithRSAEncryption']);
  });

  it('CONNECT with scheme tcp, and unknown/ssl tunnels, give host:port', async () => {
    const { out } = await parse({ format: 'elff' }, fixture('elff-main.log'));
    expect(at(out, 8).url).toEqual({
      original: 'tunnel.example.com:443',
      domain: 'tunnel.example.com',
      port: 443,
      scheme: 'tcp',
      category: 'Technology/Internet',
    });
    expect(at(out, 8).destination).toEqual({ domain: 'tunnel.example.com', port: 443 });
    const t = at(out, 9);
    expect(t.http.response.status_code).toBe(0);
    expect(t.url.original).toBe('tls.example.com:443');
  });

  it('decodes %20 in content types and categories', async () => {
    const { out } = await parse({ format: 'elff' }, fixture('elff-main.log'));
    expect(at(out, 10).http.response.mime_type).toBe('application/json; charset=UTF-8');
  });

  it('follows a #Fields change mid-file (cs-uri whole, IPv6 literal, doubled quotes)', async () => {
    const { out } = await parse({ format: 'elff' }, fixture('elff-main.log'));
    const v6 = at(out, 13);
    expect(v6.url).toMatchObject({ domain: '2001:db8::7', port: 8080, path: '/v6', query: 'a=b' });
    expect(v6.destination).toEqual({ ip: '2001:db8::7', port: 8080 });
    const q = at(out, 15);
    expect(q.user_agent.original).toBe('Mozilla/5.0 "quoted" UA');
    expect(q.destination.ip).toBe('192.0.2.10'); // r-ip
  });

  it('keeps #Fields state per source: interleaved files do not share headers', async () => {
    const a = lines('#Fields: date time c-ip cs-method cs-uri sc-status\n2024-05-14 10:00:00 10.0.0.1 GET http://a.example/ 200', 'a.log');
    const b = lines('#Fields: date time sc-status cs-uri cs-method c-ip\n2024-05-14 10:00:01 404 http://b.example/x POST 10.0.0.2', 'b.log');
    const { out, invalid } = await parse({ format: 'elff' }, [a[0]!, b[0]!, a[1]!, b[1]!]);
    expect(invalid).toEqual([]);
    expect(at(out, 2, 'a.log')).toMatchObject({
      source: { ip: '10.0.0.1' },
      url: { domain: 'a.example' },
      http: { request: { method: 'GET' }, response: { status_code: 200 } },
    });
    expect(at(out, 2, 'b.log')).toMatchObject({
      source: { ip: '10.0.0.2' },
      url: { domain: 'b.example' },
      http: { request: { method: 'POST' }, response: { status_code: 404 } },
    });
  });

  it('headerless bcreportermain_v1: named field list, quoted "None", doubled spaces, no final newline', async () => {
    const { out, invalid } = await parse({ format: 'elff', elff_fields: 'bcreportermain_v1' }, fixture('elff-bcreportermain.log'));
    expect(invalid).toEqual([]);
    expect(out).toHaveLength(3);
    const r = at(out, 1);
    expect(r.event.action).toBe('TCP_AUTH_REDIRECT');
    expect(r.http.response).toEqual({ status_code: 302, bytes: 1033 });
    expect(r.http.request).toEqual({ method: 'GET', bytes: 111 });
    expect(r.url).toMatchObject({ full: 'http://connectivity.example.com/check.txt', extension: 'txt', category: 'Web Infrastructure' });
    expect(r.user_agent.original).toBe('Example NCSI');
    expect(r.proxysg['x-exception-id']).toBe('authentication_redirect_to_virtual_host');
    expect(r.proxysg['x-bluecoat-transaction-uuid']).toBe('0000aaaa-0000000000000001');
    expect(at(out, 2).http.request.referrer).toBe('https://ref.example.com/');
    expect(at(out, 3).url.category).toBe('none');
  });

  it('headerless lines without a configured field list are rejected with PARSE_NO_FIELDS', async () => {
    const { invalid } = await parse({ format: 'elff' }, fixture('elff-bcreportermain.log'));
    expect(codes(invalid)).toEqual([
      [1, 'PARSE_NO_FIELDS'],
      [2, 'PARSE_NO_FIELDS'],
      [3, 'PARSE_NO_FIELDS'],
    ]);
    expect(invalid[0]!.error.message).toMatch(/elff_fields/);
  });

  it('IIS-style W3C: blank lines, comments after values, time-only layout dated by #Date, FTP lines', async () => {
    const { out, invalid, totals } = await parse({ format: 'elff' }, fixture('w3c-iis.log'));
    expect(invalid).toEqual([]);
    expect(totals.blank).toBe(1);
    expect(totals.directives).toBe(5);
    expect(at(out, 6)['@timestamp']).toBe('2024-05-14T09:00:01.000Z');
    expect(at(out, 6).http.request.method).toBe('[2]USER');
    expect(at(out, 6).tags).toEqual(['url_unparsed']);
    expect(at(out, 7).url).toEqual({ original: '/index.html', path: '/index.html' });
    const h = at(out, 9);
    expect(h.url.full).toBe('http://site.example.com/search?q=1');
    expect(h.proxysg['sc-substatus']).toBe(' "garbage" w/ spaces ');
    expect(at(out, 10).proxysg.extra_values).toEqual(['2', '1405', '242', '283']);
  });

  it('rejects unterminated quotes, impossible times and bad numbers', async () => {
    const text = [
      '#Fields: date time time-taken c-ip sc-status cs-method cs-uri cs(User-Agent)',
      '2024-05-14 10:00:35 61 10.1.1.43 200 GET http://a.example/ "Mozilla/5.0 (Windows NT',
      '2024-05-14 25:61:00 61 10.1.1.44 200 GET http://a.example/ -',
      '2024-02-30 10:00:00 61 10.1.1.44 200 GET http://a.example/ -',
      '2024-05-14 10:00:00 6x1 10.1.1.44 200 GET http://a.example/ -',
      '2024-05-14 10:00:00 61 10.1.1.44 2000 GET http://a.example/ -',
    ].join('\r\n');
    const { out, invalid } = await parse({ format: 'elff' }, lines(text));
    expect(out).toEqual([]);
    expect(codes(invalid)).toEqual([
      [2, 'PARSE_QUOTE'],
      [3, 'PARSE_TIMESTAMP'],
      [4, 'PARSE_TIMESTAMP'],
      [5, 'PARSE_NUMBER'],
      [6, 'PARSE_NUMBER'],
    ]);
  });

  it('a #Fields naming __proto__ cannot pollute prototypes', async () => {
    const { out } = await parse({ format: 'elff' }, lines('#Fields: date time __proto__ c-ip\n2024-05-14 10:00:00 {"polluted":1} 10.0.0.1'));
    expect(out).toHaveLength(1);
    expect(({} as any).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out[0]!.proxysg)).toBe(Object.prototype);
  });
});
