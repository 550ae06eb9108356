import { describe, it, expect } from 'vitest';
import { at, codes, fixture, lines, parse } from './helpers.js';

describe('proxy-log squid native', () => {
  it('parses the 10-field layout with space-padded columns into ECS fields', async () => {
    const { out, invalid } = await parse({ format: 'squid' }, fixture('squid-native.log'));
    expect(invalid).toEqual([]);
    expect(out).toHaveLength(8);
    const r = at(out, 1);
    expect(r['@timestamp']).toBe('2024-05-14T10:00:01.120Z');
    expect(r.event).toEqual({ dataset: 'squid.access', duration: 231_000_000, action: 'TCP_MISS' });
    expect(r.source).toEqual({ ip: '10.2.0.5' });
    expect(r.user).toEqual({ name: 'alice' });
    expect(r.http).toEqual({ request: { method: 'GET' }, response: { status_code: 200, bytes: 10182, mime_type: 'text/html' } });
    expect(r.url).toEqual({ original: 'http://www.example.com/', scheme: 'http', domain: 'www.example.com', path: '/', full: 'http://www.example.com/' });
    // the peer of a DIRECT request is the server's address
    expect(r.destination).toEqual({ domain: 'www.example.com', port: 80, ip: '192.0.2.10' });
    expect(r.squid).toEqual({ hierarchy: 'DIRECT', peer: '192.0.2.10' });
    expect(r.origin).toEqual({ file: 'squid-native.log', line: 1 });
    expect(r.event.original).toBeUndefined();
  });

  it('NONE/- hierarchy: no peer, no destination ip', async () => {
    const { out } = await parse({ format: 'squid' }, fixture('squid-native.log'));
    const r = at(out, 2);
    expect(r.squid).toEqual({ hierarchy: 'NONE' });
    expect(r.destination.ip).toBeUndefined();
  });

  it('CONNECT host:443 gives destination domain and port, no scheme', async () => {
    const { out } = await parse({ format: 'squid' }, fixture('squid-native.log'));
    const r = at(out, 3);
    expect(r.url).toEqual({ original: 'login.example.net:443', domain: 'login.example.net', port: 443 });
    expect(r.destination).toEqual({ domain: 'login.example.net', port: 443, ip: '192.0.2.20' });
  });

  it('CONNECT to a bracketed IPv6 literal: canonical compressed lower-case destination.ip', async () => {
    const { out } = await parse({ format: 'squid' }, fixture('squid-native.log'));
    const r = at(out, 6);
    expect(r.destination).toEqual({ ip: '2001:db8::5', port: 443 });
    expect(r.url.domain).toBe('2001:db8::5');
    expect(r.url.original).toBe('[2001:DB8:0:0::5]:443');
  });

  it('keeps empty queries, ";" in paths, and normalises host case, trailing dot, port and fragment', async () => {
    const { out } = await parse({ format: 'squid' }, fixture('squid-native.log'));
    expect(at(out, 4).url).toMatchObject({ path: '/login', query: '', full: 'http://www.example.org/login?' });
    expect(at(out, 5).url.path).toBe('/a;jsessionid=1/b.gif');
    expect(at(out, 8).url).toEqual({
      original: 'http://WWW.Example.COM.:8080/x?y=1#top',
      scheme: 'http',
      domain: 'www.example.com',
      port: 8080,
      path: '/x',
      query: 'y=1',
      fragment: 'top',
      full: 'http://www.example.com:8080/x?y=1',
    });
  });

  it('a line squid wrote for an unparseable request is kept, the error in event.reason, not rejected', async () => {
    const { out } = await parse({ format: 'squid' }, fixture('squid-native.log'));
    const r = at(out, 7);
    expect(r.url).toBeUndefined();
    expect(r.tags).toBeUndefined();
    expect(r.event.reason).toBe('error:invalid-request');
    expect(r.http.response.status_code).toBe(400);
  });

  it('custom layout: client port, header sizes, HTTP version, peer port and quoted Referer/User-Agent', async () => {
    const { out, invalid } = await parse({ format: 'squid' }, fixture('squid-custom.log'));
    expect(invalid).toEqual([]);
    const r = at(out, 1);
    expect(r.source).toEqual({ ip: '10.2.0.5', port: 58938 });
    expect(r.http.version).toBe('1.1');
    expect(r.user).toEqual({ name: 'alice' });
    expect(r.user_agent).toEqual({ original: 'curl/8.5.0' });
    expect(r.squid).toMatchObject({ sizes: ['123', '364', '123', '528'], hierarchy: 'HIER_DIRECT', peer: '192.0.2.10', peer_port: 80 });
    expect(at(out, 2).http.request.method).toBe('CONNECT');
    expect(at(out, 2).http.response.mime_type).toBeUndefined();
    const r3 = at(out, 3);
    expect(r3.squid.peer_port).toBeUndefined(); // '-' port column
    expect(r3.http.response.mime_type).toBe('text/html');
    expect(r3.http.request.referrer).toBe('http://ref.example/');
    expect(r3.user_agent.original).toBe('Mozilla/5.0 (X11; Linux x86_64)');
  });

  it('BlueCoat squid-compatible: user names with spaces, category, unquoted User-Agent to the end', async () => {
    const { out, invalid, totals } = await parse({ format: 'squid' }, fixture('bluecoat-squid.log'));
    expect(invalid).toEqual([]);
    expect(totals.directives).toBe(1); // the "# format ..." comment
    const r = at(out, 2);
    expect(r.user).toEqual({ name: 'CN=Ada Lovelace,OU=eng,O=example' });
    expect(r.url.category).toBe('uncategorized');
    expect(r.url.port).toBe(80);
    expect(r.url.full).toBe('http://www.example.com/');
    expect(r.user_agent).toEqual({ original: 'Mozilla/4.76 [en] (X11; U; Linux 2.4.2 i686)' });
    // DIRECT/<name>: a peer that is not an address gives no destination.ip
    expect(r.destination.ip).toBeUndefined();
    expect(at(out, 3).user).toBeUndefined();
    const c = at(out, 4);
    expect(c.user.name).toBe('CN=Grace HOPPER,OU=ops,OU=fr,O=example');
    expect(c.destination).toEqual({ ip: '192.0.2.44', port: 443 });
    expect(c.user_agent).toBeUndefined();
  });

  it('a URL logged with a space after the scheme is parsed from its host, kept as logged', async () => {
    const { out } = await parse({ format: 'squid' }, fixture('bluecoat-squid.log'));
    const r = at(out, 5);
    expect(r.url.original).toBe('http:// files.example.net/img/a.jpg');
    expect(r.url.domain).toBe('files.example.net');
    expect(r.url.full).toBe('http://files.example.net/img/a.jpg');
    expect(r.user.name).toBe('CN=Alan TURING,OU=fr,O=example');
  });

  it('a non-ASCII host becomes punycode in url.domain', async () => {
    const { out } = await parse({ format: 'squid' }, fixture('bluecoat-squid.log'));
    const r = at(out, 6);
    expect(r.url.domain).toBe('www.xn--bcher-kva.example');
    expect(r.url.original).toBe('http://www.bücher.example/perl/main.pl');
  });

  it('client logged by name (log_fqdn) goes to source.domain', async () => {
    const { out } = await parse(
      { format: 'squid' },
      lines('1715680801.120 1 ws-01.corp.example TCP_MISS/200 10 GET http://www.example.com/ - DIRECT/192.0.2.10 text/html'),
    );
    expect(out[0]!.source).toEqual({ domain: 'ws-01.corp.example' });
  });

  it('a dotted quad with a leading-zero octet is not an address: the peer squid connected to is destination.ip', async () => {
    // 010 is octal 8 to inet_aton (and so to squid), decimal 10 to others: sluice reads neither (docs/feeds.md)
    const { out } = await parse(
      { format: 'squid' },
      lines('1699948800.007 100 010.0.0.1 TCP_MISS/200 500 GET http://010.1.2.3/x - HIER_DIRECT/8.1.2.3 text/html'),
    );
    const r = out[0]!;
    expect(r.source).toEqual({ domain: '010.0.0.1' });
    expect(r.url.domain).toBe('010.1.2.3');
    expect(r.destination).toEqual({ ip: '8.1.2.3', port: 80, domain: '010.1.2.3' });
  });

  it('rejects truncated lines, bad times and bad numbers with reason codes and the raw line', async () => {
    const text = [
      '1715680811.000    145 10.1.1.30 TCP_MISS/200 1234 GET http://www.exa',
      '17156808I2.000 12 10.1.1.31 TCP_MISS/200 99 GET http://www.example.com/x - DIRECT/192.0.2.10 text/html',
      '1715680812.000 x12 10.1.1.31 TCP_MISS/200 99 GET http://www.example.com/x - DIRECT/192.0.2.10 text/html',
      '1715680812.000 12 10.1.1.31 TCP_MISS/2000 99 GET http://www.example.com/x - DIRECT/192.0.2.10 text/html',
      '1715680812.000 12 10.1.1.31 TCP_MISS/200 -99 GET http://www.example.com/x - DIRECT/192.0.2.10 text/html',
      '1715680812.000 12 10.1.1.31 TCP_MISS/200 99 GET http://www.example.com/x - text/html a b c',
      '1715680812. 12 10.1.1.31 TCP_MISS/200 99 GET http://www.example.com/x - DIRECT/192.0.2.10 text/html',
    ].join('\n');
    const { out, invalid } = await parse({ format: 'squid' }, lines(text, 'bad.log'));
    expect(out).toEqual([]);
    expect(codes(invalid)).toEqual([
      [1, 'PARSE_FIELD_COUNT'],
      [2, 'PARSE_TIMESTAMP'],
      [3, 'PARSE_NUMBER'],
      [4, 'PARSE_NUMBER'],
      [5, 'PARSE_NUMBER'],
      [6, 'PARSE_FIELD_COUNT'],
      [7, 'PARSE_TIMESTAMP'],
    ]);
    const first = invalid[0]!;
    expect(first.event.original).toBe('1715680811.000    145 10.1.1.30 TCP_MISS/200 1234 GET http://www.exa');
    expect(first.origin).toEqual({ file: 'bad.log', line: 1 });
    expect(first.error.node).toBe('parse');
    expect(first.error.message).toMatch(/expected at least 10 fields, found 7/);
  });

  it('keep_original: true puts the raw line (without CR) in event.original', async () => {
    const { out } = await parse(
      { format: 'squid', keep_original: true },
      lines('1715680801.120 1 10.0.0.1 TCP_MISS/200 10 GET http://a.example/ - DIRECT/192.0.2.10 text/html\r'),
    );
    expect(out[0]!.event.original).toBe('1715680801.120 1 10.0.0.1 TCP_MISS/200 10 GET http://a.example/ - DIRECT/192.0.2.10 text/html');
  });
});
