/**
 * Event times of the `window` analyser: the time field's value → epoch milliseconds, exactly what
 * `Date.parse` answers for a string (a finite number for a number, NaN for anything else). The
 * last value's answer is not kept: timestamps with milliseconds seldom repeat from record to record,
 * and comparing a new string with the last one cost as much as reading it.
 *
 * The parsers write every timestamp as `YYYY-MM-DDTHH:MM:SS.mmmZ` (proxy-log's time.ts), and records
 * of one batch share their second far more often than their millisecond. So the reader keeps the
 * seconds it parsed (the last one for each value of the seconds digits): a string of that form whose
 * first 19 characters are those of a kept second is that second plus its three fraction digits, read
 * without `Date.parse`. Anything else (another form, another second) goes to `Date.parse`, and a new
 * second of the form is kept.
 *
 * Why the sum is `Date.parse`'s answer: for `YYYY-MM-DDTHH:MM:SS.mmmZ`, a finite answer is the
 * time value of the date and time plus the milliseconds, whatever they are — with one exception,
 * hour 24, which `Date.parse` accepts only as `24:00:00.000`; a second with an hour past 23 is never
 * kept, and nor is a text that is not in the ISO-8601 form (which `Date.parse` would read by its
 * legacy rules). The same holds for `YYYY-MM-DDTHH:MM:SSZ` (no fraction), which is read the same way.
 */

const Ch_Zero = 0x30;
const Ch_Nine = 0x39;
const Ch_One = 0x31;
const Ch_Two = 0x32;
const Ch_Three = 0x33;
const Ch_Dot = 0x2e;
const Ch_Dash = 0x2d;
const Ch_Colon = 0x3a;
const Ch_T = 0x54;
const Ch_Z = 0x5a;

/** Length of `YYYY-MM-DDTHH:MM:SS`, the part of the text a kept second is compared on. */
const SECOND_LEN = 19;

/** The fraction of `…SS.mmmZ` or `…SSZ` in ms, or -1 when the text after the second is neither. */
function fractionOf(s: string): number {
  const n = s.length;
  if (n === 24) {
    if (s.charCodeAt(19) !== Ch_Dot || s.charCodeAt(23) !== Ch_Z) return -1;
    const a = s.charCodeAt(20) - Ch_Zero;
    const b = s.charCodeAt(21) - Ch_Zero;
    const c = s.charCodeAt(22) - Ch_Zero;
    if (a < 0 || a > 9 || b < 0 || b > 9 || c < 0 || c > 9) return -1;
    return a * 100 + b * 10 + c;
  }
  if (n === 20 && s.charCodeAt(19) === Ch_Z) return 0;
  return -1;
}

/**
 * Is `s` `YYYY-MM-DDTHH:MM:SS…` with an hour below 24? Only such a second is kept: its text goes
 * through Date.parse's ISO-8601 reading, never the legacy one, and every fraction of it is valid.
 */
function isoSecond(s: string): boolean {
  for (let i = 0; i < SECOND_LEN; i++) {
    const c = s.charCodeAt(i);
    const want = i === 4 || i === 7 ? Ch_Dash : i === 10 ? Ch_T : i === 13 || i === 16 ? Ch_Colon : -1;
    if (want === -1 ? c < Ch_Zero || c > Ch_Nine : c !== want) return false;
  }
  const h0 = s.charCodeAt(11);
  return h0 === Ch_Zero || h0 === Ch_One || (h0 === Ch_Two && s.charCodeAt(12) <= Ch_Three);
}

export class TimeReader {
  /**
   * Kept seconds by their seconds digits (`SS`, 0–59): `YYYY-MM-DDTHH:MM:SS` and that second in ms,
   * '' when none. One per value of `SS`, so that records out of order by up to a minute (sources
   * merged, a proxy's workers writing late) still find theirs; a second of another minute with the
   * same digits replaces it.
   */
  private readonly seconds: string[] = new Array(60).fill('');
  private readonly secondsMs = new Float64Array(60);

  /** Epoch milliseconds of `v`: Date.parse for a string, the number itself when finite, else NaN. */
  read(v: unknown): number {
    if (typeof v === 'string') return this.parse(v);
    return typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN;
  }

  /** `Date.parse(s)`, without calling it when `s` is in a kept second. */
  parse(s: string): number {
    const frac = fractionOf(s);
    let slot = -1;
    if (frac !== -1) {
      const s0 = s.charCodeAt(17) - Ch_Zero;
      const s1 = s.charCodeAt(18) - Ch_Zero;
      if (s0 >= 0 && s0 <= 5 && s1 >= 0 && s1 <= 9) {
        slot = s0 * 10 + s1;
        // one startsWith (the characters compared in place) cost less than reading them one by one
        const k = this.seconds[slot]!;
        if (k !== '' && s.startsWith(k)) return this.secondsMs[slot]! + frac;
      }
    }
    const ms = Date.parse(s);
    if (slot !== -1 && Number.isFinite(ms) && isoSecond(s)) {
      this.seconds[slot] = s.slice(0, SECOND_LEN);
      this.secondsMs[slot] = ms - frac;
    }
    return ms;
  }
}
