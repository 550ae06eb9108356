/**
 * Comparing two sealed indicator stores in tests: the loaders that must build the same store
 * (bytes or text, one thread or two) are held to these.
 */
import type { IndicatorStore } from '../../plugins/analyse/ioc-sweep/store.js';

/** Every buffer of the store's shareable form as bytes, and the rest as it is. */
export function storeBytes(store: IndicatorStore): unknown {
  return JSON.parse(JSON.stringify(store.toShared(), (_k, v) => (v instanceof SharedArrayBuffer ? Buffer.from(new Uint8Array(v)).toString('base64') : v)));
}

/** Every indicator key with its metadata, in the store's order. */
export function storeKeys(store: IndicatorStore): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  store.forEachIndicator((k, metas) => out.push([k, metas]));
  return out;
}
