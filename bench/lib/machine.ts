/** A description of the machine a result came from. */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem, loadavg, platform, release, arch } from 'node:os';
import { ROOT } from './paths.js';

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  os: string;
  node: string;
  date: string;
  commit: string;
  load: string;
}

export function describeMachine(): Machine {
  const c = cpus();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim();
    if (dirty) commit += ' (+ uncommitted changes)';
  } catch {
    /* not a checkout */
  }
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    date: new Date().toISOString(),
    commit,
    load: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}
