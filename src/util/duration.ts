const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Parse `500ms`, `30s`, `5m`, `1h`, `2d` (or a number of milliseconds) into milliseconds. Throws on anything else. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`invalid duration ${value}`);
    return value;
  }
  const m = DURATION_RE.exec(value.trim());
  if (!m) throw new Error(`invalid duration '${value}' (expected a number and a unit: ms, s, m, h, d — e.g. 5m)`);
  return Number(m[1]) * UNITS[m[2]!]!;
}
