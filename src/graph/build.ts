/**
 * The pipeline as a graph: the compiled spec's types, `from:` references, and the checks that make
 * the nodes a DAG (references name nodes and ports that exist, sources read nothing, every other
 * node reads something and is read, no cycles), giving a start-up order. It knows nothing of YAML:
 * problems are reported with the spec path they concern, and the spec compiler
 * (`src/spec/validate.ts`) locates them in the file.
 */
import type { PluginDef, PluginKind } from '../api.js';
import type { ErrorCode, SpecIssue } from '../errors.js';
import { portsOf } from '../plugins/def.js';
import type { RegisteredPlugin } from '../plugins/registry.js';
import { suggest } from '../util/suggest.js';

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
  /**
   * Longest wait between two tries of a sink's `write` or `flush` that fail while its service is
   * away (`settings.retry_max_delay`): a service that came back waits at most this long for the
   * next try, so it also bounds how late a stream resumes after an outage.
   */
  retryMaxDelayMs: number;
  /**
   * Worker threads for parallel segments: a number pins it (1: none); `'auto'` (the default) lets
   * the runtime decide at start, from the sources' input size (`src/runtime/workers.ts`).
   */
  workers: number | 'auto';
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

/** A `from:` reference: `node` (its `out` port) or `node.port`. */
export function parseRef(ref: string): NodeInput {
  const dot = ref.indexOf('.');
  return dot === -1 ? { node: ref, port: 'out' } : { node: ref.slice(0, dot), port: ref.slice(dot + 1) };
}

/** Report a graph problem at a path of the spec document (segments of a JSON pointer). */
export type ReportIssue = (
  code: ErrorCode,
  segments: readonly (string | number)[],
  message: string,
  hint?: string,
  atKey?: boolean,
  severity?: 'error' | 'warning',
) => void;

/** A node's inputs (its `from:` references) and output ports (for its config; none when they cannot be had). */
export function nodeLinks(def: PluginDef, from: unknown, config: unknown): { inputs: NodeInput[]; ports: readonly string[] } {
  const fromList: unknown[] = from === undefined ? [] : Array.isArray(from) ? from : [from];
  const inputs = fromList.filter((r): r is string => typeof r === 'string').map(parseRef);
  let ports: readonly string[] = [];
  try {
    ports = portsOf(def, config);
  } catch {
    ports = [];
  }
  return { inputs, ports };
}

/**
 * Check the references between `nodes` (compiled from `rawNodes`, the spec's `nodes:` mapping; the
 * nodes in `broken` were skipped for broken YAML) and return the node names in topological order.
 */
export function buildGraph(report: ReportIssue, rawNodes: Record<string, any>, nodes: Map<string, CompiledNode>, broken: ReadonlySet<string>): string[] {
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
      report(
        'SLUICE_E_SOURCE_INPUT',
        ['nodes', n.name, 'from'],
        `source '${n.name}' cannot have a from:`,
        'sources read from outside the pipeline; remove from:',
      );
    }
    if (n.kind !== 'source' && raw.from === undefined) {
      report('SLUICE_E_NO_INPUT', ['nodes', n.name], `${n.kind} '${n.name}' has no from:`, `add from: <node> or from: <node>.<port>`, true);
    }
    n.inputs.forEach((input, i) => {
      const seg = fromIsList ? ['nodes', n.name, 'from', i] : ['nodes', n.name, 'from'];
      if (!names.includes(input.node)) {
        const s = suggest(input.node, names);
        report(
          'SLUICE_E_UNKNOWN_NODE',
          seg,
          `'${n.name}' reads from '${input.node}', which is not a node`,
          s ? `did you mean '${s}'?` : `nodes: ${names.join(', ')}`,
        );
        return;
      }
      const up = nodes.get(input.node);
      if (!up || broken.has(input.node)) return; // reported already
      if (!up.ports.includes(input.port)) {
        const s = suggest(input.port, up.ports as string[]);
        const hint =
          up.kind === 'sink'
            ? 'a sink has no output ports'
            : `${s ? `did you mean '${input.node}.${s}'? ` : ''}'${input.node}' (${up.kind} ${up.plugin.def.name}) emits: ${up.ports.join(', ')}`;
        report('SLUICE_E_UNKNOWN_PORT', seg, `'${input.node}' has no output port '${input.port}'`, hint);
        return;
      }
      addConsumer(input);
    });
  }
  for (const n of nodes.values()) {
    if (n.kind === 'sink') continue;
    const read = consumers.get(n.name);
    if (!read) {
      report(
        'SLUICE_E_NO_CONSUMER',
        ['nodes', n.name],
        `no node reads from ${n.kind} '${n.name}'`,
        `add a node with from: ${n.name}${n.ports.length > 1 ? ` (ports: ${n.ports.join(', ')})` : ''}, or remove it`,
        true,
      );
    } else if (n.ports.includes('invalid') && !read.has('invalid')) {
      report(
        'SLUICE_E_NO_CONSUMER',
        ['nodes', n.name],
        `'${n.name}.invalid' is not read: rejected records will be counted but not kept`,
        `route it to a sink: from: ${n.name}.invalid`,
        true,
        'warning',
      );
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
        report(
          'SLUICE_E_CYCLE',
          ['nodes', first, 'from'],
          `cycle: ${[...cycle, name].join(' → ')}`,
          'a pipeline is a DAG: remove one of these from: references',
        );
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
