/**
 * `set`: add or overwrite fields with values computed by json-logic (or constants).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { definePlugin, compileLogic, makeInvalid, type Rec, type ConfigIssue, type CompiledLogic } from '../../../src/api.js';
import { checkLogicRule, prepareLogicRule, CowPaths, pathProblem, LOGIC_CODES } from '../../../src/internal.js';

export interface SetConfig {
  fields: Record<string, unknown>;
  lists: Record<string, string>;
}

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

export default definePlugin<SetConfig>({
  name: 'set',
  kind: 'transform',
  summary: 'Add or overwrite fields with values computed by json-logic expressions.',
  reasons: {
    SET_EVAL_ERROR: 'evaluating an expression failed for this record',
  },
  configCodes: {
    FIELD_PATH: 'a field path is empty, has an empty segment, or names a prototype property',
    LIST_NOT_FOUND: 'a file named under `lists:` does not exist',
    ...LOGIC_CODES,
  },
  description: [
    'Each entry of `fields` maps a dotted field path to a json-logic expression (or a plain constant),',
    'evaluated against the record in the order written, so a later field can read an earlier one.',
    'The input record is never modified: the output is a copy sharing every object the node did not',
    'change, so other branches of a fan-out still see the original. A record whose expression fails',
    'goes to `invalid` with reason `SET_EVAL_ERROR` (the custom operations never fail on data).',
  ].join('\n'),
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['fields'],
    properties: {
      fields: {
        type: 'object',
        minProperties: 1,
        description: 'Field path → json-logic expression or constant, e.g. `labels.big: {">": [{var: http.request.bytes}, 1000000]}`.',
        additionalProperties: { description: 'A json-logic expression (an object with one operation key) or a constant.' },
        examples: [{ 'labels.big_upload': { '>': [{ var: 'http.request.bytes' }, 1000000] } }],
      },
      lists: {
        type: 'object',
        additionalProperties: { type: 'string', minLength: 1 },
        default: {},
        description: 'Named lists for `in_list`: name → file with one entry per line. Paths are relative to the working directory.',
      },
    },
  },
  ports: ['out', 'invalid'],
  parallel: 'any',
  examples: [
    { title: 'Flag large uploads', with: { fields: { 'labels.big_upload': { '>': [{ var: 'http.request.bytes' }, 1000000] } } } },
    {
      title: 'Lower-case host and file extension',
      with: { fields: { 'url.domain': { lower: { var: 'url.domain' } }, 'url.extension': { file_extension: { var: 'url.path' } } } },
    },
  ],
  check(config) {
    const issues: ConfigIssue[] = [];
    for (const [path, expr] of Object.entries(config.fields)) {
      const where = `/fields/${escapePointer(path)}`;
      const problem = pathProblem(path);
      if (problem) issues.push({ path: where, code: 'FIELD_PATH', message: `cannot set ${problem}` });
      issues.push(...checkLogicRule(expr, where, config.lists ?? {}));
    }
    for (const [name, p] of Object.entries(config.lists ?? {})) {
      if (!existsSync(resolve(p))) issues.push({ path: `/lists/${escapePointer(name)}`, code: 'LIST_NOT_FOUND', message: `list file '${p}' does not exist` });
    }
    return issues;
  },
  create(config, ctx) {
    const paths = Object.keys(config.fields);
    const exprs: CompiledLogic[] = paths.map((p) => compileLogic(prepareLogicRule(config.fields[p], config.lists, ctx.resolvePath)));
    const cow = new CowPaths(paths);
    const n = paths.length;
    return {
      process(records: Rec[]) {
        const out: Rec[] = new Array(records.length);
        let kept = 0;
        let invalid: Rec[] | undefined;
        for (let r = 0; r < records.length; r++) {
          const rec = records[r]!;
          cow.begin(rec);
          try {
            for (let i = 0; i < n; i++) {
              const v = exprs[i]!.evaluate(cow.result());
              cow.set(i, v === undefined ? null : v);
            }
          } catch (err) {
            (invalid ??= []).push(makeInvalid(ctx.node, rec.origin, 'SET_EVAL_ERROR', `set: ${(err as Error).message}`, safeJson(rec)));
            continue;
          }
          out[kept++] = cow.result();
        }
        out.length = kept;
        if (invalid) ctx.metrics.add('invalid', invalid.length);
        return invalid ? { out, invalid } : { out };
      },
    };
  },
});

function safeJson(rec: Rec): string {
  try {
    return JSON.stringify(rec);
  } catch {
    return String(rec);
  }
}
