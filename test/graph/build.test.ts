/** The graph is built and checked without YAML: nodes in, problems (with spec paths) and an order out. */
import { describe, it, expect } from 'vitest';
import { buildGraph, nodeLinks, parseRef, type CompiledNode } from '../../src/graph/build.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import type { PluginKind } from '../../src/api.js';

const registry = builtinRegistry();
const plugin = { source: 'file', transform: 'filter', analyse: 'rules', sink: 'stdout' } as const;

/** Compiled nodes from `{ name: [kind, from] }`, as the spec compiler would hand them over. */
function graphOf(spec: Record<string, [PluginKind, string | string[] | undefined]>) {
  const raw: Record<string, any> = {};
  const nodes = new Map<string, CompiledNode>();
  for (const [name, [kind, from]] of Object.entries(spec)) {
    raw[name] = { [kind]: plugin[kind], from };
    const p = registry.get(kind, plugin[kind])!;
    nodes.set(name, { name, kind, plugin: p, config: {}, ...nodeLinks(p.def, from, kind === 'transform' ? { when: true } : {}) });
  }
  const issues: { code: string; at: string; severity: string }[] = [];
  const order = buildGraph(
    (code, segments, _message, _hint, _atKey, severity = 'error') => issues.push({ code, at: segments.join('/'), severity }),
    raw,
    nodes,
    new Set(),
  );
  return { order, issues };
}

describe('buildGraph', () => {
  it('orders every node after its inputs', () => {
    const { order, issues } = graphOf({ out: ['sink', ['f', 'src.invalid']], f: ['transform', 'src'], src: ['source', undefined] });
    expect(issues).toEqual([]);
    expect(order).toEqual(['src', 'f', 'out']);
  });

  it('reports unknown nodes and ports, cycles and unread outputs at their spec paths', () => {
    const { issues } = graphOf({
      src: ['source', undefined],
      a: ['transform', ['b', 'src']],
      b: ['transform', 'a'],
      out: ['sink', ['a', 'src.nope', 'ghost', 'src.invalid']],
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        { code: 'SLUICE_E_UNKNOWN_PORT', at: 'nodes/out/from/1', severity: 'error' },
        { code: 'SLUICE_E_UNKNOWN_NODE', at: 'nodes/out/from/2', severity: 'error' },
        { code: 'SLUICE_E_CYCLE', at: expect.stringMatching(/^nodes\/(a|b)\/from$/), severity: 'error' },
      ]),
    );
    expect(issues.filter((i) => i.code === 'SLUICE_E_CYCLE')).toHaveLength(1);
  });

  it('reads references as node or node.port', () => {
    expect(parseRef('parse')).toEqual({ node: 'parse', port: 'out' });
    expect(parseRef('parse.invalid')).toEqual({ node: 'parse', port: 'invalid' });
  });
});
