/**
 * One error model: every code that sluice or a built-in plugin emits is declared (the `ERRORS`
 * table of src/errors.ts; a plugin's `reasons` and `configCodes`) and documented
 * (docs/error-codes.md), and nothing is declared or documented that is not emitted. "Emitted" is
 * read from the sources: the reason code argument of every `makeInvalid` call, the `code:` of every
 * `ConfigIssue` a plugin's check builds, and the codes of the shared json-logic checks.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { builtinPlugins } from '../../plugins/index.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { ERRORS, formatIssue } from '../../src/errors.js';
import { LOGIC_CODES } from '../../src/internal.js';
import { loadSpec } from '../../src/spec/validate.js';
import { pluginReference } from '../../src/cli/plugin-docs.js';
import type { PluginDef } from '../../src/api.js';
import { portsOf } from '../../src/plugins/def.js';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The top-level arguments of the call whose `(` is at `open` (text of each, unparsed). */
function callArgs(text: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let quote = '';
  let start = open + 1;
  for (let i = open; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = '';
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') quote = ch;
    else if (ch === '(' || ch === '{' || ch === '[') depth++;
    else if (ch === ')' || ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) {
        args.push(text.slice(start, i).trim());
        return args;
      }
    } else if (ch === ',' && depth === 1) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  throw new Error('unbalanced call');
}

const CODE_LITERAL = /'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)'/g;

/** The codes a plugin's sources emit, by kind of code, and the reason arguments the scan cannot read. */
function emittedBy(folder: string): { reasons: string[]; configCodes: string[]; unread: string[] } {
  const texts = files(join(ROOT, folder)).map((f) => readFileSync(f, 'utf8'));
  const all = texts.join('\n');
  // A plugin may keep its reason codes in a table `export const ERR = { NAME: 'CODE', ... }`.
  const table = /export const ERR = \{([^}]*)\}/.exec(all)?.[1] ?? '';
  const errTable = new Map([...table.matchAll(/([A-Z_]+):\s*'([A-Z0-9_]+)'/g)].map((m) => [m[1]!, m[2]!]));
  const fromTable = (s: string) => [...s.matchAll(/\bERR\.([A-Z_]+)/g)].map((m) => errTable.get(m[1]!) ?? `ERR.${m[1]} (not in the table)`);
  const reasons: string[] = [];
  const unread: string[] = [];
  for (const text of texts) {
    for (const m of text.matchAll(/\bmakeInvalid\(/g)) {
      const arg = callArgs(text, m.index + m[0].length - 1)[2]!;
      const codes = [...[...arg.matchAll(CODE_LITERAL)].map((x) => x[1]!), ...fromTable(arg)];
      if (codes.length) reasons.push(...codes);
      else unread.push(arg);
    }
  }
  // Codes handed to makeInvalid through a value (`res.code`) are the table's entries used anywhere.
  if (unread.length) reasons.push(...fromTable(all.replace(/export const ERR = \{[^}]*\}/, '')));
  const configCodes = [...all.matchAll(/\bcode:\s*'([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!);
  if (/\bcheckLogicRule\(/.test(all)) configCodes.push(...logicCodesEmitted());
  return { reasons: sorted(reasons), configCodes: sorted(configCodes), unread };
}

function logicCodesEmitted(): string[] {
  return [...read('src/logic/operations.ts').matchAll(/\bcode:\s*'([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!);
}

const folderOf = (def: PluginDef) => `plugins/${def.kind}/${def.name}`;

/** Code → meaning rows of the markdown tables under `heading` (up to the next heading of its level or above), by table header. */
function docTables(markdown: string, heading: string): Map<string, string[]> {
  const at = markdown.split('\n').findIndex((l) => l.trim() === heading);
  if (at === -1) return new Map();
  const level = heading.indexOf(' ');
  const tables = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of markdown.split('\n').slice(at + 1)) {
    const h = /^(#+) /.exec(line);
    if (h && h[1]!.length <= level) break;
    const header = /^\| ([a-z ]+) \| meaning \|$/.exec(line);
    if (header) tables.set(header[1]!, (current = []));
    else if (current && /^\| `/.test(line)) current.push(/^\| `([^`]+)`/.exec(line)![1]!);
    else if (!line.startsWith('|')) current = undefined;
  }
  return tables;
}

const CODES_DOC = read('docs/error-codes.md');

describe('SLUICE_E_* codes', () => {
  it('every code the sources use is in the ERRORS table', () => {
    const used = files(join(ROOT, 'src'))
      .concat(files(join(ROOT, 'plugins')))
      .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/'(SLUICE_E_[A-Z_]+)'/g)].map((m) => m[1]!));
    expect(used.length).toBeGreaterThan(10);
    expect(sorted(used).filter((c) => !(c in ERRORS))).toEqual([]);
  });

  it('docs/error-codes.md documents the ERRORS table, no more and no less', () => {
    expect(sorted(docTables(CODES_DOC, '## Spec and run errors (`SLUICE_E_*`)').get('code') ?? [])).toEqual(sorted(Object.keys(ERRORS)));
  });
});

describe('json-logic check codes', () => {
  it('LOGIC_CODES declares exactly what checkLogicRule emits', () => {
    expect(sorted(logicCodesEmitted())).toEqual(sorted(Object.keys(LOGIC_CODES)));
  });
});

describe.each(builtinPlugins.map((p) => [`${p.kind} ${p.name}`, p] as const))('codes of %s', (_label, def) => {
  const emitted = emittedBy(folderOf(def));

  it('declares every reason code its makeInvalid calls give, and no other', () => {
    expect(emitted.reasons).toEqual(sorted(Object.keys(def.reasons ?? {})));
  });

  it('declares every code its check reports, and no other', () => {
    expect(emitted.configCodes).toEqual(sorted(Object.keys(def.configCodes ?? {})));
  });

  it('has an invalid port when it declares reason codes', () => {
    if (Object.keys(def.reasons ?? {}).length) expect(portsOf(def, def.examples?.[0]?.with ?? {})).toContain('invalid');
  });

  it('documents them in docs/error-codes.md', () => {
    const tables = docTables(CODES_DOC, `### ${def.kind} \`${def.name}\``);
    expect(sorted(tables.get('reason code') ?? [])).toEqual(sorted(Object.keys(def.reasons ?? {})));
    expect(sorted(tables.get('check code') ?? [])).toEqual(sorted(Object.keys(def.configCodes ?? {})));
  });

  it('lists them in `sluice plugins NAME`', () => {
    const text = pluginReference(def);
    for (const code of [...Object.keys(def.reasons ?? {}), ...Object.keys(def.configCodes ?? {})]) expect(text).toContain(`  ${code}  `);
  });
});

describe('the scan of the sources', () => {
  it('reads the codes of each kind of call (a literal, a choice of literals, the proxy-log table)', () => {
    expect(emittedBy('plugins/source/file').reasons).toEqual(['GZIP_CORRUPT', 'LINE_TOO_LONG', 'READ_ERROR']);
    const proxyLog = emittedBy('plugins/transform/proxy-log');
    expect(proxyLog.reasons).toContain('PARSE_QUOTE');
    expect(proxyLog.unread).toEqual(['res.code']); // a ParseError's code: one of the table's
    expect(emittedBy('plugins/analyse/window').configCodes).toContain('LOGIC_BAD_CIDR');
  });

  it('docs/formats.md lists the reason codes proxy-log declares', () => {
    const proxyLog = builtinPlugins.find((p) => p.name === 'proxy-log')!;
    expect(sorted(docTables(read('docs/formats.md'), '### Reason codes').get('code') ?? [])).toEqual(sorted(Object.keys(proxyLog.reasons ?? {})));
  });
});

describe("a plugin's own code", () => {
  it('reaches the user beside SLUICE_E_CONFIG_CHECK instead of being dropped', async () => {
    const { spec, issues } = await loadSpec('codes.yaml', {
      registry: builtinRegistry(),
      text: `version: 1
nodes:
  src: { source: file, with: { paths: [x] } }
  d: { transform: drop, from: src, with: { fields: ["a..b"] } }
  out: { sink: stdout, from: [d, src.invalid] }
`,
    });
    expect(spec).toBeUndefined();
    const i = issues.find((x) => x.code === 'SLUICE_E_CONFIG_CHECK')!;
    expect(i.reason).toBe('FIELD_PATH');
    expect(formatIssue(i)).toMatch(/^codes\.yaml:4:\d+ SLUICE_E_CONFIG_CHECK\/FIELD_PATH cannot drop 'a\.\.b' has an empty segment/);
  });
});
