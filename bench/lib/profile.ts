/** Summarise a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function, heaviest first. */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './paths.js';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

export interface SelfTime { fn: string; where: string; ms: number; share: number }

function shortUrl(url: string): string {
  if (!url) return '';
  let p = url;
  if (url.startsWith('file://')) { try { p = relative(ROOT, fileURLToPath(url)); } catch { /* keep */ } }
  return p.replace(/^node_modules\//, 'npm:');
}

export function selfTimes(path: string, top = 20): { totalMs: number; rows: SelfTime[] } {
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
    if (e) e.us += dt; else us.set(key, { fn, where, us: dt });
  }
  const rows = [...us.values()].sort((a, b) => b.us - a.us).slice(0, top)
    .map((r) => ({ fn: r.fn, where: r.where, ms: r.us / 1000, share: total ? r.us / total : 0 }));
  return { totalMs: total / 1000, rows };
}
