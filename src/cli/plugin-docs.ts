/** `sluice plugins` and `sluice plugins NAME`: the list, and a reference generated from each schema. */
import { stringify } from 'yaml';
import type { PluginDef } from '../api.js';
import { portsOf } from '../plugins/def.js';
import type { Registry } from '../plugins/registry.js';

export function pluginList(registry: Registry): string {
  const rows = registry.all().map((p) => [p.def.kind, p.def.name, p.def.summary, p.from === 'built-in' ? '' : `(${p.from})`]);
  const w0 = Math.max(...rows.map((r) => r[0]!.length));
  const w1 = Math.max(...rows.map((r) => r[1]!.length));
  return (
    rows.map((r) => `${r[0]!.padEnd(w0)}  ${r[1]!.padEnd(w1)}  ${r[2]} ${r[3]}`.trimEnd()).join('\n') +
    `\n\nRun 'sluice plugins NAME' for a plugin's configuration reference.`
  );
}

function typeOf(s: any): string {
  if (s.enum) return s.enum.map((v: unknown) => JSON.stringify(v)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.type === 'array') return `array of ${s.items ? typeOf(s.items) : 'any'}`;
  if (Array.isArray(s.type)) return s.type.join(' | ');
  if (s.oneOf || s.anyOf) return (s.oneOf ?? s.anyOf).map(typeOf).join(' | ');
  return s.type ?? 'any';
}

function describeProps(schema: any, prefix: string, out: string[]): void {
  const required = new Set<string>(schema.required ?? []);
  for (const [key, s] of Object.entries<any>(schema.properties ?? {})) {
    const name = prefix + key;
    const bits = [typeOf(s)];
    if (required.has(key)) bits.push('required');
    if (s.default !== undefined) bits.push(`default ${JSON.stringify(s.default)}`);
    out.push(`  ${name}  (${bits.join(', ')})`);
    if (s.description) out.push(`      ${String(s.description).replace(/\n/g, '\n      ')}`);
    if (s.type === 'object' && s.properties) describeProps(s, `${name}.`, out);
    if (s.type === 'array' && s.items?.type === 'object' && s.items.properties) describeProps(s.items, `${name}[].`, out);
  }
}

function listCodes(title: string, codes: Readonly<Record<string, string>> | undefined, out: string[]): void {
  const entries = Object.entries(codes ?? {});
  if (!entries.length) return;
  const width = Math.max(...entries.map(([c]) => c.length));
  out.push('', title, ...entries.map(([c, what]) => `  ${c.padEnd(width)}  ${what}`));
}

export function pluginReference(def: PluginDef): string {
  const out: string[] = [];
  out.push(`${def.name} (${def.kind})`, '', def.summary);
  if (def.description) out.push('', def.description);
  const ports = def.kind === 'sink' ? [] : typeof def.ports === 'function' ? ['(depend on the configuration)'] : portsOf(def, {});
  if (def.kind !== 'sink') out.push('', `Output ports: ${ports.join(', ')}`);
  out.push('', 'Configuration (with:):');
  describeProps(def.schema, '', out);
  listCodes('Reason codes of records sent to invalid:', def.reasons, out);
  listCodes('Codes of configuration problems (reported as SLUICE_E_CONFIG_CHECK/CODE):', def.configCodes, out);
  for (const ex of def.examples ?? []) {
    const node = { [`my-${def.name}`]: { [def.kind]: def.name, ...(def.kind === 'source' ? {} : { from: 'upstream' }), with: ex.with } };
    out.push('', `Example — ${ex.title}:`, stringify(node).trimEnd().replace(/^/gm, '  '));
  }
  return out.join('\n');
}
