/**
 * The error a run fails with: a stable code from the one table (`src/errors.ts`), the node it
 * concerns when there is one, and the plugin's own error as `cause`. The message reads
 * `node 'NAME': DETAIL`; the CLI prints it with the code.
 */
import type { ErrorCode } from '../errors.js';

/** The codes a run fails with. */
export type RunErrorCode = Extract<
  ErrorCode,
  'SLUICE_E_RUNTIME' | 'SLUICE_E_PREPARE' | 'SLUICE_E_CREATE' | 'SLUICE_E_SHARED_VALUE' | 'SLUICE_E_SINK_FLUSH' | 'SLUICE_E_WORKER'
>;

export class RunError extends Error {
  override readonly name = 'RunError';

  constructor(
    readonly code: RunErrorCode,
    /** The node (or, for a worker thread, the chain `a→b`) the failure belongs to. */
    readonly node: string | undefined,
    /** The message without the node prefix. */
    readonly detail: string,
    cause?: unknown,
  ) {
    super(node ? `node '${node}': ${detail}` : detail, cause === undefined ? undefined : { cause });
    // The plugin's stack is the useful one: keep it below ours.
    const inner = (cause as Error | undefined)?.stack;
    if (inner) this.stack = `${this.stack}\nCaused by: ${inner}`;
  }
}

/**
 * `err` as a RunError: one already is keeps its code (and gains `node` if it had none); anything
 * else is wrapped with `code`, its message prefixed by `what` ("update failed") when given.
 */
export function asRunError(err: unknown, code: RunErrorCode, node?: string, what?: string): RunError {
  if (err instanceof RunError) return err.node || !node ? err : new RunError(err.code, node, err.detail, err.cause);
  const message = err instanceof Error ? err.message : String(err);
  return new RunError(code, node, what ? `${what}: ${message}` : message, err);
}
