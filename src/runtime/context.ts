/** The context a plugin instance receives: logger, metrics, abort signal, paths. */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger, Metrics, PluginContext } from '../api.js';

export interface ContextOptions {
  pipeline: string;
  node: string;
  logger: Logger & { child?(b: object): Logger };
  metrics: Metrics;
  signal: AbortSignal;
  stateDir: string;
  once: boolean;
  /** What `ctx.shared` reads (nodes whose plugin has `prepare`). */
  shared?: { current: unknown };
  /** A `'by-key'` copy's share (API 1.7). */
  share?: { index: number; count: number };
  /** What `ctx.batchLines` reads (API 1.11; a source's context). */
  batchLines?: () => number | undefined;
}

export function makeContext(o: ContextOptions): PluginContext {
  let dir: string | undefined;
  const holder = o.shared;
  return {
    get shared() {
      return holder?.current;
    },
    node: o.node,
    pipeline: o.pipeline,
    logger: o.logger.child ? o.logger.child({ node: o.node }) : o.logger,
    metrics: o.metrics,
    signal: o.signal,
    resolvePath: (p) => resolve(p),
    stateDir: () => {
      if (!dir) {
        dir = join(o.stateDir, o.pipeline, o.node);
        mkdirSync(dir, { recursive: true });
      }
      return dir;
    },
    once: o.once,
    ...(o.share ? { share: Object.freeze({ ...o.share }) } : {}),
    get batchLines() {
      return o.batchLines?.();
    },
  };
}
