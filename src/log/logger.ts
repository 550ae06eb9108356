/** Structured JSON logs on stderr (pino), with secrets from `${...}` redacted. */
import type Pino from 'pino';
import type { Logger } from '../api.js';
import { redact } from '../util/redact.js';
import { requirePackage } from '../util/require-package.js';

const pino = requirePackage('pino') as typeof Pino;

export function createLogger(level: string, secrets: readonly string[] = []): Logger & { child(b: object): Logger } {
  const options: Pino.LoggerOptions = { level, base: { name: 'sluice' } };
  if (secrets.length) options.hooks = { streamWrite: (s: string) => redact(s, secrets) };
  return pino(options, pino.destination({ dest: 2, sync: true })) as unknown as Logger & { child(b: object): Logger };
}
