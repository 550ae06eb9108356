/**
 * Compile a spec file into a validated pipeline, collecting every problem before giving up.
 * Phases: YAML syntax → interpolation → pipeline schema → plugin modules → each node's `with:`
 * against its plugin's schema and the plugin's own checks → graph (`src/graph/build.ts`: refs,
 * ports, cycles, inputs, consumers), whose problems are located here. A node whose YAML is broken
 * is skipped by the later phases rather than reported twice.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Document, Node as YamlNode } from 'yaml';
import { parseDocument, LineCounter } from './yaml.js';
import { PLUGIN_KINDS } from '../api.js';
import type { ConfigIssue, ErrorCode, SpecIssue } from '../errors.js';
import { compileOwnSchema, type AjvError, type ValidateFn } from './ajv.js';
import { baseSchema } from './pipeline-schema.js';
import { interpolateDocument } from './interpolate.js';
import { secretValues } from './secrets.js';
import { redact } from '../util/redact.js';
import { locate, offsetToPosition, pointerToSegments, segmentsToPointer } from './positions.js';
import { loadPluginModule, type Registry } from '../plugins/registry.js';
import { buildGraph, nodeLinks, type CompiledNode, type CompiledSpec, type PipelineSettings } from '../graph/build.js';
import { suggest } from '../util/suggest.js';
import { parseDuration } from '../util/duration.js';
import { deepFreeze } from '../util/freeze.js';

export interface LoadOptions {
  vars?: Record<string, string | undefined>;
  registry: Registry;
  /** Spec text instead of reading `file` (tests). */
  text?: string;
}

export interface LoadResult {
  spec?: CompiledSpec;
  issues: SpecIssue[];
}

let baseValidator: ValidateFn | undefined;
/** The pipeline schema's validator, compiled on the first spec load (worker threads never load one). */
const pipelineValidator = (): ValidateFn => (baseValidator ??= compileOwnSchema(baseSchema()));

class IssueCollector {
  readonly issues: SpecIssue[] = [];
  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lc: LineCounter,
    private secrets: string[],
  ) {}

  setSecrets(s: string[]): void {
    this.secrets = s;
  }

  /** Report at a spec path; `reason` is a plugin's own code for a `SLUICE_E_CONFIG_CHECK` problem. */
  at(
    code: ErrorCode,
    segments: readonly (string | number)[],
    message: string,
    hint?: string,
    atKey = false,
    severity: 'error' | 'warning' = 'error',
    reason?: string,
  ): void {
    const pos = locate(this.doc, this.lc, segments, atKey);
    this.push(code, segments, pos.line, pos.col, message, hint, severity, reason);
  }

  atOffset(code: ErrorCode, offset: number, message: string, hint?: string): void {
    const pos = offsetToPosition(this.lc, offset);
    this.push(code, [], pos.line, pos.col, message, hint, 'error');
  }

  private push(
    code: ErrorCode,
    segments: readonly (string | number)[],
    line: number,
    col: number,
    message: string,
    hint: string | undefined,
    severity: 'error' | 'warning',
    reason?: string,
  ): void {
    const issue: SpecIssue = {
      code,
      message: redact(message, this.secrets),
      path: segmentsToPointer(segments),
      file: this.file,
      line,
      col,
      hint: hint === undefined ? undefined : redact(hint, this.secrets),
      severity,
    };
    if (reason !== undefined) issue.reason = reason;
    this.issues.push(issue);
  }
}

/** Which top-level nodes contain a YAML error, so later phases leave them alone. */
function brokenNodes(doc: Document, errorOffsets: number[]): Set<string> {
  const broken = new Set<string>();
  const nodes = doc.get('nodes', true) as any;
  if (!nodes?.items) return broken;
  for (const pair of nodes.items) {
    const start = (pair.key as YamlNode | null)?.range?.[0];
    const end = (pair.value as YamlNode | null)?.range?.[2] ?? (pair.key as YamlNode | null)?.range?.[2];
    if (start === undefined || end === undefined) continue;
    if (errorOffsets.some((o) => o >= start && o <= end)) broken.add(String(pair.key?.value ?? pair.key));
  }
  return broken;
}

function ajvIssues(c: IssueCollector, base: (string | number)[], errors: AjvError[] | null | undefined, schema: any, skip?: (segs: string[]) => boolean): void {
  if (!errors) return;
  const seen = new Set<string>();
  for (const e of errors) {
    const segs = [...base, ...pointerToSegments(e.instancePath)];
    if (skip?.(segs.map(String))) continue;
    // oneOf/anyOf add a summary error after the branch errors; the branch errors say more.
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if') continue;
    if (e.keyword === 'additionalProperties') {
      const key = String(e.params.additionalProperty);
      const allowed = Object.keys(subSchemaAt(schema, pointerToSegments(e.instancePath))?.properties ?? {});
      const s = suggest(key, allowed);
      const id = `${segs.join('/')}/${key}:unknown`;
      if (seen.has(id)) continue;
      seen.add(id);
      c.at(
        'SLUICE_E_UNKNOWN_KEY',
        [...segs, key],
        `unknown key '${key}'`,
        s ? `did you mean '${s}'?` : allowed.length ? `allowed keys: ${allowed.join(', ')}` : undefined,
        true,
      );
      continue;
    }
    let message = e.message ?? e.keyword;
    if (e.keyword === 'enum') message += `: ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    if (e.keyword === 'required') {
      message = `missing required key '${e.params.missingProperty}'`;
    }
    const id = `${segs.join('/')}:${message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const where = segs.length ? segs[segs.length - 1] : '';
    c.at(base.length && segs.length > base.length ? 'SLUICE_E_CONFIG' : 'SLUICE_E_SCHEMA', segs, `${where !== '' ? `'${where}' ` : ''}${message}`);
  }
}

/** Follow `properties` / `items` / `additionalProperties` to the schema of a data path (for key hints). */
function subSchemaAt(schema: any, segs: string[]): any {
  let s = schema;
  for (const seg of segs) {
    if (!s) return undefined;
    if (s.properties?.[seg]) s = s.properties[seg];
    else if (s.items && /^\d+$/.test(seg)) s = Array.isArray(s.items) ? s.items[Number(seg)] : s.items;
    else if (s.additionalProperties && typeof s.additionalProperties === 'object') s = s.additionalProperties;
    else return undefined;
  }
  return s;
}

export async function loadSpec(file: string, opts: LoadOptions): Promise<LoadResult> {
  let text = opts.text;
  if (text === undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      return {
        issues: [{ code: 'SLUICE_E_FILE', message: `cannot read spec: ${(err as Error).message}`, path: '', file, line: 1, col: 1, severity: 'error' }],
      };
    }
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const c = new IssueCollector(file, doc, lc, []);

  // Phase 1: YAML syntax.
  const errorOffsets: number[] = [];
  for (const e of doc.errors) {
    // yaml may point at the start of the line; the mistake is where its text starts.
    let at = e.pos[0];
    while (text[at] === ' ') at++;
    errorOffsets.push(at);
    c.atOffset('SLUICE_E_YAML', at, e.message.split('\n')[0]!, yamlHint(e.code));
  }
  const broken = brokenNodes(doc, errorOffsets);

  // Phase 1b: interpolation.
  const vars = { ...process.env, ...(opts.vars ?? {}) };
  const interp = interpolateDocument(doc, vars);
  c.setSecrets(interp.secrets);
  for (const p of interp.problems) {
    c.atOffset(
      'SLUICE_E_INTERPOLATION',
      p.offset,
      `\${${p.name}} is not set and has no default`,
      `set it in the environment, pass --var ${p.name}=VALUE, or write \${${p.name}:-default}`,
    );
  }

  const js = doc.toJS({ maxAliasCount: 100 }) as any;
  if (js === null || typeof js !== 'object' || Array.isArray(js)) {
    if (!doc.errors.length) c.at('SLUICE_E_SCHEMA', [], 'a pipeline spec is a YAML mapping with version: and nodes:');
    return { issues: c.issues };
  }

  // Phase 2: the pipeline schema (structure only; plugin configs come next).
  const skipBroken = (segs: string[]) => segs[0] === 'nodes' && segs[1] !== undefined && broken.has(segs[1]);
  const validateBase = pipelineValidator();
  if (!validateBase(js)) ajvIssues(c, [], validateBase.errors, baseSchema(), skipBroken);

  const w = js.settings?.workers;
  const settings: PipelineSettings = {
    queueBatches: js.settings?.queue_batches ?? 8,
    flushIntervalMs: 250,
    retryMaxDelayMs: 5000,
    workers: typeof w === 'number' && w >= 1 ? w : 'auto',
  };
  try {
    settings.flushIntervalMs = parseDuration(js.settings?.flush_interval ?? '250ms');
  } catch (err) {
    c.at('SLUICE_E_SCHEMA', ['settings', 'flush_interval'], (err as Error).message);
  }
  try {
    settings.retryMaxDelayMs = parseDuration(js.settings?.retry_max_delay ?? '5s');
    if (settings.retryMaxDelayMs <= 0) c.at('SLUICE_E_SCHEMA', ['settings', 'retry_max_delay'], 'retry_max_delay must be more than 0');
  } catch (err) {
    c.at('SLUICE_E_SCHEMA', ['settings', 'retry_max_delay'], (err as Error).message);
  }
  if (typeof js.schedule === 'string') {
    // node-cron loads only for a spec with a schedule (start-up time of every other run)
    const { validateCron } = await import('./cron.js');
    const why = validateCron(js.schedule);
    if (why) c.at('SLUICE_E_SCHEDULE', ['schedule'], why, "cron fields: [second] minute hour day-of-month month day-of-week, e.g. '*/5 * * * *'");
  }

  // Phase 3: plugin modules named by the spec, then every node's plugin and config.
  const registry = opts.registry;
  const plugins: unknown[] = Array.isArray(js.plugins) ? js.plugins : [];
  for (let i = 0; i < plugins.length; i++) {
    const spec = plugins[i];
    if (typeof spec !== 'string') continue;
    try {
      await loadPluginModule(registry, spec, file);
    } catch (err) {
      c.at('SLUICE_E_PLUGIN_LOAD', ['plugins', i], `cannot load plugin module '${spec}': ${(err as Error).message.split('\n')[0]}`);
    }
  }

  const nodes = new Map<string, CompiledNode>();
  const rawNodes: Record<string, any> = js.nodes && typeof js.nodes === 'object' && !Array.isArray(js.nodes) ? js.nodes : {};
  for (const [name, raw] of Object.entries(rawNodes)) {
    if (broken.has(name) || !raw || typeof raw !== 'object') continue;
    const kinds = PLUGIN_KINDS.filter((k) => raw[k] !== undefined);
    if (kinds.length !== 1) {
      c.at(
        'SLUICE_E_NODE_KIND',
        ['nodes', name],
        kinds.length ? `node '${name}' names several kinds (${kinds.join(', ')})` : `node '${name}' names no kind`,
        'write one of source: NAME, transform: NAME, analyse: NAME, sink: NAME',
      );
      continue;
    }
    const kind = kinds[0]!;
    const pluginName = raw[kind];
    if (typeof pluginName !== 'string') continue; // reported by the schema phase
    // a declared built-in's module loads here, when a spec first names it
    const plugin = await registry.load(kind, pluginName);
    if (!plugin) {
      const s = suggest(pluginName, registry.declaredNames(kind));
      const other = PLUGIN_KINDS.filter((k) => k !== kind && registry.has(k, pluginName));
      const hint = s
        ? `did you mean '${s}'?`
        : other.length
          ? `'${pluginName}' is a ${other.join('/')} plugin, not a ${kind}`
          : `${kind} plugins: ${registry.declaredNames(kind).join(', ')}`;
      c.at('SLUICE_E_UNKNOWN_PLUGIN', ['nodes', name, kind], `unknown ${kind} plugin '${pluginName}'`, hint);
      continue;
    }
    const config = structuredClone(raw.with ?? {});
    let configOk = true;
    // Values of `writeOnly` (secret) fields are redacted from everything printed from now on.
    for (const v of secretValues(plugin.def.schema, config)) if (!interp.secrets.includes(v)) interp.secrets.push(v);
    if (config === null || typeof config !== 'object' || Array.isArray(config)) {
      configOk = false; // the schema phase said so
    } else if (!plugin.validate(config)) {
      configOk = false;
      ajvIssues(c, ['nodes', name, 'with'], plugin.validate.errors, plugin.def.schema);
    } else if (plugin.def.check) {
      let problems: ConfigIssue[];
      try {
        problems = plugin.def.check(config);
      } catch (err) {
        problems = [{ path: '', message: (err as Error).message }];
      }
      for (const p of problems) {
        configOk = false;
        c.at('SLUICE_E_CONFIG_CHECK', ['nodes', name, 'with', ...pointerToSegments(p.path)], p.message, p.hint, false, 'error', p.code);
      }
    }
    const { inputs, ports } = nodeLinks(plugin.def, raw.from, configOk ? config : (raw.with ?? {}));
    nodes.set(name, { name, kind, plugin, config: configOk ? deepFreeze(config) : undefined, inputs, ports, description: raw.description });
  }

  // Phase 4: the graph.
  const order = buildGraph((...args) => c.at(...args), rawNodes, nodes, broken);

  const issues = c.issues.filter((i) => i.severity === 'error');
  const warnings = c.issues.filter((i) => i.severity === 'warning');
  if (issues.length) return { issues: c.issues };
  return {
    spec: {
      file,
      name: js.name ?? basename(file, extname(file)),
      description: js.description,
      schedule: js.schedule,
      settings,
      nodes,
      order,
      secrets: interp.secrets,
      warnings,
    },
    issues: warnings,
  };
}

function yamlHint(code: string): string | undefined {
  switch (code) {
    case 'BAD_INDENT':
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return 'check the indentation: keys of one mapping must start in the same column';
    case 'TAB_AS_INDENT':
      return 'YAML indents with spaces, not tabs';
    case 'DUPLICATE_KEY':
      return 'each key may appear once in a mapping';
    default:
      return undefined;
  }
}
