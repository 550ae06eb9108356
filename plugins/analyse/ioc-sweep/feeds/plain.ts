/**
 * Plain indicator lists: one value per line, type detected per line. Handles `#` comment lines and
 * blocks, inline comments (`5.63.151.0/24 # scanner`), extra columns after the value (ipsum
 * `IP<TAB>count`), CRLF, a UTF-8 BOM, quoted values, and a one-word header line (`IP`, `Domain`).
 */
import type { IndicatorParser, IndicatorStoreBuilder } from '../store-builder.js';
import type { Meta } from '../store.js';
import type { FeedInput, LoadContext } from './types.js';

/** From this many characters on, a list is parsed on two threads where there are two cores (split.ts). */
export const SPLIT_MIN_CHARS = 4 << 20;
/** Below this many lines (estimated), or characters, a list is loaded without sizing the store first. */
const RESERVE_MIN_LINES = 4096;
const RESERVE_MIN_CHARS = 32768;
/** Lines sampled (evenly over the text) to estimate the mix of indicator kinds. */
const RESERVE_SAMPLES = 1024;

/** ASCII whitespace `String#trim` removes: \t \n \v \f \r and space. */
function isAsciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

export function loadPlain(input: FeedInput, ctx: LoadContext): void {
  const { store, tally, base } = ctx;
  const text = input.text;
  reserveFor(store, text);
  const at: PlainPosition = { lineNo: 0, firstData: true };
  plainLines(text, text.charCodeAt(0) === 0xfeff ? 1 : 0, text.length, store, base, at, (reason, lineNo, value) => {
    tally.skip(reason, `${input.label}:${lineNo}`, value);
  });
  tally.rows += at.rows ?? 0;
}

/** Where a pass over a list is: the number of the last line read, and whether a data line was seen yet. */
export interface PlainPosition {
  lineNo: number;
  firstData: boolean;
  /** Data lines (rows) offered to the parser so far. */
  rows?: number;
}

/** What `plainLines` reports for a row the parser refused (`HEADER`: a lone word on the first data line). */
export type PlainSkip = (reason: string, lineNo: number, value: string) => void;

/**
 * The lines of `text[from, to)` (`from` at a line start; `to` at the end of the text or just after a
 * newline): each data line's value goes to `parser.add`, refusals to `skip`. `at` carries the line
 * number and the first-data-line state from one call to the next, so a list can be read in pieces.
 */
export function plainLines(text: string, from: number, to: number, parser: IndicatorParser, base: Meta, at: PlainPosition, skip: PlainSkip): void {
  let start = from;
  let lineNo = at.lineNo;
  let firstData = at.firstData;
  let rows = 0;
  while (start < to) {
    let end = text.indexOf('\n', start);
    if (end < 0 || end > to) end = to;
    lineNo++;
    // the line trimmed, as `[s, e)` of the text while both ends are ASCII; else as its own string
    let line = text;
    let s = start;
    let e = end;
    start = end + 1;
    while (s < e && isAsciiSpace(text.charCodeAt(s))) s++;
    while (e > s && isAsciiSpace(text.charCodeAt(e - 1))) e--;
    if (s === e) continue;
    if (text.charCodeAt(s) >= 127 || text.charCodeAt(e - 1) >= 127) {
      line = text.slice(s, e).trim(); // also drops NBSP and other Unicode spaces
      s = 0;
      e = line.length;
      if (e === 0) continue;
    }
    const c0 = line.charCodeAt(s);
    if (c0 === 35 /* # */ || c0 === 59 /* ; */ || (c0 === 47 && e - s > 1 && line.charCodeAt(s + 1) === 47)) continue;
    // The value is the first token; what follows whitespace (counts, `# comments`) is not part of it.
    let cut = e;
    for (let i = s; i < e; i++) {
      const c = line.charCodeAt(i);
      if (c === 32 || c === 9 || c === 0xa0) {
        cut = i;
        break;
      }
    }
    if (line.charCodeAt(cut - 1) === 44) cut--; // `1.2.3.4,`
    if (cut - s >= 2 && line.charCodeAt(s) === 34 && line.charCodeAt(cut - 1) === 34) {
      s++;
      cut--;
    } // `"value"`
    const value = s === 0 && cut === line.length ? line : line.slice(s, cut);
    rows++;
    const reason = parser.add(value, 'auto', base);
    if (reason !== null) {
      // A lone word on the first data line (`IP`, `URL`, `Domain`) is a column header.
      const header = firstData && reason === 'NOT_AN_INDICATOR' && /^[A-Za-z][A-Za-z_ ]*$/.test(value);
      skip(header ? 'HEADER' : reason, lineNo, value);
    }
    firstData = false;
  }
  at.lineNo = lineNo;
  at.firstData = firstData;
  at.rows = (at.rows ?? 0) + rows;
}

/**
 * Size the store for a large list before loading it: look at a sample of lines spread evenly over
 * the text, estimate the number of lines from their mean length (a count would be one more pass over
 * a million lines) and reserve room for each kind in proportion (a little more, so a fair estimate
 * does not end in one last doubling). Only capacity: what is loaded is unchanged.
 */
export function reserveFor(store: IndicatorStoreBuilder, text: string): void {
  if (text.length < RESERVE_MIN_CHARS) return;
  let v4 = 0,
    v6 = 0,
    domains = 0,
    urls = 0,
    units = 0,
    sampled = 0,
    sampledChars = 0;
  const step = Math.floor(text.length / RESERVE_SAMPLES);
  for (let k = 0; k < RESERVE_SAMPLES; k++) {
    // the line after the one holding position k * step: picked independently of its own length
    const at = text.indexOf('\n', k * step);
    if (at < 0) break;
    let end = text.indexOf('\n', at + 1);
    if (end < 0) end = text.length;
    sampled++;
    sampledChars += end - at;
    const line = text.slice(at + 1, end).trim();
    const c0 = line.charCodeAt(0);
    if (line.length === 0 || c0 === 35 || c0 === 59) continue;
    if (line.indexOf('://') >= 0) {
      urls++;
      units += line.length;
    } else if (line.indexOf(':') >= 0) v6++;
    else if (/^[\d./]+(?:\s|$)/.test(line)) v4++;
    else {
      domains++;
      units += line.length;
    }
  }
  if (sampled < RESERVE_SAMPLES / 2) return;
  const lines = (text.length * sampled) / sampledChars;
  if (lines < RESERVE_MIN_LINES) return;
  const scale = (1.05 * lines) / sampled;
  const est = (n: number) => (n === 0 ? 0 : Math.ceil(n * scale) + 16);
  store.reserve({ v4: est(v4), v6: est(v6), domains: est(domains), urls: est(urls), arena: Math.ceil(units * scale) });
}
