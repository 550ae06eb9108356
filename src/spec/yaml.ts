/**
 * The `yaml` library as the spec loader uses it: the one-file pack that `npm run build` writes
 * (dist/vendor/yaml.cjs, by scripts/pack-cjs.mjs) when it is there, else the package itself (the
 * sources under test). The same code either way; the pack loads in a third of the time, since
 * Node's loader pays per file and the package is 72 files (start-up time of every command that
 * reads a spec). Types come from the package.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as Yaml from 'yaml';

const packed = fileURLToPath(new URL('../../vendor/yaml.cjs', import.meta.url));
const yaml = createRequire(import.meta.url)(existsSync(packed) ? packed : 'yaml') as typeof Yaml;

export const { parseDocument, visit, isMap, isSeq, isPair, isScalar } = yaml;
export const LineCounter: typeof Yaml.LineCounter = yaml.LineCounter;
export type LineCounter = Yaml.LineCounter;
