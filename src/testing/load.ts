/**
 * Find and check the tests of a pipeline: the spec's own `tests:` list and the side file
 * `NAME.test.yaml` beside `NAME.yaml`. Every problem (YAML, schema, a node or port that does not
 * exist, a condition that is not json-logic, two tests of one name) is collected with its file and
 * `line:col`, as the spec compiler does for specs, before any test runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseDocument, LineCounter, type Document } from 'yaml';
import type { SpecIssue } from '../errors.js';
import type { CompiledSpec } from '../graph/build.js';
import { parseRef } from '../graph/build.js';
import type { Registry } from '../plugins/registry.js';
import { loadSpec } from '../spec/validate.js';
import { interpolateDocument } from '../spec/interpolate.js';
import { locate, pointerToSegments } from '../spec/positions.js';
import { compileOwnSchema, type ValidateFn } from '../spec/ajv.js';
import { testFileSchema } from '../spec/test-schema.js';
import { compileLogic, validateLogic, type CompiledLogic } from '../logic/index.js';
import '../logic/operations.js'; // the operations the built-ins add (cidr_match, is_ip, lower, ...)
import { suggest } from '../util/suggest.js';
import type { Rec } from '../record.js';

/** What enters the pipeline for one test. */
export interface TestInput {
  /** The node that receives it. */
  at: string;
  lines?: string[];
  file: string;
  firstLine: number;
  records?: Rec[];
  repeat: number;
  /** Kafka origins for the lines (`{topic, partition, offset}`) instead of file ones. */
  kafka?: { topic: string; partition: number; firstOffset: number };
}

/** What one node or port must have emitted. */
export interface Expectation {
  /** As written: `sweep.alerts`, `parse`, `alerts` (a sink). */
  ref: string;
  node: string;
  /** The port; undefined for a sink (what it received). */
  port?: string;
  count?: number;
  records?: unknown[];
  contains?: unknown[];
  exact: boolean;
  ordered: boolean;
  conditions: { rule: unknown; logic: CompiledLogic }[];
}

export interface TestCase {
  name: string;
  description?: string;
  inputs: TestInput[];
  expects: Expectation[];
  /** Where the test is written (for reports). */
  file: string;
  line: number;
}

export interface PipelineTests {
  specFile: string;
  /** The side file, when there is one. */
  testFile?: string;
  spec?: CompiledSpec;
  tests: TestCase[];
  /** Problems with the spec or its tests (errors make the file unusable: exit code 2). */
  issues: SpecIssue[];
}

const SIDE_SUFFIX = /\.test\.ya?ml$/;

/** What one command-line argument asks to run: a spec and which of its tests. */
export interface TestTarget {
  specFile: string;
  /** The side file to read, if any. */
  testFile?: string;
  /** Also the spec's own `tests:`. */
  inline: boolean;
}

/**
 * A spec `NAME.yaml` runs its own `tests:` and `NAME.test.yaml` beside it; a test file runs its
 * tests against its `spec:` (default: `NAME.yaml` beside it), and, when it is that spec's side
 * file, the spec's own tests too — so `sluice test pipelines/*.yaml`, which names both, runs each
 * pipeline once.
 */
export function targetOf(arg: string): TestTarget {
  if (!SIDE_SUFFIX.test(arg)) return { specFile: resolve(arg), testFile: sideFileOf(resolve(arg)), inline: true };
  let specFile = siblingSpec(resolve(arg));
  try {
    const js = parseDocument(readFileSync(arg, 'utf8')).toJS() as { spec?: unknown } | null;
    if (js && typeof js.spec === 'string') specFile = resolve(dirname(arg), js.spec);
  } catch {
    /* reported when the file is loaded */
  }
  const own = sideFileOf(specFile) === resolve(arg);
  return { specFile, testFile: resolve(arg), inline: own };
}

function siblingSpec(testFile: string): string {
  const stem = testFile.replace(SIDE_SUFFIX, '');
  return existsSync(`${stem}.yml`) && !existsSync(`${stem}.yaml`) ? `${stem}.yml` : `${stem}.yaml`;
}

/** `NAME.test.yaml` (or `.yml`) beside `NAME.yaml`, when it exists. */
export function sideFileOf(specFile: string): string | undefined {
  const stem = specFile.replace(/\.ya?ml$/, '');
  for (const f of [`${stem}.test.yaml`, `${stem}.test.yml`]) if (existsSync(f)) return f;
  return undefined;
}

/** A key per target: targets naming the same spec and tests run once. */
export function targetKey(t: TestTarget): string {
  return `${t.specFile}\u0000${t.testFile ?? ''}\u0000${t.inline}`;
}

let fileValidator: ValidateFn | undefined;

class Located {
  readonly lc = new LineCounter();
  readonly doc: Document;
  constructor(
    readonly file: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lc, prettyErrors: false, uniqueKeys: true });
  }
  issue(segments: readonly (string | number)[], message: string, hint?: string, atKey = false): SpecIssue {
    const pos = locate(this.doc, this.lc, segments, atKey);
    return {
      code: 'SLUICE_E_TEST',
      message,
      path: segments.length ? '/' + segments.map((s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('/') : '',
      file: this.file,
      line: pos.line,
      col: pos.col,
      hint,
      severity: 'error',
    };
  }
}

/**
 * Load a spec and the tests a target names (`targetOf`): the side file's and, when `inline`, the
 * spec's own `tests:`.
 */
export async function loadPipelineTests(target: TestTarget, opts: { vars?: Record<string, string>; registry: Registry }): Promise<PipelineTests> {
  const issues: SpecIssue[] = [];
  const { specFile, testFile } = target;
  let side: { located: Located; js: any } | undefined;
  let fileVars: Record<string, string> = {};

  if (testFile) {
    let text: string;
    try {
      text = readFileSync(testFile, 'utf8');
    } catch (err) {
      return {
        specFile,
        testFile,
        tests: [],
        issues: [
          { code: 'SLUICE_E_FILE', message: `cannot read tests: ${(err as Error).message}`, path: '', file: testFile, line: 1, col: 1, severity: 'error' },
        ],
      };
    }
    const located = new Located(testFile, text);
    for (const e of located.doc.errors) {
      const p = located.lc.linePos(e.pos[0]);
      issues.push({ code: 'SLUICE_E_YAML', message: e.message.split('\n')[0]!, path: '', file: testFile, line: p.line, col: p.col, severity: 'error' });
    }
    if (!located.doc.errors.length) {
      const js = located.doc.toJS({ maxAliasCount: 100 });
      const validate = (fileValidator ??= compileOwnSchema(testFileSchema()));
      if (!validate(js)) issues.push(...schemaIssues(located, [], validate.errors ?? []));
      else {
        side = { located, js };
        if (js.vars) fileVars = Object.fromEntries(Object.entries(js.vars as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
      }
    }
  }

  const vars = { ...fileVars, ...(opts.vars ?? {}) };
  const loaded = await loadSpec(specFile, { vars, registry: opts.registry });
  issues.push(...loaded.issues);
  const spec = loaded.spec;
  if (!spec) return { specFile, testFile, tests: [], issues };

  const tests: TestCase[] = [];
  const names = new Map<string, string>();
  const take = (located: Located, list: unknown[], base: (string | number)[]) => {
    list.forEach((raw, i) => {
      const t = compileTest(located, spec, raw as any, [...base, i], issues);
      if (!t) return;
      const where = `${t.file}:${t.line}`;
      const before = names.get(t.name);
      if (before)
        issues.push(
          located.issue([...base, i, 'name'], `two tests are named '${t.name}' (the other at ${before})`, 'give every test of a pipeline its own name'),
        );
      else names.set(t.name, where);
      tests.push(t);
    });
  };

  // The spec's own tests: read again from its text with the same variables (loadSpec validated them
  // against the pipeline schema already), so that problems can be located in it.
  if (target.inline) {
    const inSpec = new Located(specFile, readFileSync(specFile, 'utf8'));
    interpolateDocument(inSpec.doc, { ...process.env, ...vars });
    const specJs = inSpec.doc.toJS({ maxAliasCount: 100 }) as { tests?: unknown[] } | null;
    if (Array.isArray(specJs?.tests)) take(inSpec, specJs.tests, ['tests']);
  }
  if (side) take(side.located, side.js.tests, ['tests']);

  return { specFile, testFile, spec, tests, issues };
}

function schemaIssues(
  located: Located,
  base: (string | number)[],
  errors: { instancePath: string; keyword: string; message?: string; params: any }[],
): SpecIssue[] {
  const out: SpecIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if') continue;
    const segs = [...base, ...pointerToSegments(e.instancePath)];
    let message = e.message ?? e.keyword;
    let atKey = false;
    if (e.keyword === 'additionalProperties') {
      segs.push(String(e.params.additionalProperty));
      message = `unknown key '${e.params.additionalProperty}'`;
      atKey = true;
    } else if (e.keyword === 'required') message = `missing required key '${e.params.missingProperty}'`;
    const id = `${segs.join('/')}:${message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const where = segs.length ? `'${segs[segs.length - 1]}' ` : '';
    out.push(located.issue(segs, atKey ? message : `${where}${message}`, undefined, atKey));
  }
  return out;
}

/** Check one test against the compiled spec; undefined (with issues) when it cannot run. */
function compileTest(located: Located, spec: CompiledSpec, raw: any, at: (string | number)[], issues: SpecIssue[]): TestCase | undefined {
  const before = issues.length;
  const nodeNames = [...spec.nodes.keys()];
  const sources = nodeNames.filter((n) => spec.nodes.get(n)!.kind === 'source');
  const unknownNode = (name: string, segs: (string | number)[], what: string) => {
    const s = suggest(name, nodeNames);
    issues.push(
      located.issue(segs, `${what} '${name}' is not a node of ${basename(spec.file)}`, s ? `did you mean '${s}'?` : `nodes: ${nodeNames.join(', ')}`),
    );
  };

  const rawInputs: any[] = Array.isArray(raw.input) ? raw.input : [raw.input];
  const inputs: TestInput[] = [];
  rawInputs.forEach((inp, i) => {
    const segs = Array.isArray(raw.input) ? [...at, 'input', i] : [...at, 'input'];
    let node: string | undefined = inp.at;
    if (node === undefined) {
      if (sources.length === 1) node = sources[0]!;
      else {
        issues.push(located.issue(segs, `the pipeline has ${sources.length} sources: say which one receives this input`, `add at: ${sources.join(' | ')}`));
        return;
      }
    } else if (!spec.nodes.has(node)) {
      unknownNode(node, [...segs, 'at'], 'input at');
      return;
    } else if (spec.nodes.get(node)!.kind === 'sink') {
      issues.push(
        located.issue(
          [...segs, 'at'],
          `input at '${node}': a sink emits nothing, so input there reaches no expectation`,
          'give the input to a source, transform or analyser',
        ),
      );
      return;
    }
    if (inp.lines) {
      const bad = (inp.lines as string[]).findIndex((l) => l.includes('\n'));
      if (bad !== -1) {
        issues.push(located.issue([...segs, 'lines', bad], 'a line cannot contain a line break', 'write each line as its own list item'));
        return;
      }
    }
    inputs.push({
      at: node,
      lines: inp.lines,
      records: inp.records,
      file: inp.file ?? 'test.log',
      firstLine: inp.first_line ?? 1,
      repeat: inp.repeat ?? 1,
      kafka: inp.topic === undefined ? undefined : { topic: inp.topic, partition: inp.partition ?? 0, firstOffset: inp.first_offset ?? 0 },
    });
  });

  const expects: Expectation[] = [];
  for (const [ref, e] of Object.entries(raw.expect as Record<string, any>)) {
    const segs = [...at, 'expect', ref];
    const { node, port } = parseRef(ref);
    const n = spec.nodes.get(node);
    if (!n) {
      unknownNode(node, segs, 'expectation for');
      continue;
    }
    let p: string | undefined = port;
    if (n.kind === 'sink') {
      if (ref.includes('.')) {
        issues.push(located.issue(segs, `'${node}' is a sink: it has no ports`, `write '${node}' for the records it received`, true));
        continue;
      }
      p = undefined;
    } else if (!n.ports.includes(port)) {
      const s = suggest(port, n.ports as string[]);
      issues.push(
        located.issue(
          segs,
          `'${node}' has no output port '${port}'`,
          `${s ? `did you mean '${node}.${s}'? ` : ''}'${node}' (${n.kind} ${n.plugin.def.name}) emits: ${n.ports.join(', ')}`,
          true,
        ),
      );
      continue;
    }
    const conditions: Expectation['conditions'] = [];
    ((e.conditions ?? []) as unknown[]).forEach((rule, i) => {
      const problems = validateLogic(rule);
      if (problems.length) {
        for (const pr of problems) issues.push(located.issue([...segs, 'conditions', i, ...pointerToSegments(pr.path)], `condition: ${pr.message}`));
        return;
      }
      conditions.push({ rule, logic: compileLogic(rule) });
    });
    expects.push({
      ref,
      node,
      port: p,
      count: e.count,
      records: e.records,
      contains: e.contains,
      exact: e.exact ?? false,
      ordered: e.ordered ?? false,
      conditions,
    });
  }
  if (issues.length > before) return undefined;
  const pos = locate(located.doc, located.lc, at);
  return { name: raw.name, description: raw.description, inputs, expects, file: located.file, line: pos.line };
}
