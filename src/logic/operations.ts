/**
 * json-logic operations for proxy records: `cidr_match`, `is_ip`, `starts_with`, `ends_with`,
 * `lower`, `file_extension`, `in_list`.
 *
 * They are registered when this module is loaded. `src/internal.ts` re-exports it, and the built-in
 * `rules`, `set` and `window` plugins import that, so whenever the built-ins are loaded every
 * json-logic condition in a spec (`rules`, `filter`, `route`, `set`, `window.alert_when`) can use them.
 * `rules`, `set` and `window` share `checkLogicRule`/`prepareLogicRule` from here.
 *
 * Operations never throw on record data: a value of the wrong type simply does not match.
 * Constant arguments (CIDRs, list names) are checked at validation time by `checkLogicRule`.
 */
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigIssue } from '../errors.js';
import { parseIPv4, parseIPv6, mappedV4, v6PrefixKey } from '../net/ip.js';
import { addLogicOperation, validateLogic } from './index.js';

// ---------------------------------------------------------------------------------------------
// IP addresses and CIDRs

/** IPv6 text (bracketed as in URLs, or not) to its 32-hex-digit key, or null. */
function parseV6(s: string): string | null {
  if (s.indexOf(':') === -1) return null;
  const text = s.charCodeAt(0) === 91 && s.charCodeAt(s.length - 1) === 93 ? s.slice(1, -1) : s;
  return parseIPv6(text);
}

interface Cidr4 {
  v4: true;
  net: number;
  mask: number;
}
/** `key`: the network's prefix key of `bits` bits (see `v6PrefixKey`). */
interface Cidr6 {
  v4: false;
  key: string;
  bits: number;
}
type Cidr = Cidr4 | Cidr6;

/** Parse `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128). Undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const addr = slash === -1 ? text : text.slice(0, slash);
  let bits: number | undefined;
  if (slash !== -1) {
    const b = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(b)) return undefined;
    bits = Number(b);
  }
  const v4 = parseIPv4(addr);
  if (v4 >= 0) {
    const len = bits ?? 32;
    if (len > 32) return undefined;
    // `>>> 0` keeps the mask unsigned; a /0 mask is 0.
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    return { v4: true, net: (v4 & mask) >>> 0, mask };
  }
  const hex = parseV6(addr);
  if (!hex) return undefined;
  const len = bits ?? 128;
  if (len > 128) return undefined;
  return { v4: false, key: v6PrefixKey(hex, len), bits: len };
}

const cidrCache = new Map<string, Cidr | null>();
const cidrListCache = new WeakMap<readonly unknown[], Cidr[]>();

function cidrOf(text: string): Cidr | null {
  let c = cidrCache.get(text);
  if (c === undefined) {
    c = parseCidr(text) ?? null;
    // Bounded: CIDRs normally come from rule constants; a var-supplied CIDR must not grow this forever.
    if (cidrCache.size > 10_000) cidrCache.clear();
    cidrCache.set(text, c);
  }
  return c;
}

function cidrsOf(arg: unknown): Cidr[] {
  if (typeof arg === 'string') {
    const c = cidrOf(arg);
    return c ? [c] : [];
  }
  if (!Array.isArray(arg)) return [];
  // Constant arrays in a compiled rule are the same object on every call, so this caches per rule.
  let list = cidrListCache.get(arg);
  if (!list) {
    list = [];
    for (const x of arg)
      if (typeof x === 'string') {
        const c = cidrOf(x);
        if (c) list.push(c);
      }
    cidrListCache.set(arg, list);
  }
  return list;
}

/** `{"cidr_match": [ip, cidr | [cidr, ...]]}`: true when the address lies in any of the ranges. */
export function cidrMatch(value: unknown, ranges: unknown): boolean {
  if (typeof value !== 'string' || value.length === 0) return false;
  const cidrs = cidrsOf(ranges);
  if (cidrs.length === 0) return false;
  let v4 = parseIPv4(value);
  let v6: string | null = null;
  if (v4 < 0) {
    v6 = parseV6(value);
    if (!v6) return false;
    v4 = mappedV4(v6); // IPv4-mapped IPv6 also matches IPv4 ranges
  }
  for (const c of cidrs) {
    if (c.v4) {
      if (v4 >= 0 && (v4 & c.mask) >>> 0 === c.net) return true;
    } else if (v6 && v6PrefixKey(v6, c.bits) === c.key) {
      return true;
    }
  }
  return false;
}

/** `{"is_ip": value}`: true for an IPv4 dotted quad or an IPv6 address (bracketed or not). */
export function isIp(value: unknown): boolean {
  return typeof value === 'string' && (parseIPv4(value) >= 0 || parseV6(value) !== null);
}

// ---------------------------------------------------------------------------------------------
// Strings

function affix(value: unknown, arg: unknown, test: (s: string, a: string) => boolean): boolean {
  if (typeof value !== 'string') return false;
  if (typeof arg === 'string') return test(value, arg);
  if (Array.isArray(arg)) {
    for (const a of arg) if (typeof a === 'string' && test(value, a)) return true;
  }
  return false;
}
const startsWith = (s: string, a: string) => s.startsWith(a);
const endsWith = (s: string, a: string) => s.endsWith(a);

/** `{"starts_with": [string, prefix | [prefix, ...]]}` (case-sensitive; combine with `lower`). */
export function startsWithOp(value: unknown, prefixes: unknown): boolean {
  return affix(value, prefixes, startsWith);
}

/** `{"ends_with": [string, suffix | [suffix, ...]]}` (case-sensitive; combine with `lower`). */
export function endsWithOp(value: unknown, suffixes: unknown): boolean {
  return affix(value, suffixes, endsWith);
}

/** `{"lower": string}`: lower-cased; anything that is not a string is returned unchanged. */
export function lower(value: unknown): unknown {
  return typeof value === 'string' ? value.toLowerCase() : value;
}

/**
 * `{"file_extension": path}`: the lower-case extension of the last path segment, without the dot
 * (`/a/Invoice.EXE` → `exe`, `/a.b/c` → ``, `/.htaccess` → ``). Query and fragment are ignored.
 */
export function fileExtension(value: unknown): string {
  if (typeof value !== 'string') return '';
  let end = value.length;
  const q = value.indexOf('?');
  if (q !== -1) end = q;
  const h = value.indexOf('#');
  if (h !== -1 && h < end) end = h;
  const slash = value.lastIndexOf('/', end - 1);
  const dot = value.lastIndexOf('.', end - 1);
  // A leading dot (dotfile) is not an extension.
  if (dot <= slash + 1 || dot === end - 1) return '';
  return value.slice(dot + 1, end).toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Named lists

const lists = new Map<string, ReadonlySet<string>>();

/**
 * Read a list file: one entry per line, surrounding blanks trimmed, blank lines and `#` comments
 * skipped. Cached by absolute path for the life of the process.
 */
export function loadList(path: string): ReadonlySet<string> {
  const abs = resolve(path);
  let set = lists.get(abs);
  if (set) return set;
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new Error(`in_list: cannot read list file '${path}': ${(err as Error).message}`);
  }
  const entries = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line && line.charCodeAt(0) !== 35) entries.add(line);
  }
  set = entries;
  lists.set(abs, set);
  if (path !== abs) lists.set(path, set);
  return set;
}

/** `{"in_list": [value, list]}`: `list` is a list file path (or, in `rules`, a name declared under `lists:`). */
export function inList(value: unknown, list: unknown): boolean {
  if (typeof list !== 'string') return false;
  if (typeof value === 'number' || typeof value === 'boolean') value = String(value);
  if (typeof value !== 'string') return false;
  // Lists are preloaded when a plugin is created; a path met only here loads once, on first use.
  const set = lists.get(list) ?? loadList(list);
  return set.has(value);
}

// ---------------------------------------------------------------------------------------------
// Registration, validation and preparation of rules that use these operations

addLogicOperation('cidr_match', cidrMatch);
addLogicOperation('is_ip', isIp);
addLogicOperation('starts_with', startsWithOp);
addLogicOperation('ends_with', endsWithOp);
addLogicOperation('lower', lower);
addLogicOperation('file_extension', fileExtension);
addLogicOperation('in_list', inList);

/** The codes of the problems `checkLogicRule` reports, for the `configCodes` of the plugins that use it. */
export const LOGIC_CODES = {
  LOGIC_INVALID: 'a json-logic condition is malformed, uses an unknown operation or reaches for prototype properties',
  LOGIC_ARGS: 'a custom operation (`cidr_match`, `in_list`, `starts_with`, `ends_with`) has the wrong arguments',
  LOGIC_BAD_CIDR: '`cidr_match` names something that is not an IPv4/IPv6 address or CIDR range',
  LOGIC_UNKNOWN_LIST: '`in_list` names a list that is neither declared under `lists:` nor an existing file',
} as const;

/** Named lists declared on a plugin: name → file path. */
export type ListDecls = Readonly<Record<string, string>>;

function isOp(node: unknown): node is Record<string, unknown> {
  return node !== null && typeof node === 'object' && !Array.isArray(node) && Object.keys(node).length === 1;
}

/**
 * Every problem in a json-logic condition: unknown operations and prototype access (from
 * `validateLogic`), malformed CIDR constants, `in_list` with a list that is neither declared under
 * `lists:` nor an existing file. `pointer` is the JSON pointer of the condition inside `with:`.
 */
export function checkLogicRule(rule: unknown, pointer: string, declared: ListDecls = {}): ConfigIssue[] {
  const issues: ConfigIssue[] = validateLogic(rule, pointer).map((i) => ({ path: i.path, message: i.message, code: 'LOGIC_INVALID' }));
  if (issues.length) return issues;
  const walk = (node: unknown, p: string): void => {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) walk(node[i], `${p}/${i}`);
      return;
    }
    if (!isOp(node)) return;
    const op = Object.keys(node)[0]!;
    const arg = node[op];
    const opPath = `${p}/${op.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const args = Array.isArray(arg) ? arg : [arg];
    if (op === 'cidr_match') {
      if (args.length !== 2)
        issues.push({ path: opPath, code: 'LOGIC_ARGS', message: `cidr_match takes [address, cidr or list of cidrs], got ${args.length} argument(s)` });
      const ranges = args[1];
      const consts = typeof ranges === 'string' ? [[ranges, `${opPath}/1`]] : Array.isArray(ranges) ? ranges.map((r, i) => [r, `${opPath}/1/${i}`]) : [];
      for (const [r, rp] of consts) {
        if (typeof r === 'string' && !parseCidr(r))
          issues.push({
            path: rp as string,
            code: 'LOGIC_BAD_CIDR',
            message: `'${r}' is not an IPv4/IPv6 address or CIDR range`,
            hint: 'write e.g. 10.0.0.0/8 or 2001:db8::/32',
          });
      }
    } else if (op === 'in_list') {
      if (args.length !== 2) issues.push({ path: opPath, code: 'LOGIC_ARGS', message: `in_list takes [value, list], got ${args.length} argument(s)` });
      const list = args[1];
      if (typeof list !== 'string') {
        issues.push({ path: `${opPath}/1`, code: 'LOGIC_ARGS', message: 'in_list needs a list name or file path as a literal string' });
      } else if (!Object.hasOwn(declared, list) && !existsSync(resolve(list))) {
        const names = Object.keys(declared);
        issues.push({
          path: `${opPath}/1`,
          code: 'LOGIC_UNKNOWN_LIST',
          message: `in_list: '${list}' is neither a declared list nor an existing file`,
          hint: names.length ? `declared lists: ${names.join(', ')}` : 'declare it under lists: { name: path/to/file.txt } or give a file path',
        });
      }
    } else if (op === 'starts_with' || op === 'ends_with') {
      if (args.length !== 2)
        issues.push({
          path: opPath,
          code: 'LOGIC_ARGS',
          message: `${op} takes [string, ${op === 'starts_with' ? 'prefix' : 'suffix'} or list of them], got ${args.length} argument(s)`,
        });
    }
    for (let i = 0; i < args.length; i++) walk(args[i], Array.isArray(arg) ? `${opPath}/${i}` : opPath);
  };
  walk(rule, pointer);
  return issues;
}

/**
 * A copy of `rule` in which every `in_list` list name declared under `lists:` is replaced by the
 * resolved file path, with every list it uses loaded now (so a missing file fails at start-up, not
 * mid-run). Use before `compileLogic`.
 */
export function prepareLogicRule(rule: unknown, declared: ListDecls, resolvePath: (p: string) => string): unknown {
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!isOp(node)) return node;
    const op = Object.keys(node)[0]!;
    const arg = node[op];
    if (op === 'in_list' && Array.isArray(arg) && typeof arg[1] === 'string') {
      const name = arg[1];
      const path = resolvePath(Object.hasOwn(declared, name) ? declared[name]! : name);
      loadList(path);
      return { in_list: [rewrite(arg[0]), path] };
    }
    return { [op]: Array.isArray(arg) ? arg.map(rewrite) : rewrite(arg) };
  };
  return rewrite(rule);
}
