/**
 * The naive squid parse, as a quick script does it: one regex per line, `new URL`, the ECS record
 * built from the captures, no validation. Shared by the naive parse reference (`naive-parse.ts`) and
 * the in-process micro-benchmark (`parse-micro.ts`).
 */
import type { Rec } from '../../src/api.js';

const SQUID_RE = /^(\d+\.\d+)\s+(\d+)\s+(\S+)\s+(\S+)\/(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\/(\S+)\s+(\S+)/;

export function naiveSquidRecord(line: string, file: string, n: number): Rec | undefined {
  const m = SQUID_RE.exec(line);
  if (!m) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(m[7] === 'CONNECT' ? `https://${m[8]}` : m[8]!);
  } catch {
    url = undefined;
  }
  return {
    '@timestamp': new Date(Number(m[1]) * 1000).toISOString(),
    event: { dataset: 'squid.access', duration: Number(m[2]) * 1e6, action: m[4] },
    source: { ip: m[3] },
    http: { request: { method: m[7] }, response: { status_code: Number(m[5]), bytes: Number(m[6]), mime_type: m[12] } },
    url: url
      ? {
          original: m[8],
          scheme: url.protocol.slice(0, -1),
          domain: url.hostname,
          port: url.port ? Number(url.port) : undefined,
          path: url.pathname,
          query: url.search.slice(1),
        }
      : { original: m[8] },
    user: m[9] === '-' ? undefined : { name: m[9] },
    squid: { hierarchy: m[10], peer: m[11] },
    origin: { file, line: n },
  };
}
