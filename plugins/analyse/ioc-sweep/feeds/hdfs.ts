/**
 * Feeds kept in HDFS: `path: hdfs:///feeds/bad-ips.txt` (or `hdfs://namenode/...`), read over
 * WebHDFS with the client of the `hdfs` source and sink (src/hdfs/webhdfs.ts). A path is a file or
 * a directory (its visible files, not recursive, in name order; `_x`, `.x` and in-progress files
 * are skipped, as every HDFS reader does). `.gz` files, or files starting with the gzip magic, are
 * decompressed. Transient WebHDFS failures are retried a few times within the feed's `timeout`.
 */
import { gunzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDuration } from '../../../../src/api.js';
import { Hdfs, HdfsError, isGlobSegment, isHiddenName, segmentRegExp, segmentsOf } from '../../../../src/internal.js';
import type { FeedConfig, FeedInput } from './types.js';
import { FeedError } from './index.js';

const READ_CHUNK = 8 * 1024 * 1024;

/** Whether a feed path names HDFS. */
export function isHdfsPath(p: string): boolean {
  return /^hdfs:\/\//i.test(p);
}

/** The cluster and absolute path an `hdfs://[authority]/path` names (the authority gives the NameNode host, port 9870). */
export function hdfsTarget(feed: FeedConfig): { client: Hdfs; path: string } {
  const m = /^hdfs:\/\/([^/]*)(\/.*)$/i.exec(feed.path!);
  if (!m) throw new FeedError('FEED_BAD_PATH', `feed '${feed.name}': '${feed.path}' is not hdfs://[host]/absolute/path`);
  const host = m[1]!;
  const h = feed.hdfs ?? {};
  const url = h.url ?? (host ? `http://${host.replace(/:\d+$/, '')}:9870` : 'http://127.0.0.1:9870');
  const client = new Hdfs({ url, user: h.user, delegation_token: h.delegation_token, timeout_ms: h.timeout_ms ?? 30000 });
  return { client, path: decodeURI(m[2]!).replace(/\/+$/, '') || '/' };
}

async function readWhole(client: Hdfs, path: string, length: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let off = 0;
  while (off < length) {
    const b = await client.read(path, off, Math.min(READ_CHUNK, length - off));
    if (b.length === 0) throw new HdfsError(`WebHDFS read ${path} @${off}: nothing returned before the end of the file`, true);
    parts.push(b);
    off += b.length;
  }
  return Buffer.concat(parts);
}

function text(buf: Buffer, path: string): string {
  const gz = path.endsWith('.gz') || (buf.length > 2 && buf[0] === 0x1f && buf[1] === 0x8b);
  return (gz ? gunzipSync(buf) : buf).toString('utf8');
}

/** Read the file (or the files of the directory) a feed's `hdfs://` path names. */
export async function readHdfsFeed(feed: FeedConfig, signal?: AbortSignal): Promise<FeedInput[]> {
  const { client, path } = hdfsTarget(feed);
  const deadline = Date.now() + parseDuration(feed.timeout);
  const attempt = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (let delay = 200; ; delay = Math.min(2 * delay, 2000)) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof HdfsError && e.transient) || Date.now() + delay >= deadline || signal?.aborted) throw e;
        await sleep(delay);
      }
    }
  };
  const join = (dir: string, name: string) => `${dir === '/' ? '' : dir}/${name}`;
  /** The visible files of a directory, in name order. */
  const filesIn = async (dir: string, out: { path: string; length: number }[]) => {
    const list = (await attempt(() => client.list(dir))) ?? [];
    for (const f of list.sort((a, b) => (a.pathSuffix < b.pathSuffix ? -1 : 1))) {
      if (f.type === 'FILE' && !isHiddenName(f.pathSuffix)) out.push({ path: join(dir, f.pathSuffix), length: f.length });
    }
  };
  try {
    const files: { path: string; length: number }[] = [];
    const segs = segmentsOf(path);
    if (segs.some(isGlobSegment)) {
      // A glob: walk the segments, listing only where a segment is a pattern.
      let dirs = ['/'];
      for (let i = 0; i < segs.length; i++) {
        const seg = segs[i]!;
        const last = i === segs.length - 1;
        const next: string[] = [];
        for (const dir of dirs) {
          if (!isGlobSegment(seg)) {
            const p = join(dir, seg);
            const st = await attempt(() => client.stat(p));
            if (!st) continue;
            if (st.type === 'DIRECTORY') next.push(p);
            else if (last && st.type === 'FILE') files.push({ path: p, length: st.length });
            continue;
          }
          const re = segmentRegExp(seg);
          for (const e of (await attempt(() => client.list(dir))) ?? []) {
            if (!re.test(e.pathSuffix) || isHiddenName(e.pathSuffix)) continue;
            const p = join(dir, e.pathSuffix);
            if (e.type === 'DIRECTORY') next.push(p);
            else if (last && e.type === 'FILE') files.push({ path: p, length: e.length });
          }
        }
        dirs = next;
      }
      for (const d of dirs) await filesIn(d, files); // directories the last segment matched
      files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      if (files.length === 0) throw new FeedError('FEED_NOT_FOUND', `feed '${feed.name}': no file matches ${feed.path}`);
    } else {
      const st = await attempt(() => client.stat(path));
      if (!st) throw new FeedError('FEED_NOT_FOUND', `feed '${feed.name}': ${feed.path} does not exist`);
      if (st.type === 'DIRECTORY') {
        await filesIn(path, files);
        if (files.length === 0) throw new FeedError('FEED_NOT_FOUND', `feed '${feed.name}': no file in ${feed.path}`);
      } else files.push({ path, length: st.length });
    }
    const out: FeedInput[] = [];
    for (const f of files) out.push({ label: client.uri(f.path), text: text(await attempt(() => readWhole(client, f.path, f.length)), f.path) });
    return out;
  } catch (e) {
    if (e instanceof FeedError) throw e;
    throw new FeedError('FEED_READ_FAILED', `feed '${feed.name}': cannot read ${feed.path}: ${(e as Error).message}`);
  }
}
