/**
 * The sweep's fast paths (values already in normal form, as proxy-log writes them) must give exactly
 * what the general normalisation gives, on any input: they may only decline, never differ.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fastUrlHost, fastUrlKey, isNormalHost, parseHost, normaliseUrlWhatwg } from '../../../plugins/analyse/ioc-sweep/normalise.js';

function agrees(u: string): void {
  const key = fastUrlKey(u);
  if (key === null) return;
  const ref = normaliseUrlWhatwg(u);
  expect([u, key, fastUrlHost]).toEqual([u, ref?.key, ref?.host]);
}

describe('URL fast path', () => {
  it('takes plain URLs and agrees with WHATWG on them', () => {
    const plain = [
      'http://evil.example/a.exe',
      'https://x.example',
      'http://x.example:8080',
      'http://x.example:80/a',
      'https://x.example:443?q=1',
      'http://1.2.3.4/gate.php',
      'http://a.b.example/p?x=1&y=2#frag',
      'http://a.example/p?',
      'http://a.example/p?#f',
      'http://a.example?q',
      "http://a.example/it's/(x)*+,;=:@~!$&",
      'http://a.example/%41%zz',
      'http://-a.example/',
      'http://a-.b/',
    ];
    for (const u of plain) {
      expect(fastUrlKey(u), u).not.toBeNull();
      agrees(u);
    }
  });

  it('declines what WHATWG would change', () => {
    for (const u of [
      'HTTP://x.example/',
      'http://X.example/',
      'http://x.example./',
      'http://xn--bcher-kva.example/',
      'http://a..b/',
      'http://0x7f.1/',
      'http://1.2.3/',
      'http://01.2.3.4/',
      'http://a.123/',
      'http://x.example:080/',
      'http://x.example:/',
      'http://x.example/a/../b',
      'http://x.example/./b',
      'http://x.example/a/..',
      'http://x.example/%2e%2E/b',
      'http://x.example/a b',
      'http://x.example/a\tb',
      'http://x.example/a\\b',
      'http://x.example/a{b}',
      "http://x.example/?a'b",
      'http://u@x.example/',
      'http://[::1]/',
      'ftp://x.example/',
      'http://x_y.example/',
      'http://x.example/é',
    ])
      expect(fastUrlKey(u), u).toBeNull();
  });

  it('never disagrees with WHATWG (property)', () => {
    const alphabet = fc.constantFrom(...'aZ09.-_:/?#%2eE@[]\\ \t\'"`{}|^<>~!$&()*+,;=xn'.split(''), 'é', '..', '/.', '/..', 'xn--', ':80', ':443', '%2e');
    const tail = fc.array(alphabet, { maxLength: 24 }).map((a) => a.join(''));
    const host = fc.array(fc.constantFrom('a', 'b', '1', '0', '255', '.', '-', 'x', '0x', 'Q'), { minLength: 1, maxLength: 10 }).map((a) => a.join(''));
    fc.assert(
      fc.property(fc.constantFrom('http://', 'https://', 'HTTP://', 'http:/'), host, tail, (s, h, t) => agrees(s + h + t)),
      { numRuns: 20000 },
    );
  });
});

describe('host fast path', () => {
  it('accepts exactly hosts that parseHost returns unchanged (property)', () => {
    const host = fc.array(fc.constantFrom('a', 'Z', '1', '.', '-', '_', ':', ' ', '[', 'é', '255', '0'), { maxLength: 16 }).map((a) => a.join(''));
    fc.assert(
      fc.property(host, (h) => {
        if (!isNormalHost(h)) return;
        const ref = parseHost(h);
        expect(ref, h).not.toBeNull();
        if (ref!.ip) expect(ref!.ip.v6).toBeNull();
        else expect(ref!.domain).toBe(h);
      }),
      { numRuns: 20000 },
    );
  });
});
