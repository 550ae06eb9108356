/** Where things are, whether running from `bench/` (vitest, tsx) or compiled `dist/bench/`. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bench'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the sluice checkout above ${from}`);
    dir = up;
  }
}

/** The repository root. */
export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
/** Generated data (git-ignored), reused between runs. */
export const DATA_DIR = process.env.SLUICE_BENCH_DATA ? resolve(process.env.SLUICE_BENCH_DATA) : join(ROOT, 'bench', 'data');
/** Compiled benchmark scripts. */
export const DIST_BENCH = join(ROOT, 'dist', 'bench');
export const PIPELINES_DIR = join(ROOT, 'bench', 'pipelines');
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
