/**
 * Load one feed into a fresh IndicatorStore: read its source (path/glob, directory, or http(s)
 * URL), pick the format (explicit or detected), run the loader, and return the store with its tally.
 * A feed that cannot be read at all throws a FeedError; rows that cannot be used are only counted.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { parseDuration } from '../../../../src/api.js';
import { IndicatorStoreBuilder } from '../store-builder.js';
import type { FeedConfig, FeedFormat, FeedInput, LoadContext } from './types.js';
import { FileFeedInput, Tally } from './types.js';
import { loadPlain, SPLIT_MIN_CHARS, splitWanted } from './plain.js';
import { loadJson } from './json.js';
import { isHdfsPath, readHdfsFeed } from './hdfs.js';
import { type FileIdentity, fileIdentity, keyForIdentity, readSnapshot, snapshotKey, writeIdentity, writeSnapshot } from './snapshot.js';
import { IndicatorStore } from '../store.js';

export class FeedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface FeedLoad {
  store: IndicatorStore;
  tally: Tally;
  format: Exclude<FeedFormat, 'auto'>;
  inputs: string[];
  ms: number;
  /**
   * With `ReadOptions.snapshot`: whether the store came from the snapshot, and why not. A store that
   * was built is written as the snapshot after the load returns, off the way to the first record:
   * `written` settles when that is done (never rejects), with `writeError` set if it failed.
   */
  snapshot?: {
    used: boolean;
    /** When used: found by the feed file's unchanged identity (its bytes never read) or by its bytes' key. */
    by?: 'file identity' | 'feed bytes';
    miss?: string;
    written?: Promise<void>;
    writeError?: string;
  };
}

export interface ReadOptions {
  resolvePath(p: string): string;
  signal?: AbortSignal;
  /** Where to keep the feed's snapshot (snapshot.ts); none: build the store every time. */
  snapshot?: string;
}

async function fetchText(url: string, feed: FeedConfig, signal: AbortSignal | undefined): Promise<string> {
  const timeout = AbortSignal.timeout(parseDuration(feed.timeout));
  const sig = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(url, { signal: sig, headers: feed.headers ?? {}, redirect: 'follow' });
  } catch (e) {
    throw new FeedError('FEED_FETCH_FAILED', `feed '${feed.name}': GET ${url} failed: ${(e as Error).message}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new FeedError('FEED_HTTP_STATUS', `feed '${feed.name}': GET ${url} answered HTTP ${res.status} ${res.statusText}`);
  }
  return res.text();
}

/** A MISP feed folder: `manifest.json` lists event uuids; each event is `<uuid>.json` beside it. */
async function readMispFeed(base: string, isUrl: boolean, feed: FeedConfig, signal?: AbortSignal): Promise<FeedInput[]> {
  const sep = base.endsWith('/') ? '' : '/';
  const get = (name: string) => (isUrl ? fetchText(`${base}${sep}${name}`, feed, signal) : readFile(join(base, name), 'utf8'));
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(await get('manifest.json'));
  } catch (e) {
    throw e instanceof FeedError
      ? e
      : new FeedError('FEED_BAD_MANIFEST', `feed '${feed.name}': cannot read ${base}${sep}manifest.json: ${(e as Error).message}`);
  }
  const out: FeedInput[] = [];
  for (const uuid of Object.keys(manifest)) {
    const label = `${base}${sep}${uuid}.json`;
    if (!/^[0-9a-fA-F-]{36}$/.test(uuid)) {
      // Never let a manifest key become a path; count it as an unreadable unit.
      out.push({ label: `${base}${sep}manifest.json`, text: JSON.stringify({ __unreadable: { reason: 'BAD_MANIFEST_KEY', message: uuid } }) });
      continue;
    }
    try {
      out.push({ label, text: await get(`${uuid}.json`) });
    } catch (e) {
      // A missing event file is one unreadable unit, not a failed feed.
      out.push({ label, text: JSON.stringify({ __unreadable: { reason: 'EVENT_MISSING', message: (e as Error).message } }) });
    }
  }
  return out;
}

/** Read a feed's source. Paths are globs; a directory or `manifest.json` means a MISP feed folder. */
export async function readFeed(feed: FeedConfig, opts: ReadOptions): Promise<{ inputs: FeedInput[]; mispFeed: boolean }> {
  if (feed.url !== undefined) {
    const isManifest = feed.url.endsWith('/manifest.json');
    if (isManifest || (feed.format === 'misp' && feed.url.endsWith('/'))) {
      const base = isManifest ? feed.url.slice(0, -'/manifest.json'.length) : feed.url;
      return { inputs: await readMispFeed(base, true, feed, opts.signal), mispFeed: true };
    }
    return { inputs: [{ label: feed.url, text: await fetchText(feed.url, feed, opts.signal) }], mispFeed: false };
  }
  if (isHdfsPath(feed.path!)) return { inputs: await readHdfsFeed(feed, opts.signal), mispFeed: false };
  const p = opts.resolvePath(feed.path!);
  const st = await stat(p).catch(() => null);
  if (st?.isDirectory()) return { inputs: await readMispFeed(p, false, feed), mispFeed: true };
  if (st?.isFile() && p.endsWith('manifest.json')) return { inputs: await readMispFeed(dirname(p), false, feed), mispFeed: true };
  // the glob library loads only for a pattern (start-up time)
  const files = st?.isFile() ? [p] : (await (await import('fast-glob')).default(p.replace(/\\/g, '/'), { onlyFiles: true, dot: false })).sort();
  if (files.length === 0) throw new FeedError('FEED_NOT_FOUND', `feed '${feed.name}': no file matches ${feed.path}`);
  const inputs: FeedInput[] = [];
  for (const f of files) {
    try {
      inputs.push(new FileFeedInput(f, await readShared(f)));
    } catch (e) {
      throw new FeedError('FEED_READ_FAILED', `feed '${feed.name}': cannot read ${f}: ${(e as Error).message}`);
    }
  }
  return { inputs, mispFeed: false };
}

/** A file's bytes, read into a SharedArrayBuffer (a plain list's loader thread reads the same memory). */
async function readShared(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) return shared(await fh.readFile()); // a pipe, a device: no size to read by
    const size = st.size;
    const out = Buffer.from(new SharedArrayBuffer(size));
    let got = 0;
    while (got < size) {
      const { bytesRead } = await fh.read(out, got, size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    // a file that shrank while read: what was there; one that grew: read again, whole
    if (got < size) return out.subarray(0, got);
    if ((await fh.read(Buffer.alloc(1), 0, 1, size)).bytesRead === 0) return out;
    return shared(await fh.readFile());
  } finally {
    await fh.close();
  }
}

function shared(b: Buffer): Buffer {
  const out = Buffer.from(new SharedArrayBuffer(b.length));
  b.copy(out);
  return out;
}

/** Enough of an input's text for `detectFormat` (a file's head decoded, not all of it). */
function formatHead(input: FeedInput): string {
  const b = input.bytes;
  if (b === undefined || b.length <= 65536) return input.text;
  const head = b.toString('utf8', 0, 65536);
  let i = head.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < head.length && /\s/.test(head[i]!)) i++;
  // detectFormat looks at 4096 characters after the leading space; a margin for a character cut at the end
  return i + 4096 + 8 < head.length ? head : input.text;
}

/** Pick a format from the name and the first bytes: cheap, and explicit `format:` always wins. */
export function detectFormat(label: string, text: string): Exclude<FeedFormat, 'auto'> {
  const ext = extname(label.replace(/\?.*$/, '')).toLowerCase();
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  const c = text[i];
  if (c === '{' || c === '[') {
    const head = text.slice(i, i + 4096);
    if (/"type"\s*:\s*"(bundle|indicator)"/.test(head) || /"pattern"\s*:/.test(head)) return 'stix';
    if (/"(Event|Attribute)"\s*:/.test(head)) return 'misp';
    return 'json';
  }
  if (ext === '.json' || ext === '.jsonl' || ext === '.ndjson') return 'json';
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  // Unnamed: a quoted header or a commented CSV header means CSV.
  const head = text.slice(i, i + 4096);
  if (/^"[^"\n]*","/m.test(head) || /^#\s*\w+(,\w+){2,}\s*$/m.test(head)) return 'csv';
  return 'list';
}

/**
 * The identity of a feed read from one local file (what `readFeed` would read as that file alone), taken
 * before its bytes are read, at `now` (the load's clock); undefined for a URL, HDFS, a glob or a MISP folder.
 */
async function localFileIdentity(feed: FeedConfig, opts: ReadOptions, now: number): Promise<{ path: string; identity: FileIdentity } | undefined> {
  if (feed.path === undefined || isHdfsPath(feed.path)) return undefined;
  const path = opts.resolvePath(feed.path);
  if (path.endsWith('manifest.json')) return undefined;
  const st = await stat(path, { bigint: true }).catch(() => null);
  return st?.isFile() ? { path, identity: fileIdentity(feed, path, st, now) } : undefined;
}

/** Load a feed into a new store (never touching a store in use). */
export async function loadFeed(feed: FeedConfig, opts: ReadOptions, now = Date.now()): Promise<FeedLoad> {
  const t0 = performance.now();
  const local = opts.snapshot === undefined ? undefined : await localFileIdentity(feed, opts, now);
  if (local !== undefined) {
    // the file as it was when its snapshot was keyed: the key without reading or hashing the feed
    const known = await keyForIdentity(opts.snapshot!, local.identity);
    const s = known === undefined ? undefined : await readSnapshot(opts.snapshot!, known, now);
    if (s !== undefined && !('miss' in s)) {
      const store = IndicatorStore.fromShared(s.store);
      return {
        store,
        tally: s.load.tally,
        format: s.load.format,
        inputs: [local.path],
        ms: performance.now() - t0,
        snapshot: { used: true, by: 'file identity' },
      };
    }
  }
  const { inputs, mispFeed } = await readFeed(feed, opts);
  const labels = inputs.map((i) => i.label);
  const key = opts.snapshot === undefined ? undefined : snapshotKey(feed, inputs, mispFeed);
  // a sidecar only when the file read is the file whose identity was taken (not a MISP folder's manifest)
  const identity = local !== undefined && !mispFeed && labels.length === 1 && labels[0] === local.path ? local.identity : undefined;
  let miss: string | undefined;
  if (key !== undefined) {
    const s = await readSnapshot(opts.snapshot!, key, now);
    if (!('miss' in s)) {
      const store = IndicatorStore.fromShared(s.store);
      if (identity !== undefined) await writeIdentity(opts.snapshot!, identity, key).catch(() => undefined);
      return { store, tally: s.load.tally, format: s.load.format, inputs: labels, ms: performance.now() - t0, snapshot: { used: true, by: 'feed bytes' } };
    }
    miss = s.miss;
  }
  const store = new IndicatorStoreBuilder(feed.name);
  const tally = new Tally();
  const base = store.meta({ exact: feed.exact, confidence: feed.confidence, tags: feed.tags, description: feed.description });
  const ctx: LoadContext = { store, feed, tally, base, now, stableUntil: Infinity };
  let format: Exclude<FeedFormat, 'auto'> = feed.format === 'auto' ? 'list' : feed.format;
  for (const input of inputs) {
    format = mispFeed ? 'misp' : feed.format === 'auto' ? detectFormat(input.label, formatHead(input)) : feed.format;
    switch (format) {
      case 'list':
        // a large list may be parsed on two threads (split.ts, opt-in); its module loads only then
        if ((input.bytes?.length ?? input.text.length) >= SPLIT_MIN_CHARS && splitWanted()) await (await import('./split.js')).loadPlainMaybeSplit(input, ctx);
        else loadPlain(input, ctx);
        break;
      // the CSV reader (and csv-parse) loads only for a CSV feed: otherwise every run's start-up would pay for it
      case 'csv':
        (await import('./csv.js')).loadCsv(input, ctx);
        break;
      case 'stix':
        loadJson(input, ctx, 'stix');
        break;
      case 'misp':
        loadJson(input, ctx, 'misp');
        break;
      case 'json':
        loadJson(input, ctx, null);
        break;
    }
  }
  const sealed = store.seal();
  const load: FeedLoad = { store: sealed, tally, format, inputs: labels, ms: performance.now() - t0 };
  if (key !== undefined) {
    const snapshot: NonNullable<FeedLoad['snapshot']> = { used: false, miss };
    const path = opts.snapshot!;
    const stableUntil = ctx.stableUntil;
    // after the caller has the store (a timer, not a microtask: the caller's own synchronous work first)
    snapshot.written = new Promise<void>((done) => setImmediate(done))
      .then(() => writeSnapshot(path, key, sealed.toShared(), { format, tally }, stableUntil))
      .then(() => (identity === undefined ? undefined : writeIdentity(path, identity, key)))
      .catch((e: unknown) => {
        snapshot.writeError = (e as Error).message;
      });
    load.snapshot = snapshot;
  }
  return load;
}
