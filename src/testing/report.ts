/** The text `sluice test` prints: one line per test, a diff under each failure, a summary line. */
import { relative } from 'node:path';
import type { TestResult, Detail } from './run.js';
import { show } from './match.js';

export interface Style {
  ok(s: string): string;
  fail(s: string): string;
  dim(s: string): string;
}

export const plainStyle: Style = { ok: (s) => s, fail: (s) => s, dim: (s) => s };

/** ANSI colours, for a terminal only (the CLI checks `isTTY` and `NO_COLOR`). */
export const colourStyle: Style = {
  ok: (s) => `\x1b[32m${s}\x1b[39m`,
  fail: (s) => `\x1b[31m${s}\x1b[39m`,
  dim: (s) => `\x1b[2m${s}\x1b[22m`,
};

export const rel = (f: string) => {
  const r = relative(process.cwd(), f);
  return r && !r.startsWith('..') ? r : f;
};

const ms = (n: number) => (n < 1000 ? `${n} ms` : `${(n / 1000).toFixed(2)} s`);

function detailLines(d: Detail): string[] {
  if (d.kind === 'text') return [d.value === undefined ? d.label : `${d.label} ${show(d.value, 400)}`];
  const lines = [`${d.label}:`];
  for (const f of d.diffs) {
    const at = f.path || '(the record)';
    if (f.kind === 'missing') lines.push(`  ${at}: missing; expected ${show(f.expected)}`);
    else if (f.kind === 'unexpected') lines.push(`  ${at}: not expected; got ${show(f.actual)}`);
    else lines.push(`  ${at}:`, `    expected: ${show(f.expected)}`, `    got:      ${show(f.actual)}`);
  }
  return lines;
}

/** The lines of one test's result. */
export function formatResult(r: TestResult, style: Style = plainStyle): string {
  const head = r.ok
    ? `  ${style.ok('ok  ')} ${r.test.name} ${style.dim(`(${ms(r.elapsedMs)})`)}`
    : `  ${style.fail('FAIL')} ${r.test.name} ${style.dim(`(${ms(r.elapsedMs)})`)}`;
  if (r.ok) return head;
  const pad = '       ';
  const lines = [head, `${pad}${style.dim(`at ${rel(r.test.file)}:${r.test.line}`)}`];
  if (r.error !== undefined) lines.push(`${pad}the pipeline failed: ${r.error}`);
  for (const f of r.failures) {
    lines.push(`${pad}${f.ref}: ${f.summary}`);
    for (const d of f.details) for (const l of detailLines(d)) lines.push(`${pad}  ${l}`);
  }
  return lines.join('\n');
}

export interface Totals {
  passed: number;
  failed: number;
  pipelines: number;
  /** Spec or test files that could not be used. */
  broken: number;
  filteredOut: number;
  elapsedMs: number;
}

export function formatSummary(t: Totals, style: Style = plainStyle): string {
  const parts: string[] = [];
  if (t.failed) parts.push(style.fail(`${t.failed} failed`));
  parts.push(t.failed ? `${t.passed} passed` : style.ok(`${t.passed} passed`));
  if (t.filteredOut) parts.push(`${t.filteredOut} filtered out`);
  const total = t.passed + t.failed;
  let s = `tests: ${parts.join(', ')}, ${total} total (${t.pipelines} pipeline${t.pipelines === 1 ? '' : 's'}`;
  if (t.broken) s += `, ${style.fail(`${t.broken} with errors`)}`;
  return `${s}) in ${ms(t.elapsedMs)}`;
}

/** `--show`: what each expectation looked at, one JSON record per line. */
export function formatCaptured(r: TestResult, style: Style = plainStyle): string {
  const lines: string[] = [];
  for (const [ref, recs] of r.captured) {
    lines.push(`       ${style.dim(`${ref}: ${recs.length} record${recs.length === 1 ? '' : 's'}`)}`);
    for (const rec of recs) lines.push(`         ${JSON.stringify(rec)}`);
  }
  return lines.join('\n');
}
