/**
 * Glob patterns over HDFS paths, matched one segment at a time against directory listings:
 * `*` and `?` within a segment, `[abc]`/`[!a-z]` classes, `{a,b}` alternatives, `**` for any number
 * of directories.
 */

/** Whether a segment holds glob syntax. */
export function isGlobSegment(seg: string): boolean {
  return /[*?[{]/.test(seg);
}

/** A regular expression for one segment's pattern. */
export function segmentRegExp(seg: string): RegExp {
  let re = '';
  let depth = 0;
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '\\' && i + 1 < seg.length) {
      re += escapeChar(seg[++i]!);
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = seg.indexOf(']', i + 2);
      if (close === -1) {
        re += '\\[';
        continue;
      }
      let body = seg.slice(i + 1, close);
      let neg = false;
      if (body.startsWith('!') || body.startsWith('^')) {
        neg = true;
        body = body.slice(1);
      }
      re += '[' + (neg ? '^' : '') + body.replace(/[\\\]^]/g, (m) => '\\' + m) + ']';
      i = close;
    } else if (c === '{') {
      depth++;
      re += '(?:';
    } else if (c === '}' && depth > 0) {
      depth--;
      re += ')';
    } else if (c === ',' && depth > 0) re += '|';
    else re += escapeChar(c);
  }
  while (depth-- > 0) re += ')';
  return new RegExp('^' + re + '$');
}

function escapeChar(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? '\\' + c : c;
}

/** Split an absolute path into segments (no empty ones). */
export function segmentsOf(path: string): string[] {
  return path.split('/').filter((s) => s !== '' && s !== '.');
}
