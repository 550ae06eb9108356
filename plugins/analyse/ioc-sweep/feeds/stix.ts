/**
 * STIX 2.x indicators (bundles, arrays, or one object per line). Only `pattern_type: stix` patterns
 * made of `=` comparisons on `ipv4-addr:value`, `ipv6-addr:value`, `domain-name:value` and
 * `url:value`, joined by `OR`, become indicators; an OR that also names unsupported objects keeps
 * its supported values. `AND`, `FOLLOWEDBY`, `NOT` and qualifiers (`WITHIN`, `REPEATS`, `START`)
 * make a pattern unsupported: one proxy record cannot satisfy them. Revoked indicators and those
 * whose `valid_until` is past (or `valid_from` in the future) are skipped.
 */
import type { TypeHint } from '../store.js';
import type { LoadContext } from './types.js';
import { rowMeta, toConfidence, toTags } from './types.js';

const PATHS: Record<string, TypeHint> = {
  'ipv4-addr:value': 'ip',
  'ipv6-addr:value': 'ip',
  'domain-name:value': 'domain',
  'url:value': 'url',
};

export interface Comparison {
  path: string;
  op: string;
  value: string;
}
export type ParsedPattern = { comparisons: Comparison[] } | { error: string };

const UNSUPPORTED_KEYWORDS = new Set(['AND', 'FOLLOWEDBY', 'NOT', 'WITHIN', 'REPEATS', 'START', 'STOP']);

/** A small tokenizer for STIX patterning: enough for OR-joined comparisons, refusing the rest. */
export function parsePattern(p: string): ParsedPattern {
  const comparisons: Comparison[] = [];
  let i = 0;
  const n = p.length;
  const words: string[] = []; // the tokens of the current comparison
  const flush = (): string | null => {
    if (words.length === 0) return null;
    if (words.length !== 3) return `cannot read comparison '${words.join(' ')}'`;
    comparisons.push({ path: words[0]!, op: words[1]!.toUpperCase(), value: words[2]! });
    words.length = 0;
    return null;
  };
  while (i < n) {
    const c = p[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '[' || c === ']' || c === '(' || c === ')') {
      i++;
      continue;
    }
    if (c === "'") {
      let j = i + 1;
      let s = '';
      while (j < n && p[j] !== "'") {
        if (p[j] === '\\' && j + 1 < n) j++;
        s += p[j];
        j++;
      }
      if (j >= n) return { error: 'unterminated string' };
      words.push(s);
      i = j + 1;
      continue;
    }
    if (c === '=' || c === '!' || c === '<' || c === '>') {
      let j = i + 1;
      if (p[j] === '=') j++;
      words.push(p.slice(i, j));
      i = j;
      continue;
    }
    // a word: keyword, object path (may hold quoted parts: file:hashes.'SHA-256'), or operator word
    let j = i;
    while (j < n && !' \t\r\n[]()='.includes(p[j]!)) {
      if (p[j] === "'") {
        j++;
        while (j < n && p[j] !== "'") j++;
      }
      j++;
    }
    const w = p.slice(i, j);
    i = j;
    const upper = w.toUpperCase();
    if (upper === 'OR') {
      const e = flush();
      if (e) return { error: e };
      continue;
    }
    if (UNSUPPORTED_KEYWORDS.has(upper)) return { error: `'${upper}' is not supported` };
    words.push(w);
  }
  const e = flush();
  if (e) return { error: e };
  if (comparisons.length === 0) return { error: 'empty pattern' };
  return { comparisons };
}

/** Load one STIX object (already parsed). Non-indicator objects are ignored (counted apart). */
export function loadStixObject(o: any, where: string, ctx: LoadContext): void {
  const { tally, store } = ctx;
  if (o === null || typeof o !== 'object') {
    tally.rows++;
    tally.skip('NOT_AN_OBJECT', where, JSON.stringify(o));
    return;
  }
  if (o.type === 'bundle' && Array.isArray(o.objects)) {
    for (let k = 0; k < o.objects.length; k++) loadStixObject(o.objects[k], `${where}#${k}`, ctx);
    return;
  }
  if (o.type !== 'indicator') {
    tally.ignored++;
    return;
  }
  tally.rows++;
  const id = typeof o.id === 'string' ? o.id : where;
  if (o.revoked === true) return tally.skip('REVOKED', where, id);
  if (typeof o.valid_until === 'string') {
    const t = Date.parse(o.valid_until);
    if (Number.isFinite(t) && t <= ctx.now) return tally.skip('EXPIRED', where, `${id} valid_until ${o.valid_until}`);
    if (t < ctx.stableUntil) ctx.stableUntil = t;
  }
  if (typeof o.valid_from === 'string') {
    const t = Date.parse(o.valid_from);
    if (Number.isFinite(t) && t > ctx.now) {
      if (t < ctx.stableUntil) ctx.stableUntil = t;
      return tally.skip('NOT_YET_VALID', where, `${id} valid_from ${o.valid_from}`);
    }
  }
  if (o.pattern_type !== undefined && o.pattern_type !== 'stix') return tally.skip('UNSUPPORTED_PATTERN', where, `${o.pattern_type}: ${o.pattern}`);
  if (typeof o.pattern !== 'string') return tally.skip('UNSUPPORTED_PATTERN', where, id);
  const parsed = parsePattern(o.pattern);
  if ('error' in parsed) return tally.skip('UNSUPPORTED_PATTERN', where, `${parsed.error}: ${o.pattern}`);
  const usable = parsed.comparisons.filter((c) => c.op === '=' && PATHS[c.path] !== undefined);
  if (usable.length === 0) return tally.skip('UNSUPPORTED_PATTERN', where, o.pattern);
  const meta = rowMeta(ctx, {
    confidence: toConfidence(o.confidence),
    tags: toTags(o.labels),
    description: typeof o.description === 'string' ? o.description : typeof o.name === 'string' ? o.name : undefined,
    first_seen: typeof o.valid_from === 'string' ? o.valid_from : typeof o.created === 'string' ? o.created : undefined,
    last_seen: typeof o.modified === 'string' ? o.modified : undefined,
  });
  for (const c of usable) {
    const reason = store.add(c.value, PATHS[c.path]!, meta);
    if (reason !== null) tally.skip(reason, where, `${c.path} = '${c.value}'`);
  }
}
