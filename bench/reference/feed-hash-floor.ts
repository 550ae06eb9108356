/**
 * The floor of any indicator loader in plain Node: read the list, hash each line's bytes (FNV-1a, in
 * one forward pass that also finds the newlines) and put the hash in one open-addressing table. No
 * comment lines skipped, no kind told apart, nothing checked, normalised or kept but the hash — every
 * real loader does all of this and more, so none can load the same list in less CPU. The bench sets
 * it beside sluice's cold sweep to say how far the feed load could fall at best (`bench/run.ts`,
 * the verdict's bound).
 *
 * Usage: node feed-hash-floor.js FILE   (prints one JSON summary line)
 */
import { readFileSync } from 'node:fs';

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;

/** Hash every line of `b` into an open-addressing table of hashes; returns how many were new. */
function hashLines(b: Uint8Array, bits: number): number {
  const mask = (1 << bits) - 1;
  const hashes = new Int32Array(1 << bits);
  const used = new Uint8Array(1 << bits);
  let distinct = 0;
  let h = FNV_OFFSET;
  let empty = true;
  for (let i = 0; i <= b.length; i++) {
    const c = i < b.length ? b[i]! : 10;
    if (c !== 10) {
      h = Math.imul(h ^ c, FNV_PRIME);
      empty = false;
      continue;
    }
    if (!empty) {
      let s = h & mask;
      while (used[s] === 1 && hashes[s] !== h) s = (s + 1) & mask;
      if (used[s] === 0) {
        used[s] = 1;
        hashes[s] = h;
        distinct++;
      }
    }
    h = FNV_OFFSET;
    empty = true;
  }
  return distinct;
}

function main(path: string): void {
  const t0 = performance.now();
  const bytes = readFileSync(path);
  // a table at most half full: 2 slots per line of ≥ 16 bytes at least
  const bits = Math.max(10, Math.ceil(Math.log2(bytes.length / 8 + 1)));
  const distinct = hashLines(bytes, bits);
  console.log(JSON.stringify({ bytes: bytes.length, distinct, totalMs: Math.round(performance.now() - t0) }));
}

if (!process.argv[2]) {
  console.error('usage: feed-hash-floor FILE');
  process.exit(2);
}
main(process.argv[2]);
