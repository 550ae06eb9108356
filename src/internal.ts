/**
 * Internal: what the built-in plugins share with sluice beyond the public contract of `src/api.ts`.
 * No stability promise: anything here may change or go in any release. Third-party plugins should
 * not import it (the package does not export it). Built-in plugins import `src/api.ts` and this
 * module, and nothing else of sluice (a test enforces it).
 */
// The IP implementation's internals: RFC 5952 text from groups, the IPv4-mapped form, prefix keys.
export {
  groupsToString,
  zeroRun,
  mappedV4,
  v6PrefixKey,
  v4PrefixKey,
  canonicalIp,
  canonicalIpv4,
  canonicalIpv6,
  parseIPv4Span,
  ipv4End,
  ipv4EndBytes,
} from './net/ip.js';
// The one host normal form (lower case, IDN to punycode, trailing dot dropped) for parsers and matchers.
export { normaliseHost } from './net/host.js';

// json-logic: registering operations (global to the process), and the built-ins' operations
// (`cidr_match`, `in_list`, ...; registered when this module loads) with their config checks.
export { addLogicOperation } from './logic/index.js';
export { checkLogicRule, prepareLogicRule, LOGIC_CODES, type ListDecls } from './logic/operations.js';

// Copy-on-write writes and deletes of dotted paths (`set`, `drop`).
export { CowPaths, pathProblem } from './cow-paths.js';

// Validators generated at build time for sluice's own schemas (proxy-log's record schemas).
export { schemaValidator } from './spec/ajv.js';
export type { ValidatorSpec, ValidateFn, AjvError } from './spec/ajv.js';

// The kafka source's and sink's connection options (brokers, TLS, SASL), client config and errors.
export {
  connectionProperties,
  checkConnection,
  kafkaClientConfig,
  kafkaFailure,
  brokerList,
  rootCause,
  type ConnectionConfig,
  type TlsConfig,
  type SaslConfig,
} from './net/kafka.js';

// Retries with backoff for transient I/O (broker or WebHDFS down): the runtime's own policy, for
// sources and sinks that retry inside a call (a reconnect, a commit) rather than failing it.
export { retrying, isTransient, backoffDelay, sleep, DEFAULT_BACKOFF, type BackoffPolicy, type RetryOptions } from './util/retry.js';

// The WebHDFS client of the `hdfs` source and sink (over the `webhdfs` package): deadlines,
// transient errors, checked uploads and reads, atomic replace on rename, the delegation token.
export { Hdfs, HdfsError, connectionSchemaProperties, isHiddenName, encodeHdfsPath } from './hdfs/webhdfs.js';
export type { FileStatus, HdfsConnectionConfig } from './hdfs/webhdfs.js';
// Glob patterns over HDFS paths, one segment at a time (the `hdfs` source, `hdfs://` feeds).
export { isGlobSegment, segmentRegExp, segmentsOf } from './hdfs/glob.js';

// Line pre-filters a node offers to a line source of the same run (the incremental ioc-sweep's,
// applied by the `hdfs` source before any record is built).
export { offerLineFilter, lineFilterOf, type LineFilter, type LineFilterOffer } from './line-filter.js';
// Key indexes of archived lines (the `hdfs` sink's `key_index` sidecars, read by the `hdfs` source).
export {
  addLineKeys,
  RecordKeys,
  keyAsLine,
  formatKeyIndex,
  parseKeyIndex,
  blocksToRead,
  KeyIndexError,
  KEY_INDEX_VERSION,
  TOKEN_CLASS,
  TOKEN_TOK,
  TOKEN_DOT,
  TOKEN_PCT,
  TOKEN_NONDIGIT,
  TOKEN_HEXCH,
  TOKEN_BAD,
  TOKEN_DIGIT,
  type KeyIndex,
  type IndexedBlock,
  type KeyBlock,
} from './line-keys.js';

// The message time as the `kafka` source gives it (ISO-8601 UTC, cached per millisecond).
export { isoTime } from './record.js';

// The line sources' (`file`, `hdfs`) cutting of lines into blocks, and their delivered-offset checkpoints.
export { batchLinesOf, cutLines, Checkpoints, DEFAULT_BATCH_LINES, lineSourceProperties, type CutLines } from './line-reader.js';
export { mix32 } from './util/hash.js';
