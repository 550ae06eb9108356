/**
 * The plain-list loader's byte loop (trims by index over the bytes, stores the common shapes with no
 * string made, sizes the store for large lists) against the straightforward string loop, kept here as
 * the reference (every value through `add`): same rows, skip reasons and samples, and the same store
 * to the byte.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadPlain, reserveFor } from '../../../plugins/analyse/ioc-sweep/feeds/plain.js';
import { Tally, type FeedInput, type LoadContext } from '../../../plugins/analyse/ioc-sweep/feeds/types.js';
import { IndicatorStoreBuilder } from '../../../plugins/analyse/ioc-sweep/store-builder.js';
import type { Hit } from '../../../plugins/analyse/ioc-sweep/store.js';
import { storeBytes, storeKeys } from '../../helpers/indicator-store.js';
import { parseIPv4 } from '../../../plugins/analyse/ioc-sweep/normalise.js';

/** The loop as it was: slice and trim each line, cut the first token, `add` it (sized as the loader sizes). */
function referencePlain(input: FeedInput, ctx: LoadContext): void {
  const { store, tally, base } = ctx;
  const text = input.text;
  reserveFor(store, Buffer.from(text, 'utf8'));
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let lineNo = 0;
  let firstData = true;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    let line = text.slice(start, end);
    start = end + 1;
    line = line.trim();
    if (line.length === 0) continue;
    const c0 = line.charCodeAt(0);
    if (c0 === 35 || c0 === 59 || (c0 === 47 && line.charCodeAt(1) === 47)) continue;
    let cut = line.length;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === 32 || c === 9 || c === 0xa0) {
        cut = i;
        break;
      }
    }
    let value = cut === line.length ? line : line.slice(0, cut);
    if (value.charCodeAt(value.length - 1) === 44) value = value.slice(0, -1);
    if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) value = value.slice(1, -1);
    tally.rows++;
    const reason = store.add(value, 'auto', base);
    if (reason !== null) {
      const header = firstData && reason === 'NOT_AN_INDICATOR' && /^[A-Za-z][A-Za-z_ ]*$/.test(value);
      tally.skip(header ? 'HEADER' : reason, `${input.label}:${lineNo}`, value);
    }
    firstData = false;
  }
}

/** Load `text` with `loader`. */
function run(loader: typeof loadPlain, text: string) {
  const store = new IndicatorStoreBuilder('f');
  const tally = new Tally();
  const base = store.meta({ exact: false });
  loader(
    { label: 't', text },
    { store, tally, base, feed: { name: 'f', path: 't', format: 'list', exact: false, timeout: '5s', optional: false }, now: 0, stableUntil: Infinity },
  );
  return { store: store.seal(), tally };
}

function sameLoad(text: string): void {
  const a = run(loadPlain, text);
  const b = run(referencePlain, text);
  expect(storeKeys(a.store)).toEqual(storeKeys(b.store));
  expect(storeBytes(a.store)).toEqual(storeBytes(b.store));
  expect(a.tally.rows).toBe(b.tally.rows);
  expect(a.tally.skipped).toBe(b.tally.skipped);
  expect(a.tally.reasons).toEqual(b.tally.reasons);
  expect(a.tally.samples).toEqual(b.tally.samples);
  expect(a.store.counts).toEqual(b.store.counts);
}

const piece = fc.constantFrom(
  '1.2.3.4',
  '10.0.0.0/8',
  '2001:db8::1',
  '[2001:db8::1]:443',
  'evil.example',
  'Evil.Example.',
  '*.evil.example',
  '.xyz',
  'http://evil.example/a?b',
  'evil.example/path',
  '/wp-admin/x.php',
  'IP',
  'Domain',
  '#',
  ';',
  '//',
  '/',
  '"',
  ',',
  ' ',
  '\t',
  '\r',
  '\u00a0',
  '\ufeff',
  '\u2003',
  '\u000b',
  '\u0001',
  'é',
  'a',
  '5',
  ':',
  '.',
  '# comment',
  '1.2.3.4,',
  '"evil.example"',
);
const line = fc.array(piece, { maxLength: 6 }).map((a) => a.join(''));

/** Values at the edges of the byte loop's shapes (dotted quads and CIDRs, normal domains, plain URLs). */
const EDGES = [
  '1.2.3.4',
  '0.0.0.0',
  '255.255.255.255',
  '01.2.3.4',
  '1.2.3.04',
  '1.2.3.256',
  '1.2.3.4/7',
  '1.2.3.4/8',
  '1.2.3.4/32',
  '1.2.3.4/33',
  '1.2.3.4/024',
  '1.2.3.4/0008',
  '1.2.3.4/',
  '1.2.3.4/x',
  '89.160.20.129/24',
  '1.2.3',
  '1.2.3.4.5',
  '1.2.3.4.example',
  '1.2.3.4:80',
  '4chan.org',
  'a.b',
  'ab',
  'a.1',
  'a.1a',
  'a.0x1f',
  '-a.b-',
  'a_b.c_',
  'A.b',
  'a..b',
  '.a.b',
  'a.b.',
  '*.a.b',
  'a.b/c',
  'a.b:8080',
  `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`,
  `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`,
  'http://a.b/',
  'http://a.b',
  'http://a.b/x',
  'https://a.b/x',
  'httpx://a.b/x',
  'http:/a.b/x',
  'HTTP://a.b/x',
  'http://A.b/x',
  'http://a.b:80/x',
  'https://a.b:443/x',
  'http://a.b:8080/x',
  'http://a.b?q',
  'http://a.b/x?',
  'http://a.b/x?q',
  "http://a.b/x?q'",
  "http://a.b/x'?q",
  'http://a.b/x?q?r',
  'http://a.b/./x',
  'http://a.b/x/.',
  'http://a.b/x/..',
  'http://a.b/../x',
  'http://a.b/.x/..y',
  'http://a.b/%2e/x',
  'http://a.b/%2E',
  'http://a.b/%2',
  'http://a.b/%2f',
  'http://a.b/x#f',
  'http://a.b/#',
  'http://xn--a.b/x',
  'http://a.xn--b/x',
  'http://axn--b.c/x',
  'http://1.2.3.4/x',
  'http://1.2.3/x',
  'http://01.2.3.4/x',
  'http://a.0x1/x',
  'http://a.1/x',
  'http://a.1x/x',
  'http://a..b/x',
  'http://.a.b/x',
  'http://a.b./x',
  'http://a_b.c/x',
  'http:///x',
  'http://a.b/x\\y',
  'http://a.b/x"y',
  'http://a.b/x|y',
  'http://a.b/x^y',
  'http://a.b/x`y',
  'http://a.b/x{y}',
  "http://a.b/!$&'()*+,;=:@~_-.%20",
  'http://[::1]/x',
  'http://[::]/x',
  'http://[2a01:84d2:0:90::ca8]/c.ps1?id=r&v=54',
  'http://[2a01:84d2:0:90::CA8]/x',
  'http://[2a01:84d2:0:090::ca8]/x',
  'http://[2a01:84d2:0:90:0:0:0:ca8]/x',
  'http://[2a01:0:0:90::ca8]/x',
  'http://[2a01::90:0:0:ca8]/x',
  'http://[1:0:0:2:0:0:3:4]/x',
  'http://[1::2:0:0:3:4]/x',
  'http://[1:2:3:4:5:6:7:8]/x',
  'http://[1:2:3:4:5:6:7::]/x',
  'http://[1:2:3:4:5:6::8]/x',
  'http://[1:2:3:4:5:6:0:8]/x',
  'http://[::ffff:102:304]/x',
  'http://[::ffff:1.2.3.4]/x',
  'http://[fe80::1%25eth0]/x',
  'http://[2a01::1]:8080/x',
  'http://[2a01::1]:80/x',
  'http://[2a01::1]',
  'http://[2a01::1]?q',
  'http://[2a01::1/x',
  'http://[2a01::1]x/y',
  'https://[2a01::1]/./x',
  'http://user@a.b/x',
  '2001:db8::1',
  '2001:DB8::C2f7',
  '::',
  '::1',
  '1::',
  ':1::',
  '1:',
  '1:2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7:8:9',
  '1:2:3:4:5:6:7::',
  '::1:2:3:4:5:6:7:8',
  '1::2::3',
  '12345::1',
  '::ffff:1.2.3.4',
  '::ffff:102:304',
  '::ffff:102:304/120',
  '::ffff:102:304/64',
  '::fffe:102:304',
  '2001:db8::/32',
  '2001:db8::ff/32',
  '2001:db8::/15',
  '2001:db8::/16',
  '2001:db8::/129',
  '2001:db8::1/128',
  '2001:db8::1/0128',
  '2001:db8::1/',
  'fe80::1%eth0',
  '2001:db8::1:',
  '2001:db8::1:443',
  '[2001:db8::1]',
  'abcd',
  'ab:cd',
  'ff::',
  'g::1',
];

describe('plain lists: the line loop', () => {
  it('stores the edges of the byte shapes as add() does', () => {
    sameLoad(EDGES.join('\n'));
    for (const v of EDGES) {
      sameLoad(v);
      sameLoad(`"${v}",\t# c`);
    }
  });

  it('stores generated values near the byte shapes as add() does', () => {
    const ch = fc.constantFrom(..."ahtpsx019:/.?#%2eE-_'n[]@AfF0:]".split(''));
    const prefix = fc.constantFrom('', '', 'http://', 'https://', '1.2.3.', 'a.b', '2001:db8:', '::', 'http://[', 'http://[1:0:0:', 'http://[2001:db8::');
    const value = fc.tuple(prefix, fc.array(ch, { maxLength: 14 })).map(([p, cs]) => p + cs.join(''));
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 20 }), (values) => {
        sameLoad(values.join('\n'));
      }),
      { numRuns: 3000 },
    );
  });

  it('offers the same values, rows and skips as the reference loop on arbitrary lines', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(line, { maxLength: 12 }), fc.boolean(), (bom, lines, crlf) => {
        sameLoad((bom ? '\ufeff' : '') + lines.join(crlf ? '\r\n' : '\n'));
      }),
      { numRuns: 3000 },
    );
  });

  it('sizes the store for a large list without changing what it holds', () => {
    const rows: string[] = ['# a large list: sized before loading'];
    for (let i = 0; i < 20000; i++) {
      switch (i % 5) {
        case 0:
          rows.push(`10.${(i >> 8) & 255}.${i & 255}.${i % 7}`);
          break;
        case 1:
          rows.push(`host${i}.example`);
          break;
        case 2:
          rows.push(`http://u${i}.example/p/${i}`);
          break;
        case 3:
          rows.push(`2001:db8::${i.toString(16)}`);
          break;
        default:
          rows.push(i % 10 === 4 ? `host${i - 3}.example  # duplicate` : `172.16.${i & 255}.0/24`);
      }
    }
    const text = rows.join('\n');
    sameLoad(text);
    const { store } = run(loadPlain, text);
    const hits = (f: (o: Hit[]) => void) => {
      const o: Hit[] = [];
      f(o);
      return o.map((h) => h.value);
    };
    expect(hits((o) => store.matchV4(parseIPv4('10.0.5.5'), o))).toEqual(['10.0.5.5']);
    expect(hits((o) => store.matchHost('a.host1.example', o))).toEqual(['host1.example']);
    expect(hits((o) => store.matchUrl('http://u2.example/p/2', o))).toEqual(['http://u2.example/p/2']);
  });

  it('reads an address line to its newline as add() does, whatever ends the line', () => {
    // the dotted quads and ranges of EDGES, and what only starts like one
    const values = [
      ...EDGES.filter((v) => /^\d+\.\d/.test(v)),
      '1.2.3.4.',
      '4chan.org',
      '123.example',
      `1.2.3.4/${'1'.repeat(5000)}`,
      `${'9'.repeat(5000)}.1.1.1`,
    ];
    const ends = ['\n', '\r\n', '\r\r\n', '\r', ' \n', '\t# c\n', ',\n', '\u00a0\n', ' \r\n', '\n\n', '\n# c\n', '\n\r\n'];
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.tuple(fc.constantFrom(...values), fc.constantFrom(...ends)), { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        (bom, rows, cut) => {
          const text = (bom ? '\ufeff' : '') + rows.map(([v, e]) => v + e).join('');
          sameLoad(cut ? text.slice(0, -1) : text);
        },
      ),
      { numRuns: 2000 },
    );
    for (const v of values) for (const e of ends) sameLoad(`${v}${e}${v}`);
  });

  it('counts an address once across its spellings and types', () => {
    const text = [
      '1.2.3.4',
      '1.2.3.4/32',
      '1.2.3.4\r',
      '::ffff:1.2.3.4',
      '::ffff:102:304/128',
      '1.2.3.0/24',
      '1.2.3.9/24',
      'http://1.2.3.4/x',
      '1.2.3.4:80',
      'a.b',
      'A.B.',
      'a.b',
    ].join('\n');
    sameLoad(text);
    const { store, tally } = run(loadPlain, text);
    expect(store.counts['ipv4-addr']).toBe(1);
    expect(store.counts['ipv4-cidr']).toBe(1);
    expect(store.counts.duplicates).toBe(8);
    expect(tally.rows).toBe(12);
  });

  // the public feeds beside the project (../shared/data), read where they are: every text list as a plain list
  const shared = fileURLToPath(new URL('../../../../shared/data/ioc-feeds', import.meta.url));
  it.skipIf(!existsSync(shared))('loads the shared public feeds as the reference loop does', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const f = join(d, n);
        if (statSync(f).isDirectory()) walk(f);
        else if (/\.(txt|csv|netset|ipset|list)$/i.test(n)) files.push(f);
      }
    };
    walk(shared);
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) sameLoad(readFileSync(f, 'utf8'));
  });
});
