/** Summarise a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function, heaviest first. */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './paths.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  fn: string;
  where: string;
  ms: number;
  share: number;
}

function shortUrl(url: string): string {
  if (!url) return '';
  let p = url;
  if (url.startsWith('file://')) {
    try {
      p = relative(ROOT, fileURLToPath(url));
    } catch {
      /* keep */
    }
  }
  return p.replace(/^node_modules\//, 'npm:');
}

/** Where a function lives, coarsely: a plugin, the runtime, a dependency, Node itself, the engine. */
function area(where: string, fn: string): string {
  if (!where) return fn === '(garbage collector)' ? 'GC' : fn === '(idle)' ? 'idle' : 'engine/native';
  let m = /^dist\/plugins\/(\w+)\/([\w-]+)\//.exec(where);
  if (m) return `plugins/${m[1]}/${m[2]}`;
  m = /^dist\/src\/(\w+)/.exec(where);
  if (m) return `src/${m[1]}`;
  m = /^npm:((?:@[\w.-]+\/)?[\w.-]+)/.exec(where);
  if (m) return `npm:${m[1]}`;
  if (where.startsWith('node:')) return 'node internals';
  return where.split(':')[0]!;
}

export function selfTimes(path: string, top = 20): { totalMs: number; rows: SelfTime[]; areas: { area: string; ms: number; share: number }[] } {
  const prof = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of prof.nodes) byId.set(n.id, n);
  const us = new Map<string, { fn: string; where: string; us: number }>();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const node = byId.get(prof.samples[i]!);
    const dt = prof.timeDeltas[i] ?? 0;
    if (!node) continue;
    total += dt;
    const cf = node.callFrame;
    const fn = cf.functionName || (cf.url ? '(anonymous)' : `(${cf.functionName || 'native'})`);
    const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const e = us.get(key);
    if (e) e.us += dt;
    else us.set(key, { fn, where, us: dt });
  }
  const areas = new Map<string, number>();
  for (const r of us.values()) {
    const a = area(r.where, r.fn);
    areas.set(a, (areas.get(a) ?? 0) + r.us);
  }
  const rows = [...us.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((r) => ({ fn: r.fn, where: r.where, ms: r.us / 1000, share: total ? r.us / total : 0 }));
  return {
    totalMs: total / 1000,
    rows,
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([a, v]) => ({ area: a, ms: v / 1000, share: total ? v / total : 0 })),
  };
}
