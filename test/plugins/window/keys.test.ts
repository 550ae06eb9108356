/**
 * Window keys that are IPv4 addresses are looked up by their number (`ipv4Number`): only the
 * canonical text has one, and distinct texts never share it.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ipv4Number } from '../../../plugins/analyse/window/index.js';

const CANONICAL = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

describe('window IPv4 key numbers', () => {
  it('a canonical dotted quad has its address as a 32-bit integer; every other text has none (property)', () => {
    const quad = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
    fc.assert(
      fc.property(quad, (q) => {
        const s = q.join('.');
        const want = (q[0]! << 24) | (q[1]! << 16) | (q[2]! << 8) | q[3]! | 0;
        expect(ipv4Number(s)).toBe(want === -1 ? -1 : want);
      }),
      { numRuns: 3000 },
    );
    const text = fc.oneof(
      fc.stringMatching(/^[0-9.]{0,17}$/),
      fc.tuple(quad, fc.constantFrom('0', '00', ' ', '.', '+', '-', 'a', '256', '1000')).map(([q, x]) => {
        const parts = q.map(String);
        parts[q[0]! % 4] = x + parts[q[0]! % 4];
        return parts.join('.');
      }),
      fc.string({ maxLength: 16 }),
    );
    fc.assert(
      fc.property(text, (s) => {
        const n = ipv4Number(s);
        if (!CANONICAL.test(s)) expect(n).toBe(-1);
        else if (s !== '255.255.255.255') expect([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')).toBe(s);
      }),
      { numRuns: 5000 },
    );
  });

  it('edges: leading zeros, five parts, empty octets, the broadcast address', () => {
    for (const s of ['010.0.0.1', '1.2.3.04', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '256.1.1.1', '1.2.3', '', '1.2.3.4 ']) expect(ipv4Number(s)).toBe(-1);
    expect(ipv4Number('255.255.255.255')).toBe(-1);
    expect(ipv4Number('0.0.0.0')).toBe(0);
    expect(ipv4Number('255.255.255.254')).toBe(-2);
    expect(ipv4Number('10.3.199.187')).toBe((10 << 24) | (3 << 16) | (199 << 8) | 187);
  });
});
