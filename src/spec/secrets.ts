/**
 * Secret configuration values. A property of a plugin's `with:` schema marked `writeOnly: true`
 * (JSON Schema's annotation for a value that is sent but never shown back) holds a credential: its
 * value, whether written in the spec or interpolated from any variable, is redacted from logs,
 * errors and `graph` output like the values of variables whose names look secret.
 */
export function secretValues(schema: unknown, value: unknown, out: string[] = []): string[] {
  const s = schema as Record<string, any> | null;
  if (!s || typeof s !== 'object' || value === undefined || value === null) return out;
  if (s.writeOnly === true) {
    if (typeof value === 'string' && value.length) out.push(value);
    else if (typeof value === 'object') for (const v of Object.values(value)) if (typeof v === 'string' && v.length) out.push(v);
    return out;
  }
  for (const k of ['oneOf', 'anyOf', 'allOf'] as const) if (Array.isArray(s[k])) for (const b of s[k]) secretValues(b, value, out);
  if (typeof value !== 'object') return out;
  if (Array.isArray(value)) {
    if (s.items) for (const v of value) secretValues(s.items, v, out);
    return out;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const sub = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
    if (sub) secretValues(sub, v, out);
  }
  return out;
}
