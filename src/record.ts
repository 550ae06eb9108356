/** A record: a plain JSON object. Parsed proxy records use nested ECS names (`source.ip` is `rec.source.ip`). */
export type Rec = { [key: string]: any };

/** Records per output port, as returned by a processor or emitted by a source. */
export type Outputs = { [port: string]: Rec[] | undefined };

/** Where a unit of input came from. */
export interface Origin {
  /** File path (file and HDFS sources). */
  file?: string;
  /** 1-based line number within `file`. */
  line?: number;
  topic?: string;
  partition?: number;
  offset?: string;
}

/**
 * A record that a node could not accept. It keeps the raw input (as text, plus base64 of the exact
 * bytes when they were not valid UTF-8), where it came from, which node refused it and why.
 */
export interface InvalidRecord {
  '@timestamp': string;
  event: { kind: 'pipeline_error'; original: string; original_base64?: string };
  error: { code: string; message: string; node: string };
  origin: Origin | null;
}

export function makeInvalid(
  node: string,
  origin: Origin | null | undefined,
  code: string,
  message: string,
  original: string,
  originalBase64?: string,
): InvalidRecord {
  const event: InvalidRecord['event'] = { kind: 'pipeline_error', original };
  if (originalBase64 !== undefined) event.original_base64 = originalBase64;
  return {
    '@timestamp': new Date().toISOString(),
    event,
    error: { code, message, node },
    origin: origin ?? null,
  };
}

export function formatOrigin(o: Origin | null | undefined): string {
  if (!o) return '?';
  if (o.file !== undefined) return o.line !== undefined ? `${o.file}:${o.line}` : o.file;
  if (o.topic !== undefined) return `${o.topic}/${o.partition ?? '?'}@${o.offset ?? '?'}`;
  return '?';
}

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

/** Read a dotted path (`source.ip`). A key that exists literally with dots (`"@timestamp"`) is read first. */
export function getPath(rec: unknown, path: string): any {
  if (rec === null || typeof rec !== 'object') return undefined;
  const obj = rec as Rec;
  if (Object.prototype.hasOwnProperty.call(obj, path)) return obj[path];
  let cur: any = obj;
  let start = 0;
  for (;;) {
    const dot = path.indexOf('.', start);
    const key = dot === -1 ? path.slice(start) : path.slice(start, dot);
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, key)) return undefined;
    cur = cur[key];
    if (dot === -1) return cur;
    start = dot + 1;
  }
}

/** Set a dotted path, creating intermediate objects. Refuses prototype keys. */
export function setPath(rec: Rec, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur: Rec = rec;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i]!;
    if (FORBIDDEN.has(k)) throw new Error(`refusing to write path '${path}'`);
    let next = Object.prototype.hasOwnProperty.call(cur, k) ? cur[k] : undefined;
    if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      next = {};
      cur[k] = next;
    }
    cur = next;
  }
  const last = parts[parts.length - 1]!;
  if (FORBIDDEN.has(last)) throw new Error(`refusing to write path '${path}'`);
  cur[last] = value;
}

/** Delete a dotted path; returns whether something was removed. */
export function deletePath(rec: Rec, path: string): boolean {
  const parts = path.split('.');
  let cur: any = rec;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i]!;
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, k)) return false;
    cur = cur[k];
  }
  const last = parts[parts.length - 1]!;
  if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, last)) return false;
  delete cur[last];
  return true;
}
