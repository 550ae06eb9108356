/**
 * The command line of one measured `sluice run` (after `node`): quiet, its summary in `dir`, its state
 * in `dir/state` (fresh each run: feeds are loaded from their files) or in `stateDir`.
 */
import { join } from 'node:path';
import { CLI } from './paths.js';

export function sluiceRunArgs(
  spec: string,
  dir: string,
  vars: Record<string, string> = {},
  flags: readonly string[] = [],
  stateDir = join(dir, 'state'),
): string[] {
  const args = [CLI, 'run', spec, '--log-level', 'warn', '--no-progress', '--state-dir', stateDir, '--summary-json', join(dir, 'summary.json')];
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}=${v}`);
  args.push(...flags);
  return args;
}
