/**
 * Plain indicator lists: one value per line, type detected per line. Handles `#` comment lines and
 * blocks, inline comments (`5.63.151.0/24 # scanner`), extra columns after the value (ipsum
 * `IP<TAB>count`), CRLF, a UTF-8 BOM, quoted values, and a one-word header line (`IP`, `Domain`).
 */
import type { FeedInput, LoadContext } from './types.js';

export function loadPlain(input: FeedInput, ctx: LoadContext): void {
  const { store, tally, base } = ctx;
  const text = input.text;
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let lineNo = 0;
  let firstData = true;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    let line = text.slice(start, end);
    start = end + 1;
    line = line.trim(); // also drops \r and NBSP
    if (line.length === 0) continue;
    const c0 = line.charCodeAt(0);
    if (c0 === 35 /* # */ || c0 === 59 /* ; */ || (c0 === 47 && line.charCodeAt(1) === 47)) continue;
    // The value is the first token; what follows whitespace (counts, `# comments`) is not part of it.
    let cut = line.length;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === 32 || c === 9 || c === 0xa0) { cut = i; break; }
    }
    let value = cut === line.length ? line : line.slice(0, cut);
    if (value.charCodeAt(value.length - 1) === 44) value = value.slice(0, -1); // `1.2.3.4,`
    if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) value = value.slice(1, -1);
    tally.rows++;
    const reason = store.add(value, 'auto', base);
    if (reason !== null) {
      // A lone word on the first data line (`IP`, `URL`, `Domain`) is a column header.
      const header = firstData && reason === 'NOT_AN_INDICATOR' && /^[A-Za-z][A-Za-z_ ]*$/.test(value);
      tally.skip(header ? 'HEADER' : reason, `${input.label}:${lineNo}`, value);
    }
    firstData = false;
  }
}
