/**
 * Host names, once for the whole project: the normal form in which the parser writes a host into a
 * record (`url.domain`, `destination.domain`) and in which the sweep compares hosts with domain
 * indicators. Exported through the public API (`src/api.ts`).
 */
import { domainToASCII } from 'node:url';
import { Ch } from './charcodes.js';

/**
 * The normal form of a host name: lower case, trailing dot(s) stripped, IDN to punycode (UTS #46,
 * as `domainToASCII` does it). Returns undefined for an empty or impossible host: one holding a
 * space or control character, `/`, `\` or `"`, or an IDN that does not convert. An ASCII name in
 * normal form comes back as the same string. IP literals are not told apart here (see `canonicalIp`).
 */
export function normaliseHost(h: string): string | undefined {
  let end = h.length;
  while (end > 0 && h.charCodeAt(end - 1) === Ch.Dot) end--;
  if (end === 0) return undefined;
  let ascii = true;
  let upper = false;
  for (let i = 0; i < end; i++) {
    const c = h.charCodeAt(i);
    if (c > 127) ascii = false;
    else if (c >= Ch.A && c <= Ch.Z) upper = true;
    else if (c <= Ch.Space || c === Ch.Slash || c === Ch.Backslash || c === Ch.Quote) return undefined;
  }
  const out = end === h.length ? h : h.slice(0, end);
  if (!ascii) {
    // UTS #46 maps other full stops (`。`, `．`) to '.': a trailing one is stripped after the mapping
    let a = domainToASCII(out);
    let e = a.length;
    while (e > 0 && a.charCodeAt(e - 1) === Ch.Dot) e--;
    if (e !== a.length) a = a.slice(0, e);
    return a === '' ? undefined : a;
  }
  return upper ? out.toLowerCase() : out;
}
