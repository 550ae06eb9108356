/**
 * The project's one host normalisation (src/net/host.ts), tested once, against the WHATWG URL
 * parser's host (lower case, IDN → punycode by UTS #46) with trailing dots stripped. The parser
 * writes record hosts with it; the sweep's `parseHost` builds on it for feeds and records alike.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { normaliseHost } from '../../src/net/host.js';

/** What WHATWG makes of `h` as the host of an http URL, trailing dots stripped; null when it refuses. */
function whatwg(h: string): string | undefined | null {
  let host: string;
  try {
    host = new URL(`http://${h}/`).hostname;
  } catch {
    return null;
  }
  const out = host.replace(/\.+$/, '');
  return out.length === 0 ? undefined : out;
}

/** WHATWG reads a host whose last label is a number as an IPv4 address (not a name): outside this rule. */
function endsInNumber(h: string): boolean {
  const last = h.replace(/\.+$/, '').split('.').pop() ?? '';
  return /^(\d+|0x[0-9a-f]*)$/i.test(last);
}

describe('normaliseHost', () => {
  it('agrees with the WHATWG URL host on names (property)', () => {
    const unit = fc.constantFrom('a', 'Z', 'q', '0', '9', '-', '_', '.', '..', 'xn--', 'é', 'ß', 'Ä', '\u0130', '\u212a', '\uff21', '\u3002', 'ü', 'bücher');
    fc.assert(
      fc.property(fc.array(unit, { minLength: 1, maxLength: 12 }), (a) => {
        const h = a.join('');
        const ref = whatwg(h);
        const got = normaliseHost(h);
        if (ref === null) {
          // WHATWG refuses: so does normaliseHost, except that an ASCII name is not checked for valid punycode
          // biome-ignore lint/suspicious/noControlCharactersInRegex: the test is "is every character ASCII"
          if (/^[\x00-\x7f]*$/.test(h)) return;
          expect(got, h).toBeUndefined();
          return;
        }
        if ((ref !== undefined && endsInNumber(ref)) || (got !== undefined && endsInNumber(got))) return;
        expect(got, h).toBe(ref);
      }),
      { numRuns: 20000 },
    );
  });

  it('keeps a name already in normal form as it is (the same string)', () => {
    for (const h of ['a.example', 'cdn-1.a_b.example', 'xn--bcher-kva.example']) expect(normaliseHost(h)).toBe(h);
  });

  it('lower-cases, strips trailing dots, converts IDN, refuses impossible hosts', () => {
    expect(normaliseHost('Cdn.Update-Check.Evil.example.')).toBe('cdn.update-check.evil.example');
    expect(normaliseHost('a.example...')).toBe('a.example');
    expect(normaliseHost('Bücher.example')).toBe('xn--bcher-kva.example');
    expect(normaliseHost('bücher.example\u3002')).toBe('xn--bcher-kva.example'); // an ideographic full stop at the end
    for (const bad of ['', '.', '...', 'bad host', 'a/b', 'a\\b', 'a"b', 'a\tb', 'a\u0000b']) expect(normaliseHost(bad), JSON.stringify(bad)).toBeUndefined();
  });
});
