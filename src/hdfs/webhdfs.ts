/**
 * A WebHDFS client for the `hdfs` sink and source, over the `webhdfs` package (1.2.x), with what
 * the package leaves out:
 *
 * - promises, and a deadline on every call: the package calls back for a 503 neither with an error
 *   nor with success (its `_isError` lists 400–404 and 500 only), so a call could hang for ever;
 * - errors that say whether they are worth retrying (`transient: true` for connection failures,
 *   timeouts, safe mode, standby NameNodes, unparseable server errors): the runtime retries those
 *   with backoff while the source waits;
 * - uploads verified by the file's length afterwards (the package reports success for any DataNode
 *   status it does not list as an error);
 * - reads checked against the status and the length asked for (the package passes the body of a
 *   status it does not list as an error on as file data);
 * - renames that replace the destination atomically (`renameoptions=OVERWRITE`, rename2): a plain
 *   WebHDFS rename onto an existing file answers `{"boolean": false}` with status 200, which the
 *   package reports as success;
 * - path segments percent-encoded (the package puts the path into the URL as given);
 * - a delegation token on every request (the package knows only `user.name`), and never in a
 *   message: the token is replaced by `***` in every error.
 *
 * The package's `createWriteStream()` uploads only what is piped into it (`.write()` on it throws
 * inside the package): uploads pipe a Readable over the buffer.
 */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';

const require = createRequire(import.meta.url);

export interface HdfsConnectionConfig {
  /** WebHDFS base URL of the NameNode, e.g. http://127.0.0.1:9870 */
  url: string;
  /** `user.name` for simple authentication. */
  user?: string;
  /** A Hadoop delegation token (sent as `delegation`). */
  delegation_token?: string;
  /** Deadline of one WebHDFS call, ms. */
  timeout_ms: number;
}

/** The connection part of a plugin's `with:` schema (shared by the sink and the source). */
export const connectionSchemaProperties = {
  url: {
    type: 'string',
    pattern: '^https?://[^/?#]+/?$',
    default: 'http://127.0.0.1:9870',
    description: 'WebHDFS address of the NameNode (its HTTP port, 9870 by default). `/webhdfs/v1` is added.',
    examples: ['http://namenode.example:9870'],
  },
  user: {
    type: 'string',
    minLength: 1,
    description: 'User name sent as `user.name` (simple authentication). Not sent when a delegation token is given: the token names the user.',
    examples: ['etl'],
  },
  delegation_token: {
    type: 'string',
    minLength: 1,
    description:
      'A Hadoop delegation token, sent as `delegation` on every request (secure clusters). Give it from the environment (`${HDFS_DELEGATION_TOKEN}`); it is never logged and is masked in errors.',
  },
  timeout_ms: {
    type: 'integer',
    minimum: 100,
    default: 30000,
    description: 'Deadline of one WebHDFS call (connect, and each request); a call that takes longer fails as a transient error and is retried.',
  },
} as const;

export interface FileStatus {
  pathSuffix: string;
  type: 'FILE' | 'DIRECTORY' | 'SYMLINK';
  length: number;
  modificationTime: number;
  fileId?: number;
}

export class HdfsError extends Error {
  readonly transient: boolean;
  readonly code?: string;
  constructor(message: string, transient: boolean, code?: string) {
    super(message);
    this.name = 'HdfsError';
    this.transient = transient;
    if (code) this.code = code;
  }
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);
const TRANSIENT_TEXT =
  /safe ?mode|RetriableException|StandbyException|Unknown error|Unexpected redirect|socket hang up|Failed to find datanode|could only be (?:replicated|written)|Service Unavailable|not ready|All datanodes .* are bad/i;
const NOT_FOUND_TEXT = /does not exist|FileNotFoundException|not found/i;

/** Percent-encode each segment of an absolute HDFS path (the package puts it into the URL as given). */
export function encodeHdfsPath(path: string): string {
  return path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

type Callback = (err?: any, ...rest: any[]) => void;
interface WebHdfsClient {
  mkdir(path: string, mode: string | null, cb: Callback): any;
  readdir(path: string, cb: Callback): any;
  stat(path: string, cb: Callback): any;
  rename(path: string, dest: string, cb: Callback): any;
  unlink(path: string, recursive: boolean, cb: Callback): any;
  createWriteStream(path: string, append: boolean, opts: object): any;
  createReadStream(path: string, opts?: object): any;
  _getOperationEndpoint(op: string, path: string, params?: object): string;
}

let webhdfsModule: { createClient(opts: object, requestParams?: object): WebHdfsClient } | undefined;

export class Hdfs {
  private readonly client: WebHdfsClient;
  /** Extra query parameters for the next endpoint the package builds (set just around one call). */
  private extra: Record<string, string> | undefined;
  readonly authority: string;

  constructor(private readonly cfg: HdfsConnectionConfig) {
    const u = new URL(cfg.url);
    this.authority = u.host;
    webhdfsModule ??= require('webhdfs');
    this.client = webhdfsModule!.createClient(
      {
        protocol: u.protocol.replace(':', ''),
        host: u.hostname,
        port: u.port || (u.protocol === 'https:' ? '443' : '80'),
        path: '/webhdfs/v1',
        user: cfg.delegation_token ? undefined : cfg.user,
      },
      {
        timeout: cfg.timeout_ms,
        // `request` (CVE-2023-28155) would follow a redirect to another protocol: reads follow the
        // NameNode's redirect only to the protocol configured (uploads follow it in the package).
        followRedirect: (res: { headers: { location?: string } }) => {
          try {
            return new URL(res.headers.location ?? '', cfg.url).protocol === u.protocol;
          } catch {
            return false;
          }
        },
      },
    );
    // Every endpoint the package builds goes through here: encode the path, add the token and the
    // one-call extras. (The package exposes no other hook; the method is synchronous.)
    const base = this.client._getOperationEndpoint;
    const token = cfg.delegation_token;
    const self = this;
    this.client._getOperationEndpoint = function (op: string, path: string, params?: object): string {
      const p: Record<string, unknown> = { ...(params ?? {}) };
      if (token) p.delegation = token;
      if (self.extra) Object.assign(p, self.extra);
      return base.call(this, op, encodeHdfsPath(path), p);
    };
  }

  /** The endpoint URL the package would call (for tests of the parameters). */
  endpoint(op: string, path: string, params?: object): string {
    return this.client._getOperationEndpoint(op, path, params);
  }

  /** A message without the token. */
  private mask(text: string): string {
    const t = this.cfg.delegation_token;
    return t ? text.split(t).join('***') : text;
  }

  private wrapError(err: any, what: string): HdfsError {
    if (err instanceof HdfsError) return err;
    const code: string | undefined = typeof err?.code === 'string' ? err.code : undefined;
    const msg = this.mask(String(err?.message ?? err));
    const transient = (code !== undefined && TRANSIENT_CODES.has(code)) || TRANSIENT_TEXT.test(msg) || err?.connect === true;
    return new HdfsError(this.mask(`WebHDFS ${what}: ${msg}`), transient, code);
  }

  /** Run one callback-style call of the package with a deadline. */
  private call<T>(what: string, start: (cb: Callback) => any): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      let req: any;
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        try {
          req?.abort?.();
        } catch {
          /* already gone */
        }
        reject(new HdfsError(this.mask(`WebHDFS ${what}: no answer within ${this.cfg.timeout_ms} ms`), true, 'ETIMEDOUT'));
      }, this.cfg.timeout_ms + 1000);
      try {
        req = start((err?: any, value?: any) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          if (err) reject(this.wrapError(err, what));
          else resolve(value as T);
        });
      } catch (err) {
        done = true;
        clearTimeout(timer);
        reject(this.wrapError(err, what));
      }
    });
  }

  async mkdirs(path: string): Promise<void> {
    await this.call<void>(`mkdirs ${path}`, (cb) => this.client.mkdir(path, '0755', (e: any) => cb(e)));
  }

  /** The entries of a directory, or null when it does not exist. */
  async list(path: string): Promise<FileStatus[] | null> {
    try {
      return await this.call<FileStatus[]>(`list ${path}`, (cb) => this.client.readdir(path, cb));
    } catch (err) {
      if (!(err as HdfsError).transient && NOT_FOUND_TEXT.test((err as Error).message)) return null;
      throw err;
    }
  }

  /** The status of a path, or null when it does not exist. */
  async stat(path: string): Promise<FileStatus | null> {
    try {
      return await this.call<FileStatus>(`stat ${path}`, (cb) => this.client.stat(path, cb));
    } catch (err) {
      if (!(err as HdfsError).transient && NOT_FOUND_TEXT.test((err as Error).message)) return null;
      throw err;
    }
  }

  /** Delete a path (no error when it is not there). */
  async delete(path: string, recursive = false): Promise<void> {
    await this.call<void>(`delete ${path}`, (cb) => this.client.unlink(path, recursive, (e: any) => cb(e)));
  }

  /** Rename, replacing the destination if it exists (atomic on the NameNode). */
  async renameOverwrite(from: string, to: string): Promise<void> {
    await this.call<void>(`rename ${from} → ${to}`, (cb) => {
      this.extra = { renameoptions: 'OVERWRITE' };
      try {
        return this.client.rename(from, to, (e: any) => cb(e));
      } finally {
        this.extra = undefined;
      }
    });
  }

  /**
   * Create (or overwrite) a file with `data`: the NameNode answers 307 with a DataNode address, the
   * package follows it and uploads. The length is checked afterwards.
   */
  async create(path: string, data: Buffer): Promise<void> {
    await this.call<void>(`create ${path}`, (cb) => {
      const ws = this.client.createWriteStream(path, false, { overwrite: true, permission: '0644' });
      let failed = false;
      ws.on('error', (e: any) => {
        failed = true;
        cb(e);
      });
      ws.on('finish', () => {
        if (!failed) cb();
      });
      Readable.from([data], { objectMode: false }).pipe(ws);
      return ws;
    });
    const st = await this.stat(path);
    if (!st) throw new HdfsError(`WebHDFS create ${path}: the file is not there after the upload`, true);
    if (st.length !== data.length) throw new HdfsError(`WebHDFS create ${path}: ${st.length} bytes stored, ${data.length} sent`, true);
  }

  /** Read `length` bytes at `offset` (fewer only at the end of the file). Checks status and length. */
  read(path: string, offset: number, length: number): Promise<Buffer> {
    const what = `read ${path} @${offset}+${length}`;
    return this.call<Buffer>(what, (cb) => {
      const req = this.client.createReadStream(path, { offset, length });
      const parts: Buffer[] = [];
      let status = 0;
      let settled = false;
      const finish = (err?: any, v?: Buffer) => {
        if (settled) return;
        settled = true;
        cb(err, v);
      };
      req.on('response', (res: any) => {
        status = res.statusCode;
      });
      req.on('data', (c: Buffer) => {
        if (status === 200) parts.push(c);
        else if (status !== 0) finish(new Error(`status ${status}: ${String(c).slice(0, 300)}`));
      });
      req.on('error', (e: any) => finish(e));
      req.on('complete', () => {
        if (status !== 200) return finish(new Error(`status ${status}`));
        finish(undefined, Buffer.concat(parts));
      });
      return req;
    }).then((buf) => {
      if (buf.length > length) throw new HdfsError(`WebHDFS ${what}: ${buf.length} bytes returned`, true);
      return buf;
    });
  }

  /** A URI naming a path on this cluster, for origins and summaries (`hdfs://host/path`). */
  uri(path: string): string {
    return `hdfs://${new URL(this.cfg.url).hostname}${path}`;
  }
}

/** Hidden or in-progress files that readers skip: `_x`, `.x`, `x.inprogress`, `x.tmp`, `x._COPYING_`. */
export function isHiddenName(name: string): boolean {
  return name.startsWith('_') || name.startsWith('.') || name.endsWith('.inprogress') || name.endsWith('.tmp') || name.endsWith('._COPYING_');
}
