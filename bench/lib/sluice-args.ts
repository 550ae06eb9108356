/** The command line of one measured `sluice run` (after `node`): quiet, its state and summary in `dir`. */
import { join } from 'node:path';
import { CLI } from './paths.js';

export function sluiceRunArgs(spec: string, dir: string, vars: Record<string, string> = {}, flags: readonly string[] = []): string[] {
  const args = [CLI, 'run', spec, '--log-level', 'warn', '--no-progress', '--state-dir', join(dir, 'state'), '--summary-json', join(dir, 'summary.json')];
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}=${v}`);
  args.push(...flags);
  return args;
}
