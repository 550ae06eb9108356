/**
 * `rules`: analysts' own detections. Each rule is a json-logic condition over a record; every record
 * that matches a rule yields one alert carrying the record's fields and the rule's. Records pass
 * through unchanged on `out`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { definePlugin, compileLogic, type Rec, type ConfigIssue, type CompiledLogic } from '../../../src/api.js';
import { checkLogicRule, prepareLogicRule, type ListDecls, LOGIC_CODES } from '../../../src/internal.js';

export type SeverityLabel = 'low' | 'medium' | 'high' | 'critical';

/** ECS `event.severity` is numeric; these are the risk scores Elastic detection rules use for the labels. */
export const SEVERITY_SCORE: Readonly<Record<SeverityLabel, number>> = { low: 21, medium: 47, high: 73, critical: 99 };

export interface RuleConfig {
  name: string;
  description?: string;
  when: unknown;
  severity: SeverityLabel;
  tags: string[];
}

export interface RulesConfig {
  rules: RuleConfig[];
  lists: Record<string, string>;
}

const RULE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'when'],
  description: 'One detection rule.',
  properties: {
    name: { type: 'string', minLength: 1, description: 'Rule name; alerts carry it as `rule.name`. Unique within the node.', examples: ['raw-ip-executable'] },
    description: { type: 'string', description: 'What the rule detects; alerts carry it as `rule.description`.' },
    when: {
      description:
        'json-logic condition over the record (ECS field names with `var`, e.g. `{"var": "url.domain"}`). See docs/rules.md for the operations available.',
      examples: [{ '>': [{ var: 'http.request.bytes' }, 1000000] }],
    },
    severity: {
      enum: ['low', 'medium', 'high', 'critical'],
      default: 'medium',
      description:
        'Severity label, kept as `rule.severity`; alerts carry the matching ECS score in `event.severity` (low 21, medium 47, high 73, critical 99).',
    },
    tags: { type: 'array', items: { type: 'string' }, default: [], description: "Tags added to the alert's `tags` (after the record's own)." },
  },
};

export default definePlugin<RulesConfig>({
  name: 'rules',
  kind: 'analyse',
  summary: 'Raise an alert for every record that matches an analyst-written json-logic rule.',
  configCodes: {
    RULE_DUPLICATE: 'two rules of the node have the same name',
    LIST_NOT_FOUND: 'a file named under `lists:` does not exist',
    ...LOGIC_CODES,
  },
  description: [
    'Every input record passes through on `out`. For each rule it matches, one alert goes to `alerts`:',
    "the record's fields plus `event.kind: alert`, `event.severity` (numeric), `rule.name`,",
    '`rule.description`, `rule.severity` (label), `rule.ruleset` (the node name) and `tags`.',
    'Rules are validated and compiled once; besides the standard json-logic operations they may use',
    '`cidr_match`, `is_ip`, `starts_with`, `ends_with`, `lower`, `file_extension` and `in_list`',
    '(docs/rules.md). Lists for `in_list` are declared under `lists:` and loaded once at start-up.',
  ].join('\n'),
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['rules'],
    properties: {
      rules: { type: 'array', minItems: 1, items: RULE_SCHEMA, description: 'The rules, evaluated in order against every record.' },
      lists: {
        type: 'object',
        additionalProperties: { type: 'string', minLength: 1 },
        default: {},
        description: 'Named lists for `in_list`: name → file with one entry per line (`#` comments). Paths are relative to the working directory.',
        examples: [{ executables: 'examples/lists/executable-extensions.txt' }],
      },
    },
  },
  ports: ['out', 'alerts'],
  parallel: 'any',
  examples: [
    {
      title: 'Executable fetched from a raw IP address',
      with: {
        lists: { executables: 'examples/lists/executable-extensions.txt' },
        rules: [
          {
            name: 'raw-ip-executable',
            description: 'Executable download from a URL whose host is an IP address',
            severity: 'high',
            tags: ['malware-delivery'],
            when: { and: [{ is_ip: { var: 'url.domain' } }, { in_list: [{ file_extension: { var: 'url.path' } }, 'executables'] }] },
          },
        ],
      },
    },
  ],
  check(config) {
    const issues: ConfigIssue[] = [];
    const seen = new Map<string, number>();
    const lists: ListDecls = config.lists ?? {};
    config.rules.forEach((rule, i) => {
      const prev = seen.get(rule.name);
      if (prev !== undefined)
        issues.push({
          path: `/rules/${i}/name`,
          code: 'RULE_DUPLICATE',
          message: `rule name '${rule.name}' is already used by rules[${prev}]`,
          hint: 'rule names must be unique within a node',
        });
      else seen.set(rule.name, i);
      issues.push(...checkLogicRule(rule.when, `/rules/${i}/when`, lists));
    });
    for (const [name, path] of Object.entries(lists)) {
      if (!existsSyncSafe(path)) issues.push({ path: `/lists/${escapePointer(name)}`, code: 'LIST_NOT_FOUND', message: `list file '${path}' does not exist` });
    }
    return issues;
  },
  create(config, ctx) {
    const n = config.rules.length;
    const tests: CompiledLogic[] = new Array(n);
    const ruleFields: Rec[] = new Array(n);
    const severities: number[] = new Array(n);
    const tags: string[][] = new Array(n);
    const names: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const r = config.rules[i]!;
      tests[i] = compileLogic(prepareLogicRule(r.when, config.lists, ctx.resolvePath));
      const rule: Rec = { name: r.name, ruleset: ctx.node, severity: r.severity };
      if (r.description !== undefined) rule.description = r.description;
      ruleFields[i] = Object.freeze(rule);
      severities[i] = SEVERITY_SCORE[r.severity];
      tags[i] = r.tags;
      names[i] = r.name;
    }
    const matched = new Array<number>(n).fill(0);
    const failed = new Array<number>(n).fill(0);
    const warned = new Array<boolean>(n).fill(false);

    return {
      process(records: Rec[]) {
        const alerts: Rec[] = [];
        for (let r = 0; r < records.length; r++) {
          const rec = records[r]!;
          for (let i = 0; i < n; i++) {
            let hit: boolean;
            try {
              hit = tests[i]!.test(rec);
            } catch (err) {
              // Operations do not throw on record data; a library operation might. Count and say so once.
              failed[i]!++;
              if (!warned[i]) {
                warned[i] = true;
                ctx.logger.warn({ rule: names[i], err: (err as Error).message }, 'rule evaluation failed; treated as no match');
              }
              continue;
            }
            if (hit) {
              matched[i]!++;
              alerts.push(makeAlert(rec, ruleFields[i]!, severities[i]!, tags[i]!));
            }
          }
        }
        for (let i = 0; i < n; i++) {
          if (matched[i]) {
            ctx.metrics.add(`alerts.${names[i]}`, matched[i]);
            ctx.metrics.add('alerts', matched[i]);
            matched[i] = 0;
          }
          if (failed[i]) {
            ctx.metrics.add(`errors.${names[i]}`, failed[i]);
            failed[i] = 0;
          }
        }
        return { out: records, alerts };
      },
    };
  },
});

/** The record's fields plus the rule's; the input record itself is left untouched (it also goes to `out`). */
function makeAlert(rec: Rec, rule: Rec, severity: number, ruleTags: readonly string[]): Rec {
  const alert: Rec = { ...rec };
  const ev = rec.event;
  alert.event = ev !== null && typeof ev === 'object' && !Array.isArray(ev) ? { ...ev, kind: 'alert', severity } : { kind: 'alert', severity };
  alert.rule = { ...rule };
  if (alert['@timestamp'] === undefined) alert['@timestamp'] = new Date().toISOString();
  const own = rec.tags;
  if (Array.isArray(own) && own.length) {
    const merged = own.slice();
    for (const t of ruleTags) if (!merged.includes(t)) merged.push(t);
    alert.tags = merged;
  } else if (ruleTags.length) {
    alert.tags = ruleTags.slice();
  }
  return alert;
}

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

function existsSyncSafe(p: string): boolean {
  try {
    return existsSync(resolve(p));
  } catch {
    return false;
  }
}
