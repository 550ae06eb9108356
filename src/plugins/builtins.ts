import { builtinPlugins } from '../../plugins/index.js';
import { Registry } from './registry.js';

let cached: Registry | undefined;

/** A fresh registry holding the built-in plugins (clone it before adding a spec's own modules). */
export function builtinRegistry(): Registry {
  if (!cached) {
    cached = new Registry();
    for (const p of builtinPlugins) cached.register(p, 'built-in');
  }
  return cached.clone();
}
