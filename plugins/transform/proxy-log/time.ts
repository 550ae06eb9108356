/** Timestamps of every log format → ISO-8601 UTC text (`YYYY-MM-DDTHH:MM:SS.mmmZ`), by integer arithmetic where it can. */

// The character codes this file compares against, as constants of its own (see charcodes.ts)
const Ch_Space = 0x20;
const Ch_Plus = 0x2b; // +
const Ch_Dash = 0x2d; // -
const Ch_Dot = 0x2e; // .
const Ch_Slash = 0x2f; // /
const Ch_Zero = 0x30;
const Ch_Nine = 0x39;
const Ch_Colon = 0x3a; // :
const Ch_Z = 0x5a;
const Ch_z = 0x7a;

const PAD2 = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** Milliseconds with the zone, `000Z`…`999Z`: one concatenation per timestamp, not two. */
const PAD3Z = PAD3.map((p) => `${p}Z`);

/**
 * The text of the last whole second formatted. Log lines arrive in time order and many share a
 * second, so its `YYYY-MM-DDTHH:MM:SS.` is reused. Each parser owns one (a cache, never shared).
 */
export class SecondCache {
  sec = -1;
  prefix = '';
  /** Scratch: the seconds and milliseconds `epochSpanRead` last read. */
  readSec = 0;
  readMs = 0;
}

/** Epoch seconds with an optional fraction (`1157689312.049`) → ISO-8601 UTC, or undefined. */
export function epochSecondsToIso(s: string, cache: SecondCache = new SecondCache()): string | undefined {
  return epochSpanToIso(s, 0, s.length, cache);
}

/** `epochSecondsToIso(s.slice(from, to))` without the slice. */
export function epochSpanToIso(s: string, from: number, to: number, cache: SecondCache): string | undefined {
  return epochSpanRead(s, from, to, cache) ? isoFromEpoch(cache.readSec, cache.readMs, cache) : undefined;
}

/**
 * Whether `epochSpanToIso` reads `s[from, to)` as a time, without formatting it (a line probe needs
 * only to know); its seconds and milliseconds are left in `cache.readSec` and `cache.readMs`.
 */
export function epochSpanRead(s: string, from: number, to: number, cache: SecondCache): boolean {
  const n = to;
  if (to - from <= 0 || to - from > 24) return false;
  // the digits are read every time: comparing the text with the last line's seconds first (one
  // startsWith) cost more than reading ten digits
  let sec = 0;
  let i = from;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === Ch_Dot) break;
    if (c < Ch_Zero || c > Ch_Nine) return false;
    sec = sec * 10 + (c - Ch_Zero);
  }
  if (i === from) return false;
  let ms = 0;
  if (n - i === 4) {
    // milliseconds, as squid writes them: integer arithmetic
    const a = s.charCodeAt(i + 1) - Ch_Zero;
    const b = s.charCodeAt(i + 2) - Ch_Zero;
    const c = s.charCodeAt(i + 3) - Ch_Zero;
    if (a < 0 || a > 9 || b < 0 || b > 9 || c < 0 || c > 9) return false;
    ms = a * 100 + b * 10 + c;
  } else if (i < n) {
    // up to three fraction digits count; further digits are validated and truncated
    let scale = 100;
    for (let k = i + 1; k < n; k++) {
      const c = s.charCodeAt(k);
      if (c < Ch_Zero || c > Ch_Nine) return false;
      ms += (c - Ch_Zero) * scale;
      scale = scale / 10;
    }
    if (i + 1 === n) return false;
    ms = Math.floor(ms);
  }
  if (sec > 253402300799) return false; // past 9999-12-31
  cache.readSec = sec;
  cache.readMs = ms;
  return true;
}

/** `epochSpanRead` of the bytes `b[from, to)` (ASCII): the same rule, read from a line's bytes. */
export function epochBytesRead(b: Uint8Array, from: number, to: number, cache: SecondCache): boolean {
  const n = to;
  if (to - from <= 0 || to - from > 24) return false;
  let sec = 0;
  let i = from;
  for (; i < n; i++) {
    const c = b[i]!;
    if (c === Ch_Dot) break;
    if (c < Ch_Zero || c > Ch_Nine) return false;
    sec = sec * 10 + (c - Ch_Zero);
  }
  if (i === from) return false;
  let ms = 0;
  if (n - i === 4) {
    const x = b[i + 1]! - Ch_Zero;
    const y = b[i + 2]! - Ch_Zero;
    const z = b[i + 3]! - Ch_Zero;
    if (x < 0 || x > 9 || y < 0 || y > 9 || z < 0 || z > 9) return false;
    ms = x * 100 + y * 10 + z;
  } else if (i < n) {
    let scale = 100;
    for (let k = i + 1; k < n; k++) {
      const c = b[k]!;
      if (c < Ch_Zero || c > Ch_Nine) return false;
      ms += (c - Ch_Zero) * scale;
      scale = scale / 10;
    }
    if (i + 1 === n) return false;
    ms = Math.floor(ms);
  }
  if (sec > 253402300799) return false;
  cache.readSec = sec;
  cache.readMs = ms;
  return true;
}

/** Epoch seconds + milliseconds → `YYYY-MM-DDTHH:MM:SS.mmmZ`, by integer arithmetic (no Date). */
function isoFromEpoch(sec: number, ms: number, cache: SecondCache): string {
  if (sec !== cache.sec) {
    const days = Math.floor(sec / 86400);
    const sod = sec - days * 86400;
    // civil-from-days (H. Hinnant), valid for the proleptic Gregorian calendar
    const z = days + 719468;
    const era = Math.floor(z / 146097);
    const doe = z - era * 146097;
    const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
    const m = mp < 10 ? mp + 3 : mp - 9;
    const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    if (y < 1000) return new Date(sec * 1000 + ms).toISOString();
    const h = Math.floor(sod / 3600);
    const mi = Math.floor((sod - h * 3600) / 60);
    cache.prefix = `${y}-${PAD2[m]}-${PAD2[d]}T${PAD2[h]}:${PAD2[mi]}:${PAD2[sod - h * 3600 - mi * 60]}.`;
    cache.sec = sec;
  }
  return cache.prefix + PAD3Z[ms];
}

const MONTHS: { [m: string]: number } = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - Ch_Zero;
  const b = s.charCodeAt(i + 1) - Ch_Zero;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

function d4(s: string, i: number): number {
  const a = d2(s, i);
  const b = d2(s, i + 2);
  return a < 0 || b < 0 ? -1 : a * 100 + b;
}

const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Do these calendar parts name a real instant (31 Feb and 25:00 do not)? */
function validParts(y: number, mo: number, d: number, h: number, mi: number, se: number): boolean {
  if (y < 0 || mo < 0 || mo > 11 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return false;
  if (d > MONTH_DAYS[mo]!) return false;
  if (mo === 1 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return false;
  return true;
}

function isoFromParts(y: number, mo: number, d: number, h: number, mi: number, se: number, ms: number, offsetMin: number): string | undefined {
  if (!validParts(y, mo, d, h, mi, se)) return undefined;
  // UTC already (the common case): build the text directly, no Date round trip
  if (offsetMin === 0 && y >= 1000) return `${y}-${PAD2[mo + 1]}-${PAD2[d]}T${PAD2[h]}:${PAD2[mi]}:${PAD2[se]}.${PAD3[ms]}Z`;
  const t = Date.UTC(y, mo, d, h, mi, se, ms) - offsetMin * 60000;
  if (y < 1000) {
    const dt = new Date(0);
    dt.setUTCFullYear(y, mo, d);
    dt.setUTCHours(h, mi, se, ms);
    return new Date(dt.getTime() - offsetMin * 60000).toISOString();
  }
  return new Date(t).toISOString();
}

/** Calendar parts (month 0-11) and a zone offset in minutes → ISO UTC, or undefined when they name no real instant. */
export function partsToIso(y: number, mo: number, d: number, h: number, mi: number, se: number, ms: number, offsetMin: number): string | undefined {
  return isoFromParts(y, mo, d, h, mi, se, ms, offsetMin);
}

/** `Jan` … `Dec` → 0 … 11, or -1. */
export function monthIndex(s: string): number {
  return Object.hasOwn(MONTHS, s) ? MONTHS[s]! : -1;
}

/** Apache/NCSA `20/Jul/2009:22:59:26 +0000` (without the brackets) → ISO UTC. */
export function clfToIso(s: string): string | undefined {
  if (s.length !== 26 || s.charCodeAt(2) !== Ch_Slash || s.charCodeAt(6) !== Ch_Slash || s.charCodeAt(11) !== Ch_Colon || s.charCodeAt(20) !== Ch_Space)
    return undefined;
  const mo = MONTHS[s.slice(3, 6)];
  if (mo === undefined) return undefined;
  const sign = s.charCodeAt(21);
  const oh = d2(s, 22);
  const om = d2(s, 24);
  if ((sign !== Ch_Plus && sign !== Ch_Dash) || oh < 0 || om < 0) return undefined;
  const off = (sign === Ch_Dash ? -1 : 1) * (oh * 60 + om);
  return isoFromParts(d4(s, 7), mo, d2(s, 0), d2(s, 12), d2(s, 15), d2(s, 18), 0, off);
}

/** W3C `2024-03-22` + `16:16:01[.fff]` (UTC, as the W3C format prescribes) → ISO UTC. */
export function w3cToIso(date: string, time: string): string | undefined {
  if (date.length !== 10 || date.charCodeAt(4) !== Ch_Dash || date.charCodeAt(7) !== Ch_Dash) return undefined;
  if (time.length < 8 || time.charCodeAt(2) !== Ch_Colon || time.charCodeAt(5) !== Ch_Colon) return undefined;
  let ms = 0;
  if (time.length > 8) {
    if (time.charCodeAt(8) !== Ch_Dot || time.length === 9) return undefined;
    let scale = 100;
    for (let k = 9; k < time.length; k++) {
      const c = time.charCodeAt(k) - Ch_Zero;
      if (c < 0 || c > 9) return undefined;
      ms += c * scale;
      scale /= 10;
    }
    ms = Math.floor(ms);
  }
  const mo = d2(date, 5);
  return isoFromParts(d4(date, 0), mo - 1, d2(date, 8), d2(time, 0), d2(time, 3), d2(time, 6), ms, 0);
}

/** Zscaler NSS `Fri Dec 31 07:07:07 2021` (the feed's configured zone; taken as UTC) → ISO UTC. */
export function ctimeToIso(s: string): string | undefined {
  // "Www Mmm dd hh:mm:ss yyyy"; the day may be space-padded ("Dec  1")
  if (s.length !== 24 || s.charCodeAt(3) !== Ch_Space || s.charCodeAt(7) !== Ch_Space || s.charCodeAt(10) !== Ch_Space || s.charCodeAt(19) !== Ch_Space)
    return undefined;
  const mo = MONTHS[s.slice(4, 7)];
  if (mo === undefined) return undefined;
  const day = s.charCodeAt(8) === Ch_Space ? s.charCodeAt(9) - Ch_Zero : d2(s, 8);
  return isoFromParts(d4(s, 20), mo, day, d2(s, 11), d2(s, 14), d2(s, 17), 0, 0);
}

/** A timestamp of unknown shape from JSON: epoch seconds/milliseconds (number or digits) or ISO-8601 text. */
export function anyTimeToIso(v: unknown): string | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return undefined;
    const ms = v > 1e11 ? v : v * 1000; // > 1e11 can only be milliseconds (year 5138 in seconds)
    if (ms > 253402300799999) return undefined;
    return new Date(Math.floor(ms)).toISOString();
  }
  if (typeof v !== 'string' || v.length === 0 || v.length > 40) return undefined;
  const c0 = v.charCodeAt(0);
  if (c0 < Ch_Zero || c0 > Ch_Nine) return ctimeToIso(v);
  if (v.length >= 10 && v.charCodeAt(4) === Ch_Dash) {
    // ISO-8601 needs a zone: without one the instant is ambiguous, so it is refused
    const last = v.charCodeAt(v.length - 1);
    const hasZone = last === Ch_Z || last === Ch_z || /[+-]\d\d:?\d\d$/.test(v);
    if (!hasZone && v.length > 10) return undefined;
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : new Date(t).toISOString();
  }
  let dot = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === Ch_Dot && !dot) {
      dot = true;
      continue;
    }
    if (c < Ch_Zero || c > Ch_Nine) return undefined;
  }
  return anyTimeToIso(Number(v));
}
