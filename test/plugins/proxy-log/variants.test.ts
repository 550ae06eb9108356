/**
 * Issue 18: real line variants that sluice used to reject or read differently from other pipelines.
 * Each fixture is written from the vendor's documented format (not copied from a sample).
 */
import { describe, it, expect } from 'vitest';
import proxyLog from '../../../plugins/transform/proxy-log/index.js';
import { compileLogformat, strftimeToIso } from '../../../plugins/transform/proxy-log/logformat.js';
import { configFor } from '../../helpers/harness.js';
import { at, codes, fixture, lines, parse } from './helpers.js';

describe('squid aborted transactions (error:* pseudo-URLs and methods)', () => {
  it('parses them: method absent, the error in event.reason, client and peer kept', async () => {
    const { out, invalid } = await parse({ format: 'auto' }, fixture('squid-aborted.log'));
    expect(invalid).toEqual([]);
    expect(out).toHaveLength(6);
    const r = at(out, 1);
    expect(r.event).toEqual({ dataset: 'squid.access', action: 'NONE_NONE', duration: 0, reason: 'error:transaction-end-before-headers' });
    expect(r.source).toEqual({ ip: '192.0.2.10' });
    expect(r.url).toBeUndefined();
    expect(r.tags).toBeUndefined();
    expect(r.http).toEqual({ response: { status_code: 0, bytes: 0 } });
    expect(r.squid).toEqual({ hierarchy: 'HIER_NONE' });
    // squid 3 writes NONE as the method: absent too
    expect(at(out, 2).http.request).toBeUndefined();
    expect(at(out, 2).event.reason).toBe('error:invalid-request');
    expect(at(out, 3).event.reason).toBe('error:accept-client-connection');
    // an aborted fetch with a real request is an ordinary line
    expect(at(out, 4).event.reason).toBeUndefined();
    expect(at(out, 4).http.request.method).toBe('GET');
    // interception: the peer is where the client was going, so the sweep can match it
    expect(at(out, 5).destination).toEqual({ ip: '203.0.113.7' });
    expect(at(out, 5).source.ip).toBe('192.0.2.13');
    // the error written in the method column
    expect(at(out, 6).event.reason).toBe('error:transaction-end-before-headers');
    expect(at(out, 6).url).toBeUndefined();
  });
});

describe('zscaler-nss: the NSS web feed default output (datetime, ClientIP, user, url …)', () => {
  it('reads datetime and the default key names; action, url.original and user.name as Elastic writes them', async () => {
    const { out, invalid } = await parse({ format: 'auto' }, fixture('zscaler-feed.jsonl'));
    expect(codes(invalid)).toEqual([[5, 'PARSE_TIMESTAMP']]); // 30 Feb
    const r = at(out, 1);
    expect(r).toMatchObject({
      '@timestamp': '2024-05-14T10:00:40.000Z',
      event: { dataset: 'zscaler.nss', action: 'allowed', duration: 85_000_000, reason: 'Allowed' },
      source: { ip: '10.2.0.60' },
      user: { name: 'frank' },
      destination: { ip: '192.0.2.30', domain: 'docs.example.com', port: 443 },
      url: {
        original: 'https://docs.example.com/guide/index.html?lang=en',
        scheme: 'https',
        path: '/guide/index.html',
        query: 'lang=en',
        category: 'Professional Services',
      },
      http: {
        request: { method: 'GET', bytes: 662, referrer: 'https://portal.example.com/' },
        response: { status_code: 200, bytes: 15210, mime_type: 'text/html' },
      },
      user_agent: { original: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)' },
    });
    expect(r.zscaler).toMatchObject({ user: 'frank@example.com', department: 'Engineering', hostname: 'docs.example.com' });
    expect(r.zscaler.threatname).toBeUndefined();
    const b = at(out, 2);
    expect(b.event.action).toBe('blocked');
    expect(b.user.name).toBe('grace'); // %40 decoded
    expect(b.url.original).toBe('http://casino.example.net/play');
    expect(b.destination.ip).toBeUndefined();
    // CONNECT: the target stays host:port
    expect(at(out, 3).url).toEqual({ original: 'mail.example.org:443', domain: 'mail.example.org', port: 443 });
    expect(at(out, 3).destination).toEqual({ ip: '192.0.2.31', domain: 'mail.example.org', port: 443 });
    expect(at(out, 3).event.duration).toBe(1_200_000_000);
    // NSS names with a date-format time; SSL → https
    expect(at(out, 4)).toMatchObject({
      '@timestamp': '2024-05-14T10:00:43.000Z',
      url: { original: 'https://api.example.com/v1/items' },
      user: { name: 'ivan' },
    });
  });
});

describe('elff-json: Cloud SWG ELFF records as JSON objects', () => {
  it('is detected by auto and read as ELFF with the keys as #Fields', async () => {
    const { out, invalid } = await parse({ format: 'auto' }, fixture('cloudswg.jsonl'));
    expect(codes(invalid)).toEqual([[3, 'PARSE_NUMBER']]);
    expect(at(out, 1)).toMatchObject({
      '@timestamp': '2024-11-05T14:02:11.000Z',
      event: { dataset: 'proxysg.elff', action: 'TCP_NC_MISS', duration: 183_000_000 },
      source: { ip: '198.51.100.23' },
      user: { name: 'jdoe' },
      destination: { ip: '203.0.113.80', domain: 'download.example.net', port: 443 },
      url: { original: 'https://download.example.net/files/setup.exe?v=2&lang=en', query: 'v=2&lang=en', extension: 'exe', category: 'Technology/Internet' },
      http: {
        request: { method: 'GET', bytes: 612, referrer: 'https://www.example.org/' },
        response: { status_code: 200, bytes: 48213, mime_type: 'text/html; charset=UTF-8' },
      },
      user_agent: { original: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)' },
      observer: { ip: '10.20.0.5' },
      proxysg: { 'x-cs-client-ip-country': 'US', 'sc-filter-result': 'OBSERVED' },
    });
    expect(at(out, 2).url).toEqual({
      original: 'bad.example.com:443',
      scheme: 'tcp',
      domain: 'bad.example.com',
      port: 443,
      category: 'Malicious Sources/Malnets',
    });
    expect(at(out, 2).user).toBeUndefined();
  });

  it('format elff-json can be set explicitly', async () => {
    const { out } = await parse({ format: 'elff-json' }, fixture('cloudswg.jsonl'));
    expect(out).toHaveLength(2);
  });
});

describe('combined variants', () => {
  it('vhost_combined and an extra leading field before the client', async () => {
    const { out, invalid } = await parse({ format: 'auto' }, fixture('combined-vhost.log'));
    expect(invalid).toEqual([]);
    expect(at(out, 1)).toMatchObject({
      '@timestamp': '2024-12-05T09:11:12.000Z',
      source: { ip: '192.0.2.44' },
      destination: { domain: 'www.example.com', port: 443 },
      url: { original: '/index.html?lang=en', path: '/index.html', query: 'lang=en' },
      http: { request: { method: 'GET', referrer: 'https://ref.example/' }, response: { status_code: 200, bytes: 5120 } },
      apache: { vhost: 'www.example.com:443' },
    });
    expect(at(out, 1).user).toBeUndefined();
    // a proxy's log: the URL's host is the destination, the leading field only kept
    expect(at(out, 2)).toMatchObject({
      source: { ip: '192.0.2.45' },
      user: { name: 'alice' },
      destination: { domain: 'www.example.org', port: 80 },
      apache: { vhost: 'proxy-02' },
    });
    // no leading field: a user name with spaces stays one user
    expect(at(out, 3).user).toEqual({ name: 'CN=Agent Smith,OU=fr' });
    expect(at(out, 3).apache).toBeUndefined();
    expect(at(out, 4)).toMatchObject({ source: { domain: 'client-7.example.net' }, destination: { domain: 'shop.example.com', port: 80 } });
  });
});

describe('squid with a logformat', () => {
  const logformat = '%>a %[ui %[un [%{%d/%m/%Y %H:%M:%S}tl] "%rm %ru HTTP/%rv" %>Hs %<st %Ss:%Sh %<a %{X-Category}<h %{X-Risk}<h';

  it('reads a CLF-like layout with dd/mm/yyyy times and trailing category fields', async () => {
    const { out, invalid } = await parse({ format: 'squid', logformat }, fixture('squid-logformat.log'));
    expect(codes(invalid)).toEqual([
      [4, 'PARSE_TIMESTAMP'],
      [5, 'PARSE_NUMBER'],
      [6, 'PARSE_SYNTAX'],
      [7, 'PARSE_QUOTE'],
    ]);
    expect(at(out, 1)).toEqual(
      expect.objectContaining({
        '@timestamp': '2024-12-05T10:15:42.000Z',
        event: { dataset: 'squid.access', action: 'TCP_MISS' },
        source: { ip: '192.0.2.31' },
        user: { name: 'jdoe' },
        destination: { ip: '203.0.113.9', domain: 'news.example.com', port: 80 },
        squid: { hierarchy: 'HIER_DIRECT', peer: '203.0.113.9', '{X-Category}<h': 'News/Media', '{X-Risk}<h': 'low' },
      }),
    );
    expect(at(out, 1).http).toEqual({ version: '1.1', request: { method: 'GET' }, response: { status_code: 200, bytes: 18234 } });
    expect(at(out, 2).url).toEqual({ original: 'login.example.net:443', domain: 'login.example.net', port: 443 });
    expect(at(out, 3).event.reason).toBe('error:transaction-end-before-headers');
    expect(at(out, 3).http.request).toBeUndefined();
  });

  it('the native preset gives the same records as the native parser', async () => {
    const native = await parse({ format: 'squid' }, fixture('squid-native.log'));
    const byFormat = await parse({ format: 'squid', logformat: 'squid' }, fixture('squid-native.log'));
    expect(byFormat.invalid).toEqual([]);
    for (const r of native.out) {
      const o = at(byFormat.out, r.origin.line);
      expect(o['@timestamp']).toBe(r['@timestamp']);
      expect(o.source).toEqual(r.source);
      expect(o.url).toEqual(r.url);
      expect(o.destination).toEqual(r.destination);
      expect(o.event).toEqual(r.event);
      expect(o.http.response).toEqual(r.http.response);
    }
  });

  it('quoted codes hold spaces and escaped quotes; %tl default is CLF time with its zone', async () => {
    const lf = '%>a [%tl] "%rm %ru HTTP/%rv" %Hs %<st "%{Referer}>h" "%{User-Agent}>h" %tr';
    const { out, invalid } = await parse(
      { format: 'squid', logformat: lf },
      lines('192.0.2.9 [05/Dec/2024:10:00:00 +0200] "GET http://a.example/ HTTP/1.1" 200 10 "-" "Agent \\"x\\" (y z)" 42'),
    );
    expect(invalid).toEqual([]);
    expect(out[0]).toMatchObject({ '@timestamp': '2024-12-05T08:00:00.000Z', user_agent: { original: 'Agent "x" (y z)' }, event: { duration: 42_000_000 } });
    expect(out[0]!.http.request.referrer).toBeUndefined();
  });

  it('refuses a logformat it cannot read, and logformat with another format', () => {
    expect(() => compileLogformat('%>a %un')).toThrow(/no time code/);
    expect(() => compileLogformat('%ts%tr')).toThrow(/nothing between/);
    expect(() => compileLogformat('%ts %{%j}tl')).toThrow(/not supported/);
    expect(() => configFor(proxyLog, { format: 'combined', logformat: 'squid' })).toThrow(/logformat is for format 'squid'/);
    expect(() => configFor(proxyLog, { format: 'squid', logformat: '%ts %{x' })).toThrow(/without '}'/);
  });

  it('strftime times: real instants only', () => {
    expect(strftimeToIso('05/12/2024 10:15:42', '%d/%m/%Y %H:%M:%S', false)).toBe('2024-12-05T10:15:42.000Z');
    expect(strftimeToIso('2024-12-05T10:15:42', '%FT%T', false)).toBe('2024-12-05T10:15:42.000Z');
    expect(strftimeToIso('05/Dec/2024:10:15:42 -0130', '%d/%b/%Y:%H:%M:%S %z', false)).toBe('2024-12-05T11:45:42.000Z');
    expect(strftimeToIso('05/Dec/2024:10:15:42 -0130', '%d/%b/%Y:%H:%M:%S %z', true)).toBe('2024-12-05T10:15:42.000Z');
    expect(strftimeToIso('29/02/2023 10:15:42', '%d/%m/%Y %H:%M:%S', false)).toBeUndefined();
    expect(strftimeToIso('05/12/2024 25:15:42', '%d/%m/%Y %H:%M:%S', false)).toBeUndefined();
    expect(strftimeToIso('05/constructor/2024', '%d/%b/%Y', false)).toBeUndefined();
    expect(strftimeToIso('05/12/2024 10:15', '%d/%m/%Y %H:%M:%S', false)).toBeUndefined();
  });
});
