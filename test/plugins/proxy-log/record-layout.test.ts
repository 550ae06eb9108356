/**
 * The record layout (record.ts) against the published schema: the layout's objects hold exactly the
 * keys the schema declares for them, so dropping the schema's key checks from the parser's validator
 * (index.ts layoutSchema) changes no verdict; and the generic JSON mapping writes only layout keys.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { layoutSchema, publishedValidator } from '../../../plugins/transform/proxy-log/index.js';
import { JSON_TARGETS } from '../../../plugins/transform/proxy-log/json.js';
import {
  newDestination, newEvent, newHttp, newObserver, newRecord, newRequest, newResponse, newSource, newUrl, newUserAgent,
} from '../../../plugins/transform/proxy-log/record.js';
import { parseSquid } from '../../../plugins/transform/proxy-log/squid.js';
import { ParseError } from '../../../plugins/transform/proxy-log/common.js';
import { parse, lines } from './helpers.js';

const schema = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../schemas/proxy-record.schema.json'), 'utf8'));
const props = (s: any): string[] => Object.keys(s.properties);

describe('record layout', () => {
  const rec = newRecord('2024-01-01T00:00:00.000Z', newEvent('squid.access', undefined, undefined));
  const layouts: [string, object, any][] = [
    ['record', rec, schema],
    ['event', rec.event, schema.properties.event],
    ['source', newSource(undefined, undefined), schema.properties.source],
    ['destination', newDestination(), schema.properties.destination],
    ['user', { name: 'x' }, schema.properties.user],
    ['url', newUrl(undefined), schema.properties.url],
    ['http', newHttp(undefined, undefined), schema.properties.http],
    ['http.request', newRequest(undefined), schema.properties.http.properties.request],
    ['http.response', newResponse(), schema.properties.http.properties.response],
    ['user_agent', newUserAgent('x'), schema.properties.user_agent],
    ['observer', newObserver(), schema.properties.observer],
  ];

  it.each(layouts)('%s has exactly the keys the schema declares', (_name, obj, s) => {
    expect(Object.keys(obj).sort()).toEqual(props(s).sort());
  });

  it('the parser\'s schema differs from the published one only by the key checks of layout objects', () => {
    const strip = (o: any): any => {
      if (Array.isArray(o)) return o.map(strip);
      if (o === null || typeof o !== 'object') return o;
      const c: any = {};
      for (const k of Object.keys(o)) if (!(k === 'additionalProperties' && o[k] === false)) c[k] = strip(o[k]);
      return c;
    };
    expect(layoutSchema(schema)).toEqual(strip(schema));
    for (const [, , s] of layouts) expect(s.additionalProperties).toBe(false); // the published contract keeps them
  });

  it('a record with every layout field set passes the published schema', () => {
    const r = newRecord('2024-01-01T00:00:00.000Z', newEvent('squid.access', 'TCP_MISS', 5));
    r.event.original = 'line';
    r.source = { ip: '10.0.0.1', port: 5, domain: 'client.example' };
    r.destination = { ip: '10.0.0.2', port: 443, domain: 'server.example' };
    r.user = { name: 'u' };
    r.url = { original: 'o', full: 'f', scheme: 'https', domain: 'server.example', port: 443, path: '/', query: 'q', fragment: 'f', extension: 'js', category: 'c' };
    r.http = { version: '1.1', request: { method: 'GET', referrer: 'r', bytes: 1 }, response: { status_code: 200, bytes: 2, mime_type: 'text/html' } };
    r.user_agent = { original: 'ua' };
    r.observer = { ip: '10.0.0.3', hostname: 'h', product: 'p' };
    r.tags = ['t'];
    r.squid = {}; r.apache = {}; r.proxysg = {}; r.zscaler = {}; r.json = {};
    r.origin = { file: 'f', line: 1 };
    const v = publishedValidator();
    expect(v(r), JSON.stringify(v.errors)).toBe(true);
    expect(v({ ...r, extra: 1 })).toBe(false); // the published schema still refuses unknown keys
  });

  it('JSON mapping targets are layout keys', () => {
    const holders: { [k: string]: object } = {
      '@timestamp': rec, source: newSource(undefined, undefined), destination: newDestination(), user: { name: '' }, url: newUrl(undefined),
      event: rec.event, observer: newObserver(), user_agent: newUserAgent(''), 'http.request': newRequest(undefined), 'http.response': newResponse(),
    };
    for (const t of Object.keys(JSON_TARGETS)) {
      if (t === '@timestamp') continue;
      const key = t === 'event.duration_ms' ? 'duration' : t.slice(t.lastIndexOf('.') + 1);
      const holder = t.startsWith('http.') ? holders[t.slice(0, t.lastIndexOf('.'))] : holders[t.slice(0, t.indexOf('.'))];
      expect(holder && Object.keys(holder), t).toContain(key);
    }
  });

  it('absent values are undefined keys: JSON output shows only present ones', () => {
    const r = parseSquid('1699948800.007    100 10.0.0.1 TCP_MISS/200 500 GET http://a.example/x - HIER_DIRECT/10.0.0.2 text/html');
    expect(r).not.toBeInstanceOf(ParseError);
    expect(JSON.parse(JSON.stringify(r))).toEqual({
      '@timestamp': '2023-11-14T08:00:00.007Z',
      event: { dataset: 'squid.access', action: 'TCP_MISS', duration: 100_000_000 },
      source: { ip: '10.0.0.1' },
      destination: { ip: '10.0.0.2', port: 80, domain: 'a.example' },
      url: { original: 'http://a.example/x', full: 'http://a.example/x', scheme: 'http', domain: 'a.example', path: '/x' },
      http: { request: { method: 'GET' }, response: { status_code: 200, bytes: 500, mime_type: 'text/html' } },
      squid: { hierarchy: 'HIER_DIRECT', peer: '10.0.0.2' },
    });
    expect(Object.keys(r)).toEqual(Object.keys(newRecord('', newEvent('squid.access', undefined, undefined))));
  });

  it('mapped JSON records pass the published schema', async () => {
    const fields = Object.fromEntries(Object.keys(JSON_TARGETS).map((t) => [t, `v.${t.replace(/\./g, '_')}`]));
    const v = {
      '@timestamp': 1700000000, source_ip: '10.0.0.1', source_port: 5, user_name: 'u', destination_ip: '10.0.0.2', destination_port: 443,
      destination_domain: 'Server.Example', url_original: 'https://server.example/p?q', url_category: 'c', http_request_method: 'GET',
      http_request_referrer: 'r', http_request_bytes: 1, http_response_status_code: 200, http_response_bytes: 2, http_response_mime_type: 'text/html',
      user_agent_original: 'ua', event_action: 'allowed', event_duration: 7, event_duration_ms: 3, observer_hostname: 'h', observer_ip: '10.0.0.3',
    };
    const { out } = await parse({ format: 'json', fields }, lines(JSON.stringify({ v })));
    expect(out.length).toBe(1);
    expect(out[0]!.destination).toEqual({ ip: '10.0.0.2', port: 443, domain: 'server.example' });
  });
});
