/**
 * The one ajv set-up of sluice. Schemas are compiled once (at start-up or spec load) and reused.
 * `useDefaults` fills plugin defaults into `with:`; `allErrors` reports every problem at once.
 *
 * The validators every run needs (the pipeline schema, the built-in plugins' `with:` schemas, the
 * proxy-log record layout) are generated ahead of time by `npm run build` (`precompile.ts`, ajv's
 * standalone code) and loaded as modules: compiling them, and loading ajv itself, was a large part of
 * each start-up, in the main thread and in every worker (figures: bench/RESULTS.md, "Figures behind
 * code comments"). ajv is loaded only when a schema
 * has no generated validator — a module's plugin, a schema changed since the build — and compiles it
 * as before; the verdicts are the same either way (tests hold them equal).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const requireHere = createRequire(import.meta.url);

export type ValidateFn = ((data: unknown) => boolean) & { errors?: AjvError[] | null };
export interface AjvError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, any>;
  message?: string;
}

/**
 * A validator to build: ajv `options` (functions in them, such as `code.regExp`, are named in
 * `helpers` for generated code), the schema, and whether ajv-formats' formats are added.
 */
export interface ValidatorSpec {
  /** Names the set-up (and the generated files): `sluice-config`, `proxy-log-record-layout`. */
  id: string;
  schema: object;
  options: Record<string, unknown>;
  formats: boolean;
  /** Functions the options refer to by name (a function's `code` property), passed to generated code. */
  helpers?: Record<string, unknown>;
}

/** Where `npm run build` writes the generated validators: `dist/generated/validators` of this package. */
export const GENERATED_DIR = join(packageRoot(), 'dist', 'generated', 'validators');

function packageRoot(): string {
  // src/spec (tests run the sources) or dist/src/spec (the build)
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The file name of a spec's generated validator: its id and a hash of its options and schema. */
export function validatorKey(spec: ValidatorSpec): string {
  const hash = createHash('sha256').update(setupText(spec)).update('\n').update(JSON.stringify(spec.schema)).digest('hex');
  return `${spec.id}-${hash.slice(0, 32)}`;
}

/** A spec's ajv set-up as text: its options (a function by its name) and whether formats are added. */
function setupText(spec: ValidatorSpec): string {
  return `${JSON.stringify(spec.options, (_k, v) => (typeof v === 'function' ? `[function ${v.code ?? v.name}]` : v))}\n${spec.formats}`;
}

/** The generated validator of a spec, or undefined when there is none for this exact schema. */
export function precompiledValidator(spec: ValidatorSpec): ValidateFn | undefined {
  const file = join(GENERATED_DIR, `${validatorKey(spec)}.cjs`);
  if (!existsSync(file)) return undefined;
  const factory = requireHere(file) as (helpers: Record<string, unknown>) => ValidateFn;
  return factory(spec.helpers ?? {});
}

let ajvClass: any;
let addFormats: any;
/** A new ajv instance (the library loads on first use). */
export function newAjv(options: Record<string, unknown>, formats: boolean): any {
  if (ajvClass === undefined) {
    const m = requireHere('ajv');
    ajvClass = m.default ?? m;
    const f = requireHere('ajv-formats');
    addFormats = f.default ?? f;
  }
  const ajv = new ajvClass(options);
  if (formats) addFormats(ajv);
  return ajv;
}

const instances = new Map<string, any>();
/** The spec's generated validator, or ajv's compilation of it (one ajv instance per id and set-up). */
export function schemaValidator(spec: ValidatorSpec): ValidateFn {
  const pre = precompiledValidator(spec);
  if (pre !== undefined) return pre;
  const key = `${spec.id}\n${setupText(spec)}`;
  let ajv = instances.get(key);
  if (ajv === undefined) instances.set(key, (ajv = newAjv(spec.options, spec.formats)));
  return ajv.compile(spec.schema);
}

const CONFIG_OPTIONS = { allErrors: true, strict: false, allowUnionTypes: true, useDefaults: true };

let configInstance: any;
/** For configs of a module's plugins: fills defaults, and checks each schema against the meta-schema. */
export function configAjv(): any {
  return (configInstance ??= newAjv(CONFIG_OPTIONS, true));
}

export function compileConfigSchema(schema: object): ValidateFn {
  return configAjv().compile(schema);
}

/**
 * The set-up of sluice's own schemas (the pipeline schema, the built-in plugins'): as `configAjv`,
 * without checking each schema against the meta-schema first — tests do that once for all of them.
 */
export function ownSchemaSpec(schema: object): ValidatorSpec {
  return { id: 'sluice-config', schema, options: { ...CONFIG_OPTIONS, validateSchema: false }, formats: true };
}

export function compileOwnSchema(schema: object): ValidateFn {
  return schemaValidator(ownSchemaSpec(schema));
}

/** One line per ajv error: `/path: message`. */
export function describeAjvErrors(errors: AjvError[] | null | undefined): string {
  if (!errors?.length) return 'invalid';
  return errors.map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`).join('; ');
}
