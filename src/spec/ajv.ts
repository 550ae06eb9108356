/**
 * The one ajv set-up of sluice. Schemas are compiled once (at start-up or spec load) and reused.
 * `useDefaults` fills plugin defaults into `with:`; `allErrors` reports every problem at once.
 */
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';

const Ajv: any = (AjvModule as any).default ?? AjvModule;
const addFormats: any = (addFormatsModule as any).default ?? addFormatsModule;

export type ValidateFn = ((data: unknown) => boolean) & { errors?: AjvError[] | null };
export interface AjvError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, any>;
  message?: string;
}

function make(opts: Record<string, unknown>): any {
  const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, ...opts });
  addFormats(ajv);
  return ajv;
}

/** For configs: fills defaults. */
export const configAjv = make({ useDefaults: true });

let ownAjv: any;
/**
 * For sluice's own schemas (the pipeline schema, the built-in plugins'): as `configAjv`, without
 * checking each schema against the meta-schema first — tests do that once for all of them — so a
 * run's start-up does not compile the meta-schema (≈ 25 ms). A module's schema goes through
 * `compileConfigSchema`, which checks it.
 */
export function compileOwnSchema(schema: object): ValidateFn {
  return (ownAjv ??= make({ useDefaults: true, validateSchema: false })).compile(schema);
}

export function compileConfigSchema(schema: object): ValidateFn {
  return configAjv.compile(schema);
}

/** One line per ajv error: `/path: message`. */
export function describeAjvErrors(errors: AjvError[] | null | undefined): string {
  if (!errors?.length) return 'invalid';
  return errors.map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`).join('; ');
}
