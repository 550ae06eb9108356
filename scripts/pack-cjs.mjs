/**
 * Pack a CommonJS package's module tree into one file, for start-up time: Node's loader costs
 * about 0.3 ms per file (resolve, stat, read, package scope), and `yaml` is 72 files that every
 * command reading a spec loads. The packed file holds each module's source unchanged inside a
 * function, with its relative `require`s resolved here, at build time; anything else (node:
 * built-ins) goes to the real `require`. The package's licence is copied beside it.
 *
 *   node scripts/pack-cjs.mjs yaml dist/vendor/yaml.cjs
 *
 * Fails (exit 1) on what it cannot pack faithfully: a module using `__dirname`/`__filename`, a
 * `require` of a computed name, a relative `require` that resolves to no file.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const [pkgName, outArg] = process.argv.slice(2);
if (!pkgName || !outArg) {
  process.stderr.write('usage: node scripts/pack-cjs.mjs PACKAGE OUT.cjs\n');
  process.exit(2);
}
const fail = (why) => {
  process.stderr.write(`pack-cjs ${pkgName}: ${why}\n`);
  process.exit(1);
};

const require = createRequire(join(ROOT, 'package.json'));
const entry = require.resolve(pkgName);
/** The package's folder: the nearest one above its entry whose package.json names it (its exports may hide package.json). */
function packageDir(from) {
  for (let dir = dirname(from); dirname(dir) !== dir; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).name === pkgName) return dir;
  }
  return fail(`no package.json naming it above ${from}`);
}
const pkgDir = packageDir(entry);
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));

const isFile = (p) => existsSync(p) && statSync(p).isFile();
/** A relative require's file, as Node resolves it for a CommonJS module. */
function resolveRelative(fromFile, spec) {
  const base = resolve(dirname(fromFile), spec);
  for (const p of [base, `${base}.js`, `${base}.cjs`, `${base}.json`, join(base, 'index.js')]) if (isFile(p)) return p;
  return fail(`${relative(pkgDir, fromFile)}: cannot resolve require('${spec}')`);
}

const REQUIRE = /\brequire\s*\(\s*([^)]*?)\s*\)/g;
const modules = new Map(); // id (path in the package) -> { source, deps: { spec: id } }
const queue = [entry];
while (queue.length) {
  const file = queue.shift();
  const id = relative(pkgDir, file).split('\\').join('/');
  if (modules.has(id)) continue;
  const source = readFileSync(file, 'utf8');
  if (/\b__(dirname|filename)\b/.test(source)) fail(`${id} uses __dirname or __filename`);
  const deps = {};
  for (const m of source.matchAll(REQUIRE)) {
    const arg = m[1];
    const lit = /^(['"])([^'"]+)\1$/.exec(arg);
    if (!lit) fail(`${id}: require(${arg}) is not a string literal`);
    const spec = lit[2];
    if (!spec.startsWith('.')) continue; // a built-in or another package: the real require
    const dep = resolveRelative(file, spec);
    deps[spec] = relative(pkgDir, dep).split('\\').join('/');
    queue.push(dep);
  }
  modules.set(id, { source, deps, json: file.endsWith('.json') });
}

const entryId = relative(pkgDir, entry).split('\\').join('/');
let out = `'use strict';
// ${pkg.name} ${pkg.version}, packed into one file by scripts/pack-cjs.mjs (see ${pkg.name}.LICENSE).
const packed = {
`;
for (const [id, { source, deps, json }] of modules) {
  const body = json ? `module.exports = ${source.trim()};` : source.replace(/^#!.*/, '');
  out += `${JSON.stringify(id)}: [${JSON.stringify(deps)}, function (exports, require, module) {\n${body}\n}],\n`;
}
out += `};
const loaded = new Map();
function load(id) {
  let m = loaded.get(id);
  if (m) return m.exports;
  const [deps, fn] = packed[id];
  m = { exports: {} };
  loaded.set(id, m);
  fn.call(m.exports, m.exports, (spec) => (spec in deps ? load(deps[spec]) : require(spec)), m);
  return m.exports;
}
module.exports = load(${JSON.stringify(entryId)});
`;

const outFile = resolve(ROOT, outArg);
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, out);
const licence = ['LICENSE', 'LICENSE.md', 'LICENCE'].map((f) => join(pkgDir, f)).find(isFile);
if (licence) writeFileSync(outFile.replace(/\.cjs$/, '.LICENSE'), readFileSync(licence));
process.stdout.write(`packed ${modules.size} modules of ${pkg.name} ${pkg.version} into ${relative(ROOT, outFile)}\n`);
