/**
 * Indicator feeds of any size as a plain list (one indicator per line, `#` comments, blank lines):
 * the format the ioc-sweep plain-list loader reads. A fixed "hit pool" of indicators, independent of
 * the feed size, is spread through every feed; the generated logs send their malicious traffic only to
 * pool indicators, so one log file serves feeds of any size and its expected alerts are known.
 */
import { mulberry32, subSeed, int, pick, weighted, between, type Rng } from '../lib/prng.js';
import { BAD_V4_OCTETS, BAD_V6_PREFIXES, v4, v6, cidr4, cidr6, badDomain, badLabel } from './net.js';

export type IndicatorType = 'ipv4' | 'ipv6' | 'cidr4' | 'cidr6' | 'domain' | 'url';

export interface Indicator {
  type: IndicatorType;
  /** The text as written in the feed. */
  value: string;
  /** For IPs and CIDRs: an address that matches (the IP itself, or a host inside the network). */
  host?: string;
  /** For URLs: the parts, so that log formats that split a URL can write it. */
  url?: { scheme: 'http' | 'https'; host: string; path: string; query: string };
}

export const HIT_POOL_SIZE = 1000;

const pickType = weighted<IndicatorType>([
  ['ipv4', 35],
  ['ipv6', 8],
  ['cidr4', 6],
  ['cidr6', 2],
  ['domain', 30],
  ['url', 19],
]);

const PATH_WORDS = [
  'wp-content',
  'wp-includes',
  'admin',
  'images',
  'uploads',
  'files',
  'bins',
  'gate',
  'panel',
  'api',
  'update',
  'static',
  'js',
  'css',
  'dl',
  'load',
];
const FILES = [
  'mozi.m',
  'mozi.a',
  'i',
  'bot.x86',
  'sh',
  'a.exe',
  'invoice.doc',
  'update.exe',
  'setup.msi',
  'gate.php',
  'index.php',
  'login.php',
  'payload.bin',
  'loader.dll',
  'x.js',
  'c.ps1',
];

function urlIndicator(rng: Rng): Indicator {
  const scheme: 'http' | 'https' = int(rng, 4) === 0 ? 'https' : 'http';
  const r = int(rng, 10);
  const host = r < 3 ? v4(rng, BAD_V4_OCTETS) : r === 3 ? `[${v6(rng, BAD_V6_PREFIXES)}]` : badDomain(rng);
  let path = '';
  const depth = int(rng, 4);
  for (let i = 0; i < depth; i++) path += `/${int(rng, 3) === 0 ? badLabel(rng, 3, 10) : pick(rng, PATH_WORDS)}`;
  path += `/${int(rng, 3) === 0 ? `${badLabel(rng, 4, 12)}.${pick(rng, ['php', 'exe', 'zip', 'js', 'bin', 'sh'])}` : pick(rng, FILES)}`;
  const query = int(rng, 4) === 0 ? `?id=${badLabel(rng, 6, 16)}&v=${between(rng, 1, 99)}` : '';
  return { type: 'url', value: `${scheme}://${host}${path}${query}`, url: { scheme, host, path, query } };
}

export function makeIndicator(rng: Rng, type: IndicatorType): Indicator {
  switch (type) {
    case 'ipv4': {
      const ip = v4(rng, BAD_V4_OCTETS);
      return { type, value: ip, host: ip };
    }
    case 'ipv6': {
      const ip = v6(rng, BAD_V6_PREFIXES);
      return { type, value: ip, host: ip };
    }
    case 'cidr4': {
      const c = cidr4(rng, BAD_V4_OCTETS);
      return { type, value: c.value, host: c.host };
    }
    case 'cidr6': {
      const c = cidr6(rng, BAD_V6_PREFIXES);
      return { type, value: c.value, host: c.host };
    }
    case 'domain':
      return { type, value: badDomain(rng) };
    case 'url':
      return urlIndicator(rng);
  }
}

/** The indicators the logs' malicious traffic goes to. Same seed → same pool, whatever the feed size. */
export function hitPool(seed: number): Indicator[] {
  const rng = mulberry32(subSeed(seed, 'hit-pool'));
  const pool: Indicator[] = [];
  for (let i = 0; i < HIT_POOL_SIZE; i++) {
    // URLs over https cannot be seen in a proxy log of a CONNECT tunnel, so pool URLs are http.
    let ind = makeIndicator(rng, pickType(rng));
    while (ind.type === 'url' && ind.url!.scheme === 'https') ind = makeIndicator(rng, 'url');
    pool.push(ind);
  }
  return pool;
}

export interface FeedOptions {
  seed: number;
  indicators: number;
}

/**
 * The feed's lines (without newlines): a header, `# section` comments and a few blank lines, the hit
 * pool spread evenly, filler indicators for the rest. Yields exactly `indicators` indicator lines.
 */
export function* feedLines(opts: FeedOptions): Generator<string> {
  const { seed, indicators } = opts;
  if (indicators < HIT_POOL_SIZE) throw new Error(`a feed needs at least ${HIT_POOL_SIZE} indicators (the hit pool)`);
  const pool = hitPool(seed);
  const rng = mulberry32(subSeed(seed, `feed-filler`));
  yield '# sluice benchmark feed — synthetic indicators, not real threat intelligence';
  yield `# seed=${seed} indicators=${indicators}`;
  yield '# types: ipv4, ipv6, CIDR (both families), domains, URLs';
  yield '';
  const every = Math.floor(indicators / HIT_POOL_SIZE);
  let p = 0;
  for (let i = 0; i < indicators; i++) {
    if (i > 0 && i % 100_000 === 0) {
      yield '';
      yield `# section ${i / 100_000}`;
    }
    if (p < HIT_POOL_SIZE && i % every === 0) {
      yield pool[p++]!.value;
      continue;
    }
    yield makeIndicator(rng, pickType(rng)).value;
  }
}
