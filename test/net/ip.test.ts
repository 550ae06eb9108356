/**
 * The project's one IP implementation (src/net/ip.ts), tested once: the strict IPv4 rule against
 * Node's `net.isIPv4` (inet_pton: decimal octets, no leading zeros), the IPv6 parser and canonical
 * text against ipaddr.js. The parser (canonical text in records) and the sweep (numeric keys) both
 * read addresses through these functions.
 */
import { isIPv4 } from 'node:net';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { canonicalIp, canonicalIpv4, canonicalIpv6, ipv6ToString, parseIPv4, parseIPv4Span, ipv4End, parseIPv6 } from '../../src/net/ip.js';

/** The oracle's number for a dotted quad it accepts. */
function value(t: string): number {
  return t.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

describe('IPv4: decimal octets without leading zeros', () => {
  const agrees = (t: string): void => {
    const ok = isIPv4(t);
    expect(parseIPv4(t), t).toBe(ok ? value(t) : -1);
    // the same text as a span of a longer line, between digits and dots that would change the answer if read
    expect(parseIPv4Span(`19.${t}.19`, 3, 3 + t.length), t).toBe(ok ? value(t) : -1);
    expect(parseIPv4Span(t, 0, t.length), t).toBe(ok ? value(t) : -1);
    // read up to where the quad ends (the end of the text, or a character that cannot continue it):
    // exactly the text when it is a quad, and only ever a prefix that is one
    for (const [framed, from, to] of [
      [`x${t}`, 1, t.length + 1],
      [`${t} 1`, 0, t.length + 2],
      [`${t}/1`, 0, t.length + 2],
      [`${t}.1`, 0, t.length],
    ] as const) {
      const end = ipv4End(framed, from, to);
      expect(end === from + t.length, framed).toBe(ok);
      if (end !== -1) expect(isIPv4(framed.slice(from, end)), framed).toBe(true);
    }
    expect(canonicalIpv4(t), t).toBe(ok ? t : undefined);
    if (t.indexOf(':') === -1 && t.charCodeAt(0) !== 0x5b) expect(canonicalIp(t), t).toBe(ok ? t : undefined);
  };

  it('agrees with inet_pton (net.isIPv4) on text made of digits and dots (property)', () => {
    const tok = fc.constantFrom('0', '1', '9', '00', '01', '010', '25', '255', '256', '999', '1000', '.', '..', 'a', ':', '-', ' ', '+1', '0x1');
    fc.assert(
      fc.property(fc.array(tok, { minLength: 1, maxLength: 12 }), (parts) => agrees(parts.join(''))),
      { numRuns: 20000 },
    );
  });

  it('agrees with inet_pton on four octets, some written with leading zeros (property)', () => {
    const octet = fc.tuple(fc.integer({ min: 0, max: 300 }), fc.constantFrom('', '', '', '0', '00')).map(([n, pad]) => pad + String(n));
    fc.assert(
      fc.property(fc.array(octet, { minLength: 4, maxLength: 4 }), (o) => agrees(o.join('.'))),
      { numRuns: 20000 },
    );
  });

  it('refuses a leading zero: `010` is octal 8 to inet_aton and WHATWG URL, decimal 10 to others', () => {
    for (const t of ['010.1.2.3', '010.001.000.255', '1.2.3.04', '00.0.0.0', '01.2.3.4']) {
      expect(parseIPv4(t), t).toBe(-1);
      expect(canonicalIp(t), t).toBeUndefined();
    }
    expect(parseIPv4('203.0.113.66')).toBe(0xcb007142);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    for (const t of ['0.0.0.0', '1.2.3.4', '255.255.255.255', '10.0.0.1']) expect(canonicalIp(t)).toBe(t);
    for (const t of ['203.0.113.300', '1.2.3', '1.2.3.4.5', '1.2.3.4.', '.1.2.3.4', '1.2.3.4 ', 'a.b.c.d', '1..2.3', '1234.1.1.1']) {
      expect(parseIPv4(t), t).toBe(-1);
      expect(canonicalIp(t), t).toBeUndefined();
    }
  });
});

describe('IPv6', () => {
  it('parses every spelling of an address to the same key', () => {
    const canon = parseIPv6('2001:db8::5');
    expect(canon).toBe('20010db8000000000000000000000005');
    for (const s of ['2001:DB8:0:0::5', '2001:0db8:0000:0000:0000:0000:0000:0005', '2001:db8:0:0:0:0:0:5']) expect(parseIPv6(s)).toBe(canon);
    expect(ipv6ToString(canon!)).toBe('2001:db8::5');
    expect(parseIPv6('2a02:cf40:1::5:40669')).toBeNull(); // 5 hex digits: an ip:port, not an address
    expect(parseIPv6('1::2::3')).toBeNull();
    expect(parseIPv6('fe80::1%eth0')).toBeNull();
    expect(parseIPv6('::ffff:010.1.2.3')).toBeNull(); // the IPv4 rule holds in an embedded tail too
  });

  it('round-trips any IPv6 address through its RFC 5952 text (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), (groups) => {
        const hex = groups.map((g) => g.toString(16).padStart(4, '0')).join('');
        const text = ipv6ToString(hex);
        expect(parseIPv6(text)).toBe(hex);
        expect(parseIPv6(text.toUpperCase())).toBe(hex);
      }),
    );
  });
});

describe('IPv6 canonical text (canonicalIpv6) against ipaddr.js', () => {
  /** canonicalIpv6 as it was, on ipaddr.js alone. */
  function reference(s: string): string | undefined {
    if (s.length < 2 || s.length > 45 || s.indexOf(':') === -1) return undefined;
    const pct = s.indexOf('%');
    const addr = pct === -1 ? s : s.slice(0, pct);
    if (!ipaddr.IPv6.isValid(addr)) return undefined;
    const ip = ipaddr.IPv6.parse(addr);
    // ipaddr.js reads every embedded IPv4 tail as IPv4-mapped (`::1.2.3.4` → `::ffff:1.2.3.4`); RFC 4291
    // makes the deprecated IPv4-compatible form `::1.2.3.4` the address 0:0:0:0:0:0:102:304, as we do.
    const tail = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
    // Leading zeros in a dotted quad are refused everywhere in sluice (octal ambiguity).
    if (tail && tail[2]!.split('.').some((o) => o.length > 1 && o.startsWith('0'))) return undefined;
    if (tail && ip.isIPv4MappedAddress() && !/ffff:$/i.test(tail[1]!)) {
      const p = ip.toIPv4Address().octets;
      const head = new ipaddr.IPv6([...ip.parts.slice(0, 5), 0, (p[0]! << 8) | p[1]!, (p[2]! << 8) | p[3]!]);
      return head.toRFC5952String();
    }
    return ip.isIPv4MappedAddress() ? ip.toIPv4Address().toString() : ip.toRFC5952String();
  }

  it('agrees with ipaddr.js on any spelling of any address (property)', () => {
    const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 3 }), fc.boolean(), (g, style, upper) => {
        const ip = new ipaddr.IPv6(g);
        let text =
          style === 0
            ? ip.toRFC5952String()
            : style === 1
              ? ip.toNormalizedString()
              : style === 2
                ? (ip as typeof ip & { toFixedLengthString(): string }).toFixedLengthString() /* not in ipaddr.js's typings */
                : ip.toString();
        if (upper) text = text.toUpperCase();
        expect(canonicalIpv6(text), text).toBe(reference(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with ipaddr.js on junk made of hex digits and colons (property)', () => {
    const tok = fc.constantFrom('0', '1', 'a', 'F', '00', '0db8', 'ffff', '12345', ':', '::', ':::', '.', '1.2.3.4', '%eth0');
    fc.assert(
      fc.property(fc.array(tok, { minLength: 1, maxLength: 18 }), (parts) => {
        const text = parts.join('');
        expect(canonicalIpv6(text), text).toBe(reference(text));
      }),
      { numRuns: 20000 },
    );
  });
});
