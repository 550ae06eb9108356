/**
 * json-logic conditions, made safe and compiled once.
 *
 * Rules come from YAML that analysts write, so they are data, never code: `var` reads only own
 * properties (never `__proto__`, `constructor` or `prototype`), and rules are checked at validation
 * time. The common operations are compiled into a tree of closures once per spec; anything else is
 * delegated to `json-logic-js` for that subtree, so semantics stay those of the library.
 */
import { requirePackage } from '../util/require-package.js';

// json-logic-js is CommonJS; its default export is the API object.
const jsonLogicModule = requirePackage('json-logic-js');
const jsonLogic: any = jsonLogicModule.default ?? jsonLogicModule;

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);
const hasOwn = Object.prototype.hasOwnProperty;

function safeVar(this: unknown, a: unknown, b: unknown): unknown {
  const notFound = b === undefined ? null : b;
  let data: any = this;
  if (a === undefined || a === '' || a === null) return data;
  const parts = String(a).split('.');
  for (const part of parts) {
    if (data === null || data === undefined || typeof data !== 'object') return notFound;
    if (FORBIDDEN_KEYS.has(part) || !hasOwn.call(data, part)) return notFound;
    data = data[part];
    if (data === undefined) return notFound;
  }
  return data;
}
// Replace the library's own `var` so that even the delegated subtrees cannot reach prototypes.
jsonLogic.add_operation('var', safeVar);

/** Operations json-logic-js implements; checked so that a typo is a validation error, not a runtime one. */
const LIBRARY_OPS = new Set([
  '==',
  '===',
  '!=',
  '!==',
  '!',
  '!!',
  '%',
  'log',
  'in',
  'cat',
  'substr',
  '+',
  '*',
  '-',
  '/',
  'min',
  'max',
  'merge',
  'var',
  'missing',
  'missing_some',
  '<',
  '<=',
  '>',
  '>=',
  'if',
  '?:',
  'and',
  'or',
  'filter',
  'map',
  'reduce',
  'all',
  'none',
  'some',
]);

export type LogicFn = (data: unknown) => unknown;
const customOps = new Map<string, (...args: any[]) => unknown>();

/**
 * Register an operation usable in every rule (`{"name": [args...]}`); arguments are evaluated first.
 * Plugins call this at module load; names are global to the process.
 */
export function addLogicOperation(name: string, fn: (...args: any[]) => unknown): void {
  if (LIBRARY_OPS.has(name)) throw new Error(`cannot redefine json-logic operation '${name}'`);
  customOps.set(name, fn);
  jsonLogic.add_operation(name, fn);
}

export interface LogicIssue {
  /** JSON pointer inside the rule. */
  path: string;
  message: string;
}

function isLogic(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length === 1;
}

/** Find every problem in a rule: unknown operations, prototype access, malformed objects. */
export function validateLogic(rule: unknown, path = ''): LogicIssue[] {
  const issues: LogicIssue[] = [];
  const walk = (node: unknown, p: string): void => {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) walk(node[i], `${p}/${i}`);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const keys = Object.keys(node);
    if (keys.length !== 1) {
      issues.push({ path: p, message: `a json-logic operation is an object with exactly one key, got ${keys.length} (${keys.join(', ') || 'none'})` });
      return;
    }
    const op = keys[0]!;
    const arg = (node as Record<string, unknown>)[op];
    const opPath = `${p}/${op.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (!LIBRARY_OPS.has(op) && !customOps.has(op)) {
      const known = [...LIBRARY_OPS, ...customOps.keys()];
      issues.push({ path: opPath, message: `unknown json-logic operation '${op}' (known: ${known.join(', ')})` });
      return;
    }
    if (op === 'var' || op === 'missing' || op === 'missing_some') {
      const names: unknown[] = op === 'var' ? [Array.isArray(arg) ? arg[0] : arg] : Array.isArray(arg) ? arg.flat() : [arg];
      for (const name of names) {
        if (typeof name === 'string' && name.split('.').some((k) => FORBIDDEN_KEYS.has(k))) {
          issues.push({ path: opPath, message: `'${op}' may not read '${name}': prototype properties are off limits` });
        }
      }
    }
    walk(arg, opPath);
  };
  walk(rule, path);
  return issues;
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v) && v.length === 0) return false;
  return !!v;
}

function compileVar(arg: unknown): LogicFn {
  const [name, dflt] = Array.isArray(arg) ? arg : [arg];
  if (isLogic(name) || isLogic(dflt)) return (d) => jsonLogic.apply({ var: arg }, d);
  const notFound = dflt === undefined ? null : dflt;
  if (name === undefined || name === null || name === '') return (d) => d;
  const parts = String(name).split('.');
  if (parts.length === 1) {
    const k = parts[0]!;
    if (FORBIDDEN_KEYS.has(k)) return () => notFound;
    return (d: any) => {
      if (d === null || typeof d !== 'object' || !hasOwn.call(d, k)) return notFound;
      const v = d[k];
      return v === undefined ? notFound : v;
    };
  }
  // Same semantics as safeVar, with the path split once here rather than on every evaluation.
  if (parts.some((k) => FORBIDDEN_KEYS.has(k))) return () => notFound;
  return (d: any) => {
    let cur = d;
    for (let i = 0; i < parts.length; i++) {
      const k = parts[i]!;
      if (cur === null || cur === undefined || typeof cur !== 'object' || !hasOwn.call(cur, k)) return notFound;
      cur = cur[k];
      if (cur === undefined) return notFound;
    }
    return cur;
  };
}

/** Compile a rule into a function of the record. Call `validateLogic` first to report problems. */
function compileNode(node: unknown): LogicFn {
  if (Array.isArray(node)) {
    // An array of plain values is a constant: build it once, not per record (and operations may
    // cache work keyed by its identity, e.g. parsed CIDR lists).
    if (node.every((n) => n === null || typeof n !== 'object')) {
      const constant = Object.freeze(node.slice());
      return () => constant;
    }
    const items = node.map(compileNode);
    return (d) => items.map((f) => f(d));
  }
  if (!isLogic(node)) return () => node;
  const op = Object.keys(node)[0]!;
  const raw = (node as Record<string, unknown>)[op];
  if (op === 'var') return compileVar(raw);
  const args = Array.isArray(raw) ? raw : [raw];
  const c = args.map(compileNode);
  const [a, b, x] = c as [LogicFn, LogicFn, LogicFn];
  switch (op) {
    case '==':
      // biome-ignore lint/suspicious/noDoubleEquals: json-logic's == is JavaScript's loose equality
      return (d) => a(d) == b(d);
    case '===':
      return (d) => a(d) === b(d);
    case '!=':
      // biome-ignore lint/suspicious/noDoubleEquals: json-logic's != is JavaScript's loose inequality
      return (d) => a(d) != b(d);
    case '!==':
      return (d) => a(d) !== b(d);
    case '!':
      return (d) => !truthy(a(d));
    case '!!':
      return (d) => truthy(a(d));
    case '>':
      return (d) => (a(d) as any) > (b(d) as any);
    case '>=':
      return (d) => (a(d) as any) >= (b(d) as any);
    case '<':
      if (c.length === 3)
        return (d) => {
          const m = b(d) as any;
          return (a(d) as any) < m && m < (x(d) as any);
        };
      return (d) => (a(d) as any) < (b(d) as any);
    case '<=':
      if (c.length === 3)
        return (d) => {
          const m = b(d) as any;
          return (a(d) as any) <= m && m <= (x(d) as any);
        };
      return (d) => (a(d) as any) <= (b(d) as any);
    case 'and':
      return (d) => {
        let v: unknown;
        for (const f of c) {
          v = f(d);
          if (!truthy(v)) return v;
        }
        return v;
      };
    case 'or':
      return (d) => {
        let v: unknown;
        for (const f of c) {
          v = f(d);
          if (truthy(v)) return v;
        }
        return v;
      };
    case 'if':
    case '?:':
      return (d) => {
        let i = 0;
        for (; i < c.length - 1; i += 2) if (truthy(c[i]!(d))) return c[i + 1]!(d);
        return i === c.length - 1 ? c[i]!(d) : null;
      };
    case 'in':
      // As json-logic-js: a falsy haystack ("", 0, null) contains nothing.
      return (d) => {
        const hay = b(d) as any;
        return !!hay && typeof hay.indexOf === 'function' && hay.indexOf(a(d)) !== -1;
      };
    case 'cat':
      return (d) =>
        c
          .map((f) => {
            const v = f(d);
            return v === null || v === undefined ? '' : String(v);
          })
          .join('');
    default: {
      const custom = customOps.get(op);
      if (custom) {
        if (c.length === 1) return (d) => custom(a(d));
        if (c.length === 2) return (d) => custom(a(d), b(d));
        return (d) => custom(...c.map((f) => f(d)));
      }
      // Everything else: the library's own semantics for this subtree.
      return (d) => jsonLogic.apply(node, d);
    }
  }
}

export interface CompiledLogic {
  /** The rule's raw result. */
  evaluate(data: unknown): unknown;
  /** The rule's result under json-logic truthiness (`[]` is false). */
  test(data: unknown): boolean;
}

/** Validate and compile a rule once; throws with every problem listed when it is invalid. */
export function compileLogic(rule: unknown): CompiledLogic {
  const issues = validateLogic(rule);
  if (issues.length) throw new Error(issues.map((i) => `${i.path || '/'}: ${i.message}`).join('; '));
  const fn = compileNode(rule);
  return { evaluate: fn, test: (d) => truthy(fn(d)) };
}

/** Reference evaluation with the library itself (tests compare the compiled form against it). */
export function applyLogicReference(rule: unknown, data: unknown): unknown {
  return jsonLogic.apply(rule, data);
}
