/**
 * The plain-list loader's line loop (trims by index over the text, sizes the store for large lists)
 * against the straightforward loop it replaced, kept here as the reference: same values offered to
 * the store in the same order, same rows, skip reasons and samples, same store contents.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadPlain } from '../../../plugins/analyse/ioc-sweep/feeds/plain.js';
import { Tally, type FeedInput, type LoadContext } from '../../../plugins/analyse/ioc-sweep/feeds/types.js';
import { IndicatorStoreBuilder } from '../../../plugins/analyse/ioc-sweep/store-builder.js';
import type { Hit } from '../../../plugins/analyse/ioc-sweep/store.js';
import { parseIPv4 } from '../../../plugins/analyse/ioc-sweep/normalise.js';

/** The loop as it was: slice and trim each line, cut the first token. */
function referencePlain(input: FeedInput, ctx: LoadContext): void {
  const { store, tally, base } = ctx;
  const text = input.text;
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

/** Load `text` with `loader`, recording every value offered to the store. */
function run(loader: typeof loadPlain, text: string) {
  const store = new IndicatorStoreBuilder('f');
  const offered: string[] = [];
  const add = store.add.bind(store);
  store.add = (v, hint, meta) => {
    offered.push(v);
    return add(v, hint, meta);
  };
  const tally = new Tally();
  const base = store.meta({ exact: false });
  loader({ label: 't', text }, { store, tally, base, feed: { name: 'f', path: 't', format: 'list', exact: false, timeout: '5s', optional: false }, now: 0 });
  return { store: store.seal(), tally, offered };
}

function sameLoad(text: string): void {
  const a = run(loadPlain, text);
  const b = run(referencePlain, text);
  expect(a.offered).toEqual(b.offered);
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

describe('plain lists: the line loop', () => {
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
});
