/**
 * One-pass, indexOf-style tokenizer for space-separated log lines with optional double-quoted values.
 * No regular expressions, no backtracking: each character is looked at once.
 */

// The character codes this file compares against, as constants of its own (see charcodes.ts)
const Ch_Tab = 0x09;
const Ch_Cr = 0x0d;
const Ch_Space = 0x20;
const Ch_Quote = 0x22; // "
const Ch_Backslash = 0x5c; // \

/** Quote escaping inside a quoted value: W3C doubles the quote (`""`), squid/Apache use a backslash. */
export const enum QuoteEscape {
  Doubled,
  Backslash,
}

/** Reusable scratch: the tokens of the last line (quotes removed), where each starts and ends, whether quoted. */
export class Tokens {
  values: string[] = [];
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  quoted = new Uint8Array(64);
  count = 0;
  /** Set when a quoted value ran to the end of the line without its closing quote. */
  unterminated = false;

  reset(): void {
    this.count = 0;
    this.unterminated = false;
  }

  push(value: string, start: number, end: number, quoted: boolean): void {
    const i = this.count++;
    if (i === this.starts.length) this.grow();
    this.values[i] = value;
    this.starts[i] = start;
    this.ends[i] = end;
    this.quoted[i] = quoted ? 1 : 0;
  }

  grow(): void {
    const n = this.starts.length * 2;
    const s = new Int32Array(n);
    s.set(this.starts);
    this.starts = s;
    const e = new Int32Array(n);
    e.set(this.ends);
    this.ends = e;
    const q = new Uint8Array(n);
    q.set(this.quoted);
    this.quoted = q;
  }
}

function isSpace(c: number): boolean {
  return c === Ch_Space || c === Ch_Tab;
}

/**
 * Split `line` into tokens separated by runs of spaces or tabs. A token that starts with `"` runs to
 * the matching closing quote; the quotes are removed and escapes resolved. A line ending in `\r`
 * (CRLF files) has it ignored. `max` stops early (0 = no limit) — the rest is one last raw token.
 */
// biome-ignore lint/suspicious/noShadowRestrictedNames: `escape` is the quote-escape mode; the deprecated global escape() is never used here
export function tokenize(line: string, out: Tokens, escape: QuoteEscape, max = 0): void {
  out.reset();
  let n = line.length;
  if (n > 0 && line.charCodeAt(n - 1) === Ch_Cr) n--;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) break;
    if (max > 0 && out.count === max - 1) {
      let e = n;
      while (e > i && isSpace(line.charCodeAt(e - 1))) e--;
      out.push(line.slice(i, e), i, e, false);
      return;
    }
    if (line.charCodeAt(i) === Ch_Quote) {
      const start = i;
      i++;
      let segStart = i;
      let value = '';
      let closed = false;
      while (i < n) {
        const c = line.charCodeAt(i);
        if (c === Ch_Quote) {
          if (escape === QuoteEscape.Doubled && i + 1 < n && line.charCodeAt(i + 1) === Ch_Quote) {
            value += line.slice(segStart, i + 1);
            i += 2;
            segStart = i;
            continue;
          }
          closed = true;
          break;
        }
        if (c === Ch_Backslash && escape === QuoteEscape.Backslash && i + 1 < n) {
          value += line.slice(segStart, i);
          segStart = i + 1; // keep the escaped character itself
          i += 2;
          continue;
        }
        i++;
      }
      value += line.slice(segStart, i);
      if (!closed) out.unterminated = true;
      else i++;
      out.push(value, start, i, true);
      // a closing quote glued to more text (`"a"b`) continues the same token
      if (closed && i < n && !isSpace(line.charCodeAt(i))) {
        const s = i;
        while (i < n && !isSpace(line.charCodeAt(i))) i++;
        const k = out.count - 1;
        out.values[k] = out.values[k] + line.slice(s, i);
        out.ends[k] = i;
      }
    } else {
      const start = i;
      while (i < n && !isSpace(line.charCodeAt(i))) i++;
      out.push(line.slice(start, i), start, i, false);
    }
  }
}

/**
 * The spans of the space-separated tokens of a line without quotes or tabs, as `tokenize` would find
 * them, but without building a string per token (`values` is left alone). Returns false, having
 * decided nothing, when a token starts with a quote or the line holds a tab: use `tokenize` then.
 */
export function scanSpans(line: string, out: Tokens): boolean {
  out.reset();
  let n = line.length;
  if (n > 0 && line.charCodeAt(n - 1) === Ch_Cr) n--;
  if (line.indexOf('\t') !== -1) return false;
  let i = 0;
  while (i < n) {
    while (i < n && line.charCodeAt(i) === Ch_Space) i++;
    if (i >= n) break;
    if (line.charCodeAt(i) === Ch_Quote) return false;
    let e = line.indexOf(' ', i);
    if (e === -1 || e > n) e = n;
    const k = out.count++;
    if (k === out.starts.length) out.grow();
    out.starts[k] = i;
    out.ends[k] = e;
    out.quoted[k] = 0;
    i = e;
  }
  return true;
}
