/**
 * `${NAME}` and `${NAME:-default}` in string scalars, from `--var NAME=value` first, then the
 * environment. `$${` writes a literal `${`. Interpolation happens on the parsed YAML nodes, so
 * every position reported later is still the position in the file.
 */
import type { Document } from 'yaml';
import { visit, isScalar } from './yaml.js';

const REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-((?:[^}\\]|\\.)*))?\}/g;
/** Variables whose names look like credentials are never echoed in errors, logs or `graph`. */
const SECRET_NAME = /PASS|SECRET|TOKEN|KEY|CREDENTIAL|AUTH/i;

export interface InterpolationProblem {
  name: string;
  /** Offset of the scalar in the source. */
  offset: number;
}

export interface InterpolationResult {
  problems: InterpolationProblem[];
  /** Values substituted from variables whose names look secret; redact them from any output. */
  secrets: string[];
}

export function interpolateString(value: string, vars: Record<string, string | undefined>, onMissing: (name: string) => void, secrets: string[]): string {
  if (!value.includes('${')) return value;
  return value.replace(REF, (whole, name: string | undefined, dflt: string | undefined) => {
    if (whole === '$${') return '${';
    const v = vars[name!];
    if (v !== undefined && v !== '') {
      if (SECRET_NAME.test(name!) && v.length > 0) secrets.push(v);
      return v;
    }
    if (dflt !== undefined) return dflt.replace(/\\(.)/g, '$1');
    onMissing(name!);
    return '';
  });
}

export function interpolateDocument(doc: Document, vars: Record<string, string | undefined>): InterpolationResult {
  const problems: InterpolationProblem[] = [];
  const secrets: string[] = [];
  visit(doc, {
    Scalar(_key, node) {
      if (!isScalar(node) || typeof node.value !== 'string') return;
      const offset = node.range?.[0] ?? 0;
      const out = interpolateString(node.value, vars, (name) => problems.push({ name, offset }), secrets);
      if (out !== node.value) {
        // A scalar that is exactly one reference, such as `${BATCH:-500}` or "${BATCH}" (quotes are
        // needed inside flow mappings), becomes a number or boolean when its value reads as one.
        const whole = /^\$\{[^}]*\}$/.test(node.value.trim());
        node.value = whole ? coerce(out) : out;
      }
    },
  });
  return { problems, secrets };
}

function coerce(s: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  if (s === 'true') return true;
  if (s === 'false') return false;
  return s;
}
