/**
 * Address spaces of the synthetic world. Benign traffic and indicators live in disjoint ranges
 * (different first IPv4 octet, different first IPv6 hextet, different TLDs), so that a benign line can
 * never hit an indicator by accident and the number of alerts the sweep must raise is known exactly.
 */
import { type Rng, int, pick, between } from '../lib/prng.js';
import { groupsToString } from '../../src/net/ip.js';

export const BENIGN_V4_OCTETS = [13, 20, 23, 34, 35, 52, 54, 104, 142, 151, 157, 199, 216] as const;
export const BAD_V4_OCTETS = [
  5, 31, 37, 45, 46, 62, 77, 78, 79, 80, 82, 85, 89, 91, 92, 93, 94, 95, 103, 109, 117, 141, 146, 159, 162, 176, 178, 185, 188, 193, 194, 195, 212, 213, 217,
] as const;
export const BENIGN_V6_PREFIXES = [0x2606, 0x2a00, 0x2620, 0x2404] as const;
export const BAD_V6_PREFIXES = [0x2a01, 0x2a02, 0x2a05, 0x2a06, 0x2a0b, 0x2a10, 0x2a12, 0x2a14] as const;
export const BAD_TLDS = ['top', 'xyz', 'ru', 'cn', 'info', 'biz', 'online', 'site', 'club', 'icu', 'pw', 'tk', 'su', 'cc', 'live', 'shop'] as const;

export function v4(rng: Rng, octets: readonly number[]): string {
  return `${pick(rng, octets)}.${int(rng, 256)}.${int(rng, 256)}.${between(rng, 1, 254)}`;
}

export function v4ToInt(ip: string): number {
  const p = ip.split('.');
  return ((+p[0]! << 24) | (+p[1]! << 16) | (+p[2]! << 8) | +p[3]!) >>> 0;
}

export function intToV4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** A random IPv4 network (host bits zero) under one of `octets`, prefix 16..30, and a host inside it. */
export function cidr4(rng: Rng, octets: readonly number[]): { value: string; host: string } {
  const prefix = pick(rng, [20, 22, 23, 24, 24, 24, 24, 25, 26, 27, 28, 29, 30]);
  const base = v4ToInt(v4(rng, octets));
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const net = (base & mask) >>> 0;
  const size = 2 ** (32 - prefix);
  const host = (net + 1 + int(rng, Math.max(1, size - 2))) >>> 0;
  return { value: `${intToV4(net)}/${prefix}`, host: intToV4(host) };
}

/** RFC 5952 canonical text of 8 hextets: lower-case, no leading zeros, longest zero run (≥2) as `::`. */
export function formatV6(h: readonly number[]): string {
  return groupsToString(h);
}

function v6Hextets(rng: Rng, prefixes: readonly number[]): number[] {
  // Real allocations are sparse: a /32 or so, then mostly-zero subnets and hosts.
  const h = [pick(rng, prefixes), int(rng, 0x10000), int(rng, 4) === 0 ? 0 : int(rng, 0x10000), int(rng, 0x100), 0, 0, 0, 0];
  if (int(rng, 2) === 0) h[7] = between(rng, 1, 0xffff);
  else {
    h[4] = int(rng, 0x10000);
    h[5] = int(rng, 0x10000);
    h[6] = int(rng, 0x10000);
    h[7] = int(rng, 0x10000);
  }
  return h;
}

export function v6(rng: Rng, prefixes: readonly number[]): string {
  return formatV6(v6Hextets(rng, prefixes));
}

/** A random IPv6 network (host bits zero), prefix 32..64, and a host inside it. */
export function cidr6(rng: Rng, prefixes: readonly number[]): { value: string; host: string } {
  const prefix = pick(rng, [32, 36, 40, 44, 48, 48, 48, 56, 64, 64]);
  const h = v6Hextets(rng, prefixes);
  const net = h.map((x, i) => {
    const bitsBefore = i * 16;
    if (bitsBefore >= prefix) return 0;
    if (bitsBefore + 16 <= prefix) return x;
    const keep = prefix - bitsBefore;
    return x & ((0xffff << (16 - keep)) & 0xffff);
  });
  const host = net.slice();
  host[7] = between(rng, 1, 0xffff);
  if (prefix <= 48) host[3] = (host[3]! | int(rng, 0x100)) & 0xffff;
  return { value: `${formatV6(net)}/${prefix}`, host: formatV6(host) };
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ALPHA = 'abcdefghijklmnopqrstuvwxyz';

/** A DGA-looking label: letters and digits only (never a hyphen: hyphens are kept for near misses). */
export function badLabel(rng: Rng, min = 5, max = 14): string {
  const n = between(rng, min, max);
  let s = ALPHA[int(rng, 26)]!;
  for (let i = 1; i < n; i++) s += ALNUM[int(rng, 36)]!;
  return s;
}

export function badDomain(rng: Rng): string {
  const base = `${badLabel(rng)}.${pick(rng, BAD_TLDS)}`;
  return int(rng, 5) === 0 ? `${badLabel(rng, 3, 8)}.${base}` : base;
}
