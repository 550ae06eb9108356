/**
 * `require` for the CommonJS packages the core uses (commander, pino, cli-table3, json-logic-js,
 * fastest-levenshtein). Required, not imported: an ES import of a CommonJS package runs Node's export
 * scanner over its source first, which every run's start-up would pay for.
 */
import { createRequire } from 'node:module';

export const requirePackage = createRequire(import.meta.url);
