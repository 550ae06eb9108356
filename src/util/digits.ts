/**
 * An integer with its digits grouped in threes (`12,345,678`), as `toLocaleString('en-US')` writes
 * it, without that call's 10–20 ms of ICU set-up the first time — which every run's summary paid.
 * Anything but a safe integer is left to `toLocaleString`.
 */
export function groupDigits(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US');
  const int = String(Math.abs(n));
  let out = int.slice(0, ((int.length - 1) % 3) + 1);
  for (let i = out.length; i < int.length; i += 3) out += ',' + int.slice(i, i + 3);
  return n < 0 ? '-' + out : out;
}
