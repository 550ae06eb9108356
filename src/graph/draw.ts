/** Draw a compiled pipeline as Mermaid or Graphviz DOT: node kinds by shape, ports on the edges. */
import type { CompiledSpec } from '../graph/build.js';

const mermaidShape: Record<string, [string, string]> = {
  source: ['[/', '/]'],
  transform: ['[', ']'],
  analyse: ['{{', '}}'],
  sink: ['[(', ')]'],
};
const dotShape: Record<string, string> = { source: 'invhouse', transform: 'box', analyse: 'hexagon', sink: 'cylinder' };

const esc = (s: string) => s.replace(/"/g, '\\"');

export function drawGraph(spec: CompiledSpec, format: 'mermaid' | 'dot'): string {
  const lines: string[] = [];
  if (format === 'mermaid') {
    lines.push('flowchart LR');
    for (const name of spec.order) {
      const n = spec.nodes.get(name)!;
      const [open, close] = mermaidShape[n.kind]!;
      lines.push(`  ${name}${open}"${esc(name)}<br/><small>${n.kind}: ${n.plugin.def.name}</small>"${close}`);
    }
    for (const name of spec.order) {
      for (const input of spec.nodes.get(name)!.inputs) {
        lines.push(`  ${input.node} -->|${input.port}| ${name}`);
      }
    }
  } else {
    lines.push(`digraph "${esc(spec.name)}" {`, '  rankdir=LR;', '  node [fontname="Helvetica"];');
    for (const name of spec.order) {
      const n = spec.nodes.get(name)!;
      lines.push(`  "${esc(name)}" [shape=${dotShape[n.kind]}, label="${esc(name)}\\n${n.kind}: ${esc(n.plugin.def.name)}"];`);
    }
    for (const name of spec.order) {
      for (const input of spec.nodes.get(name)!.inputs) {
        lines.push(`  "${esc(input.node)}" -> "${esc(name)}" [label="${esc(input.port)}"];`);
      }
    }
    lines.push('}');
  }
  return lines.join('\n');
}
