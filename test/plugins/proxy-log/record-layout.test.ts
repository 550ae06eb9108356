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
  newDestination,
  newEvent,
  newHttp,
  newObserver,
  newRecord,
  newRequest,
  newResponse,
  newSource,
  newUrl,
  newUserAgent,
} from '../../../plugins/transform/proxy-log/record.js';
import { SquidState, parseSquid } from '../../../plugins/transform/proxy-log/squid.js';
import { ParseError } from '../../../plugins/transform/proxy-log/errors.js';
import { anyTimeToIso, clfToIso, ctimeToIso, epochSecondsToIso, w3cToIso } from '../../../plugins/transform/proxy-log/time.js';
import { canonicalIp, normaliseHost } from '../../../src/internal.js';
import fc from 'fast-check';
import { Ajv } from 'ajv';
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

  it('the published record schema is a valid draft-07 schema (the parser compiles it without the meta-schema check)', () => {
    const ajv = new Ajv({ strict: false });
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
    expect(ajv.validateSchema({ ...schema, properties: { ...schema.properties, '@timestamp': { type: 'no-such-type' } } })).toBe(false);
  });

  it("the parser's schema differs from the published one only by the key checks and the timestamp pattern", () => {
    const strip = (o: any): any => {
      if (Array.isArray(o)) return o.map(strip);
      if (o === null || typeof o !== 'object') return o;
      const c: any = {};
      for (const k of Object.keys(o)) if (!(k === 'additionalProperties' && o[k] === false)) c[k] = strip(o[k]);
      return c;
    };
    const expected = strip(schema);
    const { pattern, ...ts } = expected.properties['@timestamp'];
    expect(pattern).toBe('^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$');
    expected.properties['@timestamp'] = { ...ts, minLength: 24, maxLength: 24 };
    expected.$defs.ip = { description: expected.$defs.ip.description, type: 'string' };
    delete expected.$defs.domain.pattern;
    expect(layoutSchema(schema)).toEqual(expected);
    for (const [, , s] of layouts) expect(s.additionalProperties).toBe(false); // the published contract keeps them
  });

  it('a record with every layout field set passes the published schema', () => {
    const r = newRecord('2024-01-01T00:00:00.000Z', newEvent('squid.access', 'TCP_MISS', 5));
    r.event.original = 'line';
    r.source = { ip: '10.0.0.1', port: 5, domain: 'client.example' };
    r.destination = { ip: '10.0.0.2', port: 443, domain: 'server.example' };
    r.user = { name: 'u' };
    r.url = {
      original: 'o',
      full: 'f',
      scheme: 'https',
      domain: 'server.example',
      port: 443,
      path: '/',
      query: 'q',
      fragment: 'f',
      extension: 'js',
      category: 'c',
    };
    r.http = { version: '1.1', request: { method: 'GET', referrer: 'r', bytes: 1 }, response: { status_code: 200, bytes: 2, mime_type: 'text/html' } };
    r.user_agent = { original: 'ua' };
    r.observer = { ip: '10.0.0.3', hostname: 'h', product: 'p' };
    r.tags = ['t'];
    r.squid = {};
    r.apache = {};
    r.proxysg = {};
    r.zscaler = {};
    r.json = {};
    r.origin = { file: 'f', line: 1 };
    const v = publishedValidator();
    expect(v(r), JSON.stringify(v.errors)).toBe(true);
    expect(v({ ...r, extra: 1 })).toBe(false); // the published schema still refuses unknown keys
  });

  it('JSON mapping targets are layout keys', () => {
    const holders: { [k: string]: object } = {
      '@timestamp': rec,
      source: newSource(undefined, undefined),
      destination: newDestination(),
      user: { name: '' },
      url: newUrl(undefined),
      event: rec.event,
      observer: newObserver(),
      user_agent: newUserAgent(''),
      'http.request': newRequest(undefined),
      'http.response': newResponse(),
    };
    for (const t of Object.keys(JSON_TARGETS)) {
      if (t === '@timestamp') continue;
      const key = t === 'event.duration_ms' ? 'duration' : t.slice(t.lastIndexOf('.') + 1);
      const holder = t.startsWith('http.') ? holders[t.slice(0, t.lastIndexOf('.'))] : holders[t.slice(0, t.indexOf('.'))];
      expect(holder && Object.keys(holder), t).toContain(key);
    }
  });

  it('absent values are undefined keys: JSON output shows only present ones', () => {
    const r = parseSquid('1699948800.007    100 10.0.0.1 TCP_MISS/200 500 GET http://a.example/x - HIER_DIRECT/10.0.0.2 text/html', new SquidState());
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
      '@timestamp': 1700000000,
      source_ip: '10.0.0.1',
      source_port: 5,
      user_name: 'u',
      destination_ip: '10.0.0.2',
      destination_port: 443,
      destination_domain: 'Server.Example',
      url_original: 'https://server.example/p?q',
      url_category: 'c',
      http_request_method: 'GET',
      http_request_referrer: 'r',
      http_request_bytes: 1,
      http_response_status_code: 200,
      http_response_bytes: 2,
      http_response_mime_type: 'text/html',
      user_agent_original: 'ua',
      event_action: 'allowed',
      event_duration: 7,
      event_duration_ms: 3,
      observer_hostname: 'h',
      observer_ip: '10.0.0.3',
    };
    const { out } = await parse({ format: 'json', fields }, lines(JSON.stringify({ v })));
    expect(out.length).toBe(1);
    expect(out[0]!.destination).toEqual({ ip: '10.0.0.2', port: 443, domain: 'server.example' });
  });

  it('every timestamp the parsers make has 24 characters exactly when it matches the schema pattern (property)', () => {
    const re = new RegExp(schema.properties['@timestamp'].pattern);
    const check = (ts: string | undefined): void => {
      if (ts !== undefined) expect(ts.length === 24, ts).toBe(re.test(ts));
    };
    const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    const year = fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 1, 999, 1000, 1969, 1970, 9999));
    const parts = fc.record({
      y: year,
      mo: fc.integer({ min: 0, max: 11 }),
      d: fc.integer({ min: 1, max: 31 }),
      h: fc.integer({ min: 0, max: 23 }),
      mi: fc.integer({ min: 0, max: 59 }),
      s: fc.integer({ min: 0, max: 59 }),
      oh: fc.integer({ min: 0, max: 23 }),
      om: fc.integer({ min: 0, max: 59 }),
      neg: fc.boolean(),
    });
    fc.assert(
      fc.property(parts, (p) => {
        check(
          clfToIso(
            `${pad(p.d, 2)}/${MON[p.mo]}/${pad(p.y, 4)}:${pad(p.h, 2)}:${pad(p.mi, 2)}:${pad(p.s, 2)} ${p.neg ? '-' : '+'}${pad(p.oh, 2)}${pad(p.om, 2)}`,
          ),
        );
        check(w3cToIso(`${pad(p.y, 4)}-${pad(p.mo + 1, 2)}-${pad(p.d, 2)}`, `${pad(p.h, 2)}:${pad(p.mi, 2)}:${pad(p.s, 2)}.${pad(p.om, 2)}`));
        check(ctimeToIso(`Mon ${MON[p.mo]} ${pad(p.d, 2)} ${pad(p.h, 2)}:${pad(p.mi, 2)}:${pad(p.s, 2)} ${pad(p.y, 4)}`));
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ min: -1e15, max: 1e16, noNaN: true }),
          fc.integer({ min: 0, max: 253402300799 }),
          fc.constantFrom(0, 253402300799, 253402300800, 253402300799999, 253402300800000),
        ),
        (v) => {
          check(anyTimeToIso(v));
          check(anyTimeToIso(String(v)));
          check(epochSecondsToIso(String(v)));
          check(epochSecondsToIso(`${Math.floor(Math.abs(v))}.${pad(Math.floor(Math.abs(v) % 1000), 3)}`));
        },
      ),
      { numRuns: 5000 },
    );
    // the edges: years 0 and 9999 after a zone offset, and ISO text with a zone
    for (const t of ['01/Jan/0000:00:30:00 +0100', '31/Dec/9999:23:59:59 -0100', '01/Jan/1000:00:00:00 +0000']) check(clfToIso(t));
    for (const t of ['0000-01-01T00:00:00+01:00', '9999-12-31T23:00:00-02:00', '2024-03-22T16:16:01.123456Z', '2024-03-22']) check(anyTimeToIso(t));
    expect(clfToIso('31/Dec/9999:23:59:59 -0100')!.length).not.toBe(24); // such lines fail the schema, as before
  });

  it("every address canonicalIp returns fits the schema's ip definition (property)", () => {
    const ip = schema.$defs.ip;
    const re = new RegExp(ip.pattern);
    const check = (text: string): void => {
      const v = canonicalIp(text);
      if (v !== undefined) expect(re.test(v) && v.length >= ip.minLength && v.length <= ip.maxLength, `${text} -> ${v}`).toBe(true);
    };
    const tok = fc.constantFrom(
      '0',
      '1',
      '9',
      '00',
      '01',
      '255',
      '256',
      '0db8',
      'FFFF',
      'ffff',
      'aBcD',
      '12345',
      ':',
      '::',
      '.',
      '[',
      ']',
      '%eth0',
      '1.2.3.4',
      '010.1.2.3',
      'g',
      ' ',
    );
    fc.assert(
      fc.property(fc.array(tok, { minLength: 1, maxLength: 20 }), (parts) => check(parts.join(''))),
      { numRuns: 20000 },
    );
    fc.assert(fc.property(fc.string({ maxLength: 50 }), check), { numRuns: 5000 });
    const g = fc.integer({ min: 0, max: 0xffff });
    fc.assert(
      fc.property(fc.array(g, { minLength: 8, maxLength: 8 }), fc.boolean(), (a, up) => {
        const full = a.map((x) => x.toString(16)).join(':');
        check(up ? full.toUpperCase() : full);
        check(`[${full}]`);
        check(`::ffff:${a[0]! & 255}.${a[1]! & 255}.${a[2]! & 255}.${a[3]! & 255}`);
      }),
      { numRuns: 5000 },
    );
  });

  it("every name normaliseHost returns fits the schema's domain pattern (property)", () => {
    const re = new RegExp(schema.$defs.domain.pattern, 'u');
    const unit = fc.oneof(
      fc.constantFrom(...'aZ09.-_/\\" \t\n\u000b\f\r\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\ufeffÄéß\u0130\u212a\uff21\u3002\ufe52'.split('')),
      fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    );
    fc.assert(
      fc.property(fc.array(unit, { minLength: 1, maxLength: 20 }), (a) => {
        const text = a.join('');
        const v = normaliseHost(text);
        if (v !== undefined) expect(re.test(v), JSON.stringify([text, v])).toBe(true);
      }),
      { numRuns: 20000 },
    );
  });
});
