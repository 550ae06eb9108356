/**
 * The build stamp: a hash of everything `npm run build` compiles (TypeScript under src/, plugins/,
 * bench/; the schemas the build step precompiles; the compiler settings), written into
 * `dist/build-stamp.json` by the build and compared by the test set-up (test/setup/dist-fresh.ts).
 * Worker threads and the CLI run `dist/`, unit tests run the sources: without this check a stale
 * build could make the tests pass on code that is no longer there.
 *
 *   node scripts/build-stamp.mjs write   # after tsc and the precompile step
 *   node scripts/build-stamp.mjs check   # exit 1 with the reason when dist/ is stale
 *
 * A content hash, not mtimes: a checkout or `touch` changes mtimes without changing what is built.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
export const STAMP = join(ROOT, 'dist/build-stamp.json');

const INPUT_DIRS = ['src', 'plugins', 'bench', 'schemas'];
const INPUT_FILES = ['tsconfig.json'];
/** Folders under the input dirs that the build does not read: generated bench data, packages. */
const SKIP_PATHS = new Set(['bench/data']);
const BUILT = /\.(ts|mts|cts|js|mjs|cjs|json)$/;

function walk(root, dir, out) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      const rel = relative(root, p).split('\\').join('/');
      if (entry.name !== 'node_modules' && !SKIP_PATHS.has(rel)) walk(root, p, out);
    } else if (BUILT.test(entry.name) && !entry.name.endsWith('.test.ts')) {
      out.push(p);
    }
  }
}

/** The files the build reads, relative to the root, sorted. */
export function buildInputs(root = ROOT) {
  const files = [];
  for (const d of INPUT_DIRS) walk(root, join(root, d), files);
  for (const f of INPUT_FILES) if (existsSync(join(root, f))) files.push(join(root, f));
  return files.map((f) => relative(root, f).split('\\').join('/')).sort();
}

/** One hash over the inputs' names and contents. */
export function sourceHash(root = ROOT) {
  const h = createHash('sha256');
  for (const f of buildInputs(root)) {
    h.update(f);
    h.update('\0');
    h.update(readFileSync(join(root, f)));
    h.update('\0');
  }
  return h.digest('hex');
}

export function writeStamp(root = ROOT) {
  const stamp = { hash: sourceHash(root), files: buildInputs(root).length, built: new Date().toISOString() };
  writeFileSync(join(root, 'dist/build-stamp.json'), JSON.stringify(stamp, null, 2) + '\n');
  return stamp;
}

/** Why dist/ does not match the sources, or undefined when it does. */
export function staleReason(root = ROOT) {
  const file = join(root, 'dist/build-stamp.json');
  if (!existsSync(file)) return 'dist/ has no build stamp (never built, or built by something other than `npm run build`)';
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return 'dist/build-stamp.json is unreadable';
  }
  if (stamp.hash !== sourceHash(root)) return `the sources changed since dist/ was built (at ${stamp.built})`;
  return undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cmd = process.argv[2];
  if (cmd === 'write') {
    const s = writeStamp();
    console.log(`build stamp: ${s.files} input files, ${s.hash.slice(0, 12)}`);
  } else if (cmd === 'check') {
    const why = staleReason();
    if (why) {
      console.error(`dist/ is stale: ${why}. Run \`npm run build\`.`);
      process.exit(1);
    }
  } else {
    console.error('usage: node scripts/build-stamp.mjs write|check');
    process.exit(2);
  }
}
