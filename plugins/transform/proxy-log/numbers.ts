/** Decimal numbers in log fields, read without slicing or `Number()` (no sign, exponent or spaces). */

// The character codes this file compares against, as constants of its own (see charcodes.ts)
const Ch_Zero = 0x30;

/** A non-negative decimal integer, or -1 when `s` is not one (no sign, no exponent, no spaces). */
export function parseUint(s: string): number {
  const n = s.length;
  if (n === 0 || n > 15) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) - Ch_Zero;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** `parseUint(s.slice(from, to))` without the slice. */
export function parseUintSpan(s: string, from: number, to: number): number {
  const n = to - from;
  if (n <= 0 || n > 15) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - Ch_Zero;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}
