/**
 * The two-thread plain-list loader (feeds/split.ts) against the one-thread loader: for the same text
 * the store must be the same to the byte (every table, gate and metadata list), with the same
 * counts, rows, skip reasons and samples, wherever the text is split and however it is chunked.
 * The worker thread runs the build (dist/), as in production.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadPlain } from '../../../plugins/analyse/ioc-sweep/feeds/plain.js';
import { claim, loadPlainSplit, OpRecorder, replayOps } from '../../../plugins/analyse/ioc-sweep/feeds/split.js';
import { Tally, type FeedConfig } from '../../../plugins/analyse/ioc-sweep/feeds/types.js';
import { IndicatorStoreBuilder } from '../../../plugins/analyse/ioc-sweep/store-builder.js';
import type { Hit, IndicatorStore } from '../../../plugins/analyse/ioc-sweep/store.js';
import { storeBytes, storeKeys } from '../../helpers/indicator-store.js';

const FEED: FeedConfig = { name: 'f', path: 't', format: 'list', exact: false, timeout: '5s', optional: false };

function fresh() {
  const store = new IndicatorStoreBuilder('f');
  const tally = new Tally();
  const base = store.meta({ exact: false, tags: ['t'] });
  return { store, tally, base, feed: FEED, now: 0, stableUntil: Infinity };
}

function sequential(text: string) {
  const ctx = fresh();
  loadPlain({ label: 'list', text }, ctx);
  return { store: ctx.store.seal(), tally: ctx.tally };
}

/** Load on two threads; `noStealing`: the worker parses every chunk of the tail (so that a test knows it ran). */
async function split(text: string, headShare: number, chunkChars: number, noStealing = true) {
  const ctx = fresh();
  const byWorker = await loadPlainSplit({ label: 'list', text }, ctx, { headShare, chunkChars, noStealing });
  return { store: ctx.store.seal(), tally: ctx.tally, byWorker };
}

function expectSame(a: { store: IndicatorStore; tally: Tally }, b: { store: IndicatorStore; tally: Tally }): void {
  expect(b.tally.rows).toBe(a.tally.rows);
  expect(b.tally.skipped).toBe(a.tally.skipped);
  expect(b.tally.reasons).toEqual(a.tally.reasons);
  expect(b.tally.samples).toEqual(a.tally.samples);
  expect(b.store.counts).toEqual(a.store.counts);
  expect(storeKeys(b.store)).toEqual(storeKeys(a.store));
  expect(storeBytes(b.store)).toEqual(storeBytes(a.store));
}

/** A list with every kind of value, duplicates across any split point, and rows the store refuses. */
function mixedList(n: number, header: string | null): string {
  const rows: string[] = [];
  if (header !== null) rows.push(header);
  rows.push('# a mixed list', '');
  for (let i = 0; i < n; i++) {
    const a = i & 255;
    const b = (i >> 8) & 255;
    switch (i % 26) {
      case 0:
        rows.push(`10.${b}.${a}.7`);
        break;
      case 1:
        rows.push(`10.${b}.${a}.0/24 # scanner`);
        break;
      case 2:
        rows.push(`192.0.${a}.129/25`); // host bits set
        break;
      case 3:
        rows.push(`2001:db8:${b.toString(16)}:${a.toString(16)}::1`);
        break;
      case 4:
        rows.push(`2001:db8:${a.toString(16)}::/48`);
        break;
      case 5:
        rows.push(`::ffff:198.51.${a}.4`);
        break;
      case 6:
        rows.push(`Host${i % 997}.Example.`); // repeats: duplicates
        break;
      case 7:
        rows.push(`*.w${a}.example`);
        break;
      case 8:
        rows.push(`http://u${i % 1013}.example:80/p?q=${a}#frag`);
        break;
      case 9:
        rows.push(`u${a}.example/path/${b}`); // scheme-less: two keys
        break;
      case 10:
        rows.push(`10.${b}.${a}.7:8080`); // the address of case 0 with a port: a duplicate
        break;
      case 11:
        rows.push(`172.16.${a}.${b}:${1000 + a}`); // new address with a port
        break;
      case 12:
        rows.push(`[2001:db8::${a.toString(16)}]:443`);
        break;
      case 13:
        rows.push(`172.16.${a}.${b}`); // after its ip:port: a duplicate
        break;
      case 14:
        rows.push(
          ['203.0.113.300', '107.183.86', '1.2.3.4/40', '10.0.0.0/3', 'fe80::/4', '.xyz', '/wp-admin/x.php', 'localhost', 'http://[::1', 'bad..domain'][
            a % 10
          ]!,
        );
        break;
      case 15:
        rows.push(`\t"quoted${a}.example",  `);
        break;
      case 16:
        rows.push(`ünï${a}.example`); // IDN: punycode
        break;
      case 17:
        rows.push(`https://Evil${a}.Example/A%20b`);
        break;
      case 18:
        rows.push(`; comment ${i}`);
        break;
      case 19:
        rows.push(`8.8.${a}.8\t${i}`); // ipsum: IP<TAB>count
        break;
      case 20:
        rows.push(`2001:db8::${a.toString(16)}:53`); // v6 ip:port without brackets, or an address
        break;
      case 21:
        rows.push('\u00a0 \u2003');
        break;
      case 22:
        rows.push(`http://p${i % 509}.example/a/${b}?x=${a % 7}`); // a URL that is its own key; repeats
        break;
      case 23:
        rows.push(`2001:DB8:${a.toString(16)}::${b.toString(16)}/64`); // upper case, host bits set
        break;
      case 24:
        rows.push(`${(a % 3) + 1}.${b}.0.0/${8 + (a % 25)}`); // CIDRs of every accepted length
        break;
      default:
        rows.push(`x${i % 89}.example.org`);
    }
  }
  return rows.join(i0(n) ? '\r\n' : '\n');
}

function i0(n: number): boolean {
  return n % 2 === 1;
}

describe('plain lists on two threads', () => {
  it('builds the same store, counts and skips as the one-thread loader', async () => {
    for (const header of [null, 'Domain', 'IP address']) {
      const text = mixedList(6000, header);
      const a = sequential(text);
      for (const [head, chunk] of [
        [0.3, 4096],
        [0.5, 1 << 20],
        [0.05, 777],
      ] as const) {
        const b = await split(text, head, chunk);
        expect(b.byWorker).toBeGreaterThan(0);
        expectSame(a, b);
        // the main thread takes chunks from the back while the worker takes them from the front
        expectSame(a, await split(text, head, chunk, false));
      }
    }
  });

  it('keeps a header seen only by the worker (nothing but comments before the split)', async () => {
    const text = `${'# comment\n'.repeat(50)}\ufeffIP\n${mixedList(3001, null)}`;
    const comments = 50 * '# comment\n'.length;
    const a = sequential(`\ufeff${text}`);
    const b = await split(`\ufeff${text}`, comments / (text.length + 1), 1000);
    expect(b.byWorker).toBeGreaterThan(0);
    expectSame(a, b);
    expectSame(a, await split(`\ufeff${text}`, comments / (text.length + 1), 1000, false));
    const c = await split('# c\nIP\n1.2.3.4\n'.concat('a.example\n'.repeat(100)), 0.01, 64);
    expect(c.tally.reasons).toEqual(sequential('# c\nIP\n1.2.3.4\n'.concat('a.example\n'.repeat(100))).tally.reasons);
    expect(c.tally.reasons.HEADER).toBe(1);
  });

  it('matches the one-thread loader on generated lists', async () => {
    const piece = fc.constantFrom(
      '1.2.3.4',
      '1.2.3.4:80',
      '10.0.0.0/8',
      '2001:db8::1',
      '[2001:db8::1]:443',
      'evil.example',
      '*.evil.example',
      '.xyz',
      'http://evil.example/a',
      'evil.example/p',
      'IP',
      '#',
      ' ',
      '\r',
      'é',
      ':',
      '.',
      '/',
    );
    const line = fc.array(piece, { minLength: 1, maxLength: 3 }).map((a) => a.join(''));
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 2, maxLength: 200 }),
        fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        fc.boolean(),
        async (lines, head, steal) => {
          const text = lines.join('\n');
          expectSame(sequential(text), await split(text, head, 50, !steal));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('answers the same lookups', async () => {
    const text = mixedList(4000, null);
    const a = sequential(text).store;
    const b = (await split(text, 0.4, 2048, false)).store;
    const probes = ['host5.example', 'a.w7.example', 'x3.example.org', 'xn--n-ppa.example'];
    for (const h of probes) {
      const ha: Hit[] = [];
      const hb: Hit[] = [];
      a.matchHost(h, ha);
      b.matchHost(h, hb);
      expect(hb).toEqual(ha);
    }
  });

  it('records and replays without a thread (the recorder is an ordinary parser)', () => {
    const text = mixedList(2000, null);
    const a = sequential(text);
    const ctx = fresh();
    const rec = new OpRecorder();
    const skips: string[] = [];
    for (const v of text.split(/\r?\n/)) {
      const t = v.trim();
      if (t.length === 0 || t.startsWith('#') || t.startsWith(';')) continue;
      const r = rec.add(
        t
          .split(/[\s\u00a0]/)[0]!
          .replace(/,$/, '')
          .replace(/^"(.*)"$/, '$1'),
        'auto',
        ctx.base,
      );
      if (r !== null) skips.push(r);
    }
    const { ops, strs } = rec.take();
    replayOps(ctx.store, ops, strs, ctx.base, new Uint8Array(0));
    expect(ctx.store.seal().counts).toEqual(a.store.counts);
  });
});

describe('claiming chunks from both ends', () => {
  it('gives every chunk to exactly one side, the front in order and the back in reverse', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.array(fc.boolean(), { maxLength: 400 }), (n, sides) => {
        const claims = new Int32Array(new SharedArrayBuffer(4));
        claims[0] = n << 16;
        const front: number[] = [];
        const back: number[] = [];
        for (const fromBack of sides) {
          const i = claim(claims, fromBack);
          if (i >= 0) (fromBack ? back : front).push(i);
        }
        for (let i = claim(claims, false); i >= 0; i = claim(claims, false)) front.push(i);
        expect(claim(claims, true)).toBe(-1);
        expect([...front, ...back.slice().reverse()]).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
    );
  });
});
