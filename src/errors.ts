/**
 * The one table of sluice's spec and runtime error codes. Every problem sluice reports about a
 * spec, and every error a run fails with (`RunError`, src/runtime/run-error.ts), carries one of
 * these codes; the codes are stable (tests pin the table), the messages are not.
 */
export const ERRORS = {
  SLUICE_E_FILE: 'the spec file cannot be read',
  SLUICE_E_YAML: 'the spec is not valid YAML',
  SLUICE_E_INTERPOLATION: 'a ${NAME} reference has no value and no default',
  SLUICE_E_SCHEMA: 'the pipeline does not match the pipeline schema',
  SLUICE_E_UNKNOWN_KEY: 'a key that the schema does not allow',
  SLUICE_E_NODE_KIND: 'a node must name exactly one kind: source, transform, analyse or sink',
  SLUICE_E_UNKNOWN_PLUGIN: 'no plugin of that kind and name is registered',
  SLUICE_E_PLUGIN_LOAD: 'a module listed under plugins: cannot be loaded or exports no plugin',
  SLUICE_E_PLUGIN_DEF: 'a module exports an object that is not a valid plugin',
  SLUICE_E_CONFIG: "a node's with: does not match its plugin's schema",
  SLUICE_E_CONFIG_CHECK: "a plugin's own check of its with: failed",
  SLUICE_E_UNKNOWN_NODE: 'a from: reference names no node',
  SLUICE_E_UNKNOWN_PORT: 'a from: reference names a port that the node does not emit',
  SLUICE_E_CYCLE: 'the nodes form a cycle',
  SLUICE_E_NO_INPUT: 'a non-source node has no from:',
  SLUICE_E_SOURCE_INPUT: 'a source node has a from:',
  SLUICE_E_NO_CONSUMER: 'no node reads any output of this node',
  SLUICE_E_SCHEDULE: 'the schedule: is not a valid cron expression',
  SLUICE_E_RUNTIME: "a plugin failed while the pipeline ran (a source's run, a processor's process, update or finish, a sink's write)",
  SLUICE_E_PREPARE: "a node's prepare failed before any instance was created",
  SLUICE_E_CREATE: "creating a node's instance failed (in the main thread or in a worker thread)",
  SLUICE_E_SHARED_VALUE: 'a value prepared or published for a node cannot be sent to its worker threads (not structured-cloneable)',
  SLUICE_E_SINK_FLUSH: "a sink's flush failed: the records it held were not made durable and their sources did not commit them",
  SLUICE_E_WORKER: 'a worker thread failed outside any plugin call (it could not start, crashed or exited with work outstanding)',
  SLUICE_E_TEST: 'a pipeline test (tests: or NAME.test.yaml) names a node or port that does not exist, or is malformed',
} as const;

export type ErrorCode = keyof typeof ERRORS;

/**
 * A problem a plugin finds in its own (schema-valid) config; `path` is a JSON pointer inside `with:`.
 * `code` (UPPER_SNAKE, declared in the plugin's `configCodes`) is reported to the user beside
 * `SLUICE_E_CONFIG_CHECK`.
 */
export interface ConfigIssue {
  path: string;
  message: string;
  code?: string;
  hint?: string;
}

/** A problem found in a spec, located in its file. */
export interface SpecIssue {
  code: ErrorCode;
  message: string;
  /** JSON pointer inside the spec document. */
  path: string;
  file: string;
  line: number;
  col: number;
  hint?: string;
  severity: 'error' | 'warning';
  /** The plugin's own code for a `SLUICE_E_CONFIG_CHECK` problem (`ConfigIssue.code`), when it gave one. */
  reason?: string;
}

export function formatIssue(i: SpecIssue): string {
  const where = `${i.file}:${i.line}:${i.col}`;
  const sev = i.severity === 'warning' ? ' (warning)' : '';
  return `${where} ${i.code}${i.reason ? `/${i.reason}` : ''}${sev} ${i.message}${i.path ? ` [at ${i.path}]` : ''}${i.hint ? `\n    hint: ${i.hint}` : ''}`;
}
