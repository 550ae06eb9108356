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
/** For data (records): no mutation. */
export const dataAjv = make({ useDefaults: false, allErrors: false });

export function compileConfigSchema(schema: object): ValidateFn {
  return configAjv.compile(schema);
}

export function compileDataSchema(schema: object): ValidateFn {
  return dataAjv.compile(schema);
}

/** One line per ajv error: `/path: message`. */
export function describeAjvErrors(errors: AjvError[] | null | undefined): string {
  if (!errors?.length) return 'invalid';
  return errors.map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`).join('; ');
}
