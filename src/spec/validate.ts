/**
 * Compile a spec file into a validated pipeline, collecting every problem before giving up.
 * Phases: YAML syntax → interpolation → pipeline schema → plugin modules → each node's `with:`
 * against its plugin's schema and the plugin's own checks → graph (refs, ports, cycles, inputs,
 * consumers). A node whose YAML is broken is skipped by the later phases rather than reported twice.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, extname } from 'node:path';
import { parseDocument, LineCounter, type Document, type Node as YamlNode } from 'yaml';
import { closest, distance } from 'fastest-levenshtein';
import { PLUGIN_KINDS, portsOf, type PluginKind } from '../api.js';
import type { ErrorCode, SpecIssue } from '../errors.js';
import { compileOwnSchema, type AjvError, type ValidateFn } from './ajv.js';
import { baseSchema } from './pipeline-schema.js';
import { interpolateDocument, redact } from './interpolate.js';
import { secretValues } from './secrets.js';
import { locate, offsetToPosition, pointerToSegments, segmentsToPointer } from './positions.js';
import { loadPluginModule, type Registry, type RegisteredPlugin } from '../plugins/registry.js';
import { parseDuration } from '../util/duration.js';
import { deepFreeze } from '../util/freeze.js';
import { validateCron } from '../runtime/schedule.js';

export interface NodeInput {
  node: string;
  port: string;
}

export interface CompiledNode {
  name: string;
  kind: PluginKind;
  plugin: RegisteredPlugin;
  /** Validated, defaulted, frozen `with:`. */
  config: unknown;
  inputs: NodeInput[];
  ports: readonly string[];
  description?: string;
}

export interface PipelineSettings {
  queueBatches: number;
  flushIntervalMs: number;
  /** Worker threads for parallel segments; 1 means none. */
  workers: number;
}

export interface CompiledSpec {
  file: string;
  name: string;
  description?: string;
  schedule?: string;
  settings: PipelineSettings;
  nodes: Map<string, CompiledNode>;
  /** Node names, every node after all of its inputs. */
  order: string[];
  /** Values to redact from any output. */
  secrets: string[];
  warnings: SpecIssue[];
}

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

/** Suggest the closest of `candidates` when it is close enough to be a likely typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (!candidates.length) return undefined;
  const best = closest(word, candidates as string[]);
  const limit = Math.max(2, Math.floor(word.length / 3));
  return distance(word, best) <= limit ? best : undefined;
}

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

  at(code: ErrorCode, segments: readonly (string | number)[], message: string, hint?: string, atKey = false, severity: 'error' | 'warning' = 'error'): void {
    const pos = locate(this.doc, this.lc, segments, atKey);
    this.push(code, segments, pos.line, pos.col, message, hint, severity);
  }

  atOffset(code: ErrorCode, offset: number, message: string, hint?: string): void {
    const pos = offsetToPosition(this.lc, offset);
    this.push(code, [], pos.line, pos.col, message, hint, 'error');
  }

  private push(code: ErrorCode, segments: readonly (string | number)[], line: number, col: number, message: string, hint: string | undefined, severity: 'error' | 'warning'): void {
    this.issues.push({
      code,
      message: redact(message, this.secrets),
      path: segmentsToPointer(segments),
      file: this.file,
      line,
      col,
      hint: hint === undefined ? undefined : redact(hint, this.secrets),
      severity,
    });
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
      c.at('SLUICE_E_UNKNOWN_KEY', [...segs, key], `unknown key '${key}'`, s ? `did you mean '${s}'?` : allowed.length ? `allowed keys: ${allowed.join(', ')}` : undefined, true);
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

export function parseRef(ref: string): NodeInput {
  const dot = ref.indexOf('.');
  return dot === -1 ? { node: ref, port: 'out' } : { node: ref.slice(0, dot), port: ref.slice(dot + 1) };
}

export async function loadSpec(file: string, opts: LoadOptions): Promise<LoadResult> {
  let text = opts.text;
  if (text === undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      return { issues: [{ code: 'SLUICE_E_FILE', message: `cannot read spec: ${(err as Error).message}`, path: '', file, line: 1, col: 1, severity: 'error' }] };
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
    c.atOffset('SLUICE_E_INTERPOLATION', p.offset, `\${${p.name}} is not set and has no default`, `set it in the environment, pass --var ${p.name}=VALUE, or write \${${p.name}:-default}`);
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
    workers: w === 'auto' ? availableParallelism() : typeof w === 'number' && w >= 1 ? w : 1,
  };
  try {
    settings.flushIntervalMs = parseDuration(js.settings?.flush_interval ?? '250ms');
  } catch (err) {
    c.at('SLUICE_E_SCHEMA', ['settings', 'flush_interval'], (err as Error).message);
  }
  if (typeof js.schedule === 'string') {
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
      c.at('SLUICE_E_NODE_KIND', ['nodes', name], kinds.length ? `node '${name}' names several kinds (${kinds.join(', ')})` : `node '${name}' names no kind`, 'write one of source: NAME, transform: NAME, analyse: NAME, sink: NAME');
      continue;
    }
    const kind = kinds[0]!;
    const pluginName = raw[kind];
    if (typeof pluginName !== 'string') continue; // reported by the schema phase
    const plugin = registry.get(kind, pluginName);
    if (!plugin) {
      const s = suggest(pluginName, registry.names(kind));
      const other = PLUGIN_KINDS.filter((k) => k !== kind && registry.get(k, pluginName));
      const hint = s ? `did you mean '${s}'?` : other.length ? `'${pluginName}' is a ${other.join('/')} plugin, not a ${kind}` : `${kind} plugins: ${registry.names(kind).join(', ')}`;
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
      let problems;
      try {
        problems = plugin.def.check(config);
      } catch (err) {
        problems = [{ path: '', message: (err as Error).message }];
      }
      for (const p of problems) {
        configOk = false;
        c.at('SLUICE_E_CONFIG_CHECK', ['nodes', name, 'with', ...pointerToSegments(p.path)], p.message, p.hint);
      }
    }
    const fromList: unknown[] = raw.from === undefined ? [] : Array.isArray(raw.from) ? raw.from : [raw.from];
    const inputs = fromList.filter((r): r is string => typeof r === 'string').map(parseRef);
    let ports: readonly string[] = [];
    try {
      ports = configOk ? portsOf(plugin.def, config) : portsOf(plugin.def, raw.with ?? {});
    } catch {
      ports = [];
    }
    nodes.set(name, { name, kind, plugin, config: configOk ? deepFreeze(config) : undefined, inputs, ports, description: raw.description });
  }

  // Phase 4: the graph.
  const order = checkGraph(c, rawNodes, nodes, broken);

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

function checkGraph(c: IssueCollector, rawNodes: Record<string, any>, nodes: Map<string, CompiledNode>, broken: Set<string>): string[] {
  const names = Object.keys(rawNodes);
  const consumers = new Map<string, Set<string>>(); // node -> ports read
  const addConsumer = (input: NodeInput) => {
    if (!consumers.has(input.node)) consumers.set(input.node, new Set());
    consumers.get(input.node)!.add(input.port);
  };
  // Nodes skipped for broken YAML still read their inputs, as far as we can tell.
  for (const name of broken) {
    const from = rawNodes[name]?.from;
    for (const r of Array.isArray(from) ? from : [from]) if (typeof r === 'string') addConsumer(parseRef(r));
  }
  for (const n of nodes.values()) {
    const raw = rawNodes[n.name];
    const fromIsList = Array.isArray(raw.from);
    if (n.kind === 'source' && n.inputs.length) {
      c.at('SLUICE_E_SOURCE_INPUT', ['nodes', n.name, 'from'], `source '${n.name}' cannot have a from:`, 'sources read from outside the pipeline; remove from:');
    }
    if (n.kind !== 'source' && raw.from === undefined) {
      c.at('SLUICE_E_NO_INPUT', ['nodes', n.name], `${n.kind} '${n.name}' has no from:`, `add from: <node> or from: <node>.<port>`, true);
    }
    n.inputs.forEach((input, i) => {
      const seg = fromIsList ? ['nodes', n.name, 'from', i] : ['nodes', n.name, 'from'];
      if (!names.includes(input.node)) {
        const s = suggest(input.node, names);
        c.at('SLUICE_E_UNKNOWN_NODE', seg, `'${n.name}' reads from '${input.node}', which is not a node`, s ? `did you mean '${s}'?` : `nodes: ${names.join(', ')}`);
        return;
      }
      const up = nodes.get(input.node);
      if (!up || broken.has(input.node)) return; // reported already
      if (!up.ports.includes(input.port)) {
        const s = suggest(input.port, up.ports as string[]);
        const hint = up.kind === 'sink' ? 'a sink has no output ports' : `${s ? `did you mean '${input.node}.${s}'? ` : ''}'${input.node}' (${up.kind} ${up.plugin.def.name}) emits: ${up.ports.join(', ')}`;
        c.at('SLUICE_E_UNKNOWN_PORT', seg, `'${input.node}' has no output port '${input.port}'`, hint);
        return;
      }
      addConsumer(input);
    });
  }
  for (const n of nodes.values()) {
    if (n.kind === 'sink') continue;
    const read = consumers.get(n.name);
    if (!read) {
      c.at('SLUICE_E_NO_CONSUMER', ['nodes', n.name], `no node reads from ${n.kind} '${n.name}'`, `add a node with from: ${n.name}${n.ports.length > 1 ? ` (ports: ${n.ports.join(', ')})` : ''}, or remove it`, true);
    } else if (n.ports.includes('invalid') && !read.has('invalid')) {
      c.at('SLUICE_E_NO_CONSUMER', ['nodes', n.name], `'${n.name}.invalid' is not read: rejected records will be counted but not kept`, `route it to a sink: from: ${n.name}.invalid`, true, 'warning');
    }
  }
  // Cycles, and a topological order for start-up.
  const state = new Map<string, 0 | 1 | 2>();
  const order: string[] = [];
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (name: string): void => {
    const st = state.get(name) ?? 0;
    if (st === 2) return;
    if (st === 1) {
      const cycle = stack.slice(stack.indexOf(name));
      const key = [...cycle].sort().join(',');
      if (!reported.has(key)) {
        reported.add(key);
        const first = cycle[0]!;
        c.at('SLUICE_E_CYCLE', ['nodes', first, 'from'], `cycle: ${[...cycle, name].join(' → ')}`, 'a pipeline is a DAG: remove one of these from: references');
      }
      return;
    }
    state.set(name, 1);
    stack.push(name);
    for (const input of nodes.get(name)?.inputs ?? []) if (nodes.has(input.node)) visit(input.node);
    stack.pop();
    state.set(name, 2);
    order.push(name);
  };
  for (const name of nodes.keys()) visit(name);
  return order;
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
