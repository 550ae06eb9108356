/**
 * Feed snapshots: a loaded feed's sealed store written to the node's state directory, so the next
 * load of the same feed (a restart, the next scheduled sweep, a refresh that fetched the same bytes)
 * reads its tables back instead of parsing and normalising every indicator again.
 *
 * A snapshot is used only when its key matches: a SHA-256 over the feed's bytes (every input, with
 * its label), the feed's settings, the code that builds a store (the `.js`/`.ts` files of this
 * plugin and of `src/net/`, and the CSV parser's version: any change to a loader, to address or host
 * parsing, or to the tables' layout misses) and the Node.js and ICU
 * versions (host names go through `domainToASCII`, URLs through WHATWG `URL`). A STIX feed whose
 * indicators start or stop being valid later records that moment; the snapshot is not used from then
 * on. The tables' bytes carry their own CRC-32 (SHA-256 where this Node has no `zlib.crc32`), checked
 * on every read: a damaged or cut snapshot is a miss, never a wrong answer. A checksum, not a digest:
 * it guards against a torn or flipped file, not a forged one (whoever can write the state directory
 * can write any answer), and it reads the tables several times faster.
 *
 * A feed read from one local file also gets a sidecar (`<snapshot>.id`): the file's identity (device,
 * inode, size, modification and change times, to the nanosecond) beside the key its bytes gave. The
 * next load that finds the file with the same identity takes the key from the sidecar and never reads
 * or hashes the feed. The sidecar is written only when the file had not changed for
 * `IDENTITY_SETTLED_MS` before its bytes were read (the rule git uses for its index): a file rewritten
 * within the same clock tick as the read could otherwise keep its identity with other bytes. Any later
 * write to the file moves its change time, which no tool can set back.
 *
 * File layout: `SLUICE-FEED-SNAPSHOT\n`, the header's length (u32 LE), the header (JSON), then each
 * table buffer, every piece starting on an 8-byte boundary. The header holds the store's shape with
 * each SharedArrayBuffer replaced by `{ "$buf": index }`, its metadata, and the load's tally.
 */
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { type BigIntStats, readdirSync, readFileSync, statSync } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { hashBits } from '../flat.js';
import type { Meta, SharedStoreData } from '../store.js';
import type { FeedConfig, FeedFormat, FeedInput } from './types.js';
import { Tally } from './types.js';

const MAGIC = Buffer.from('SLUICE-FEED-SNAPSHOT\n', 'latin1');
/** Bumped when the file layout itself changes (the code hash covers the tables' layout). */
const LAYOUT = 2;

/** What a snapshot gives back besides the store: the load as it was reported when it was built. */
export interface SnapshotLoad {
  format: Exclude<FeedFormat, 'auto'>;
  tally: Tally;
}

interface Header {
  layout: number;
  key: string;
  /** Epoch ms from which the feed would load differently (a STIX validity bound); null: never. */
  stableUntil: number | null;
  format: Exclude<FeedFormat, 'auto'>;
  tally: { rows: number; skipped: number; reasons: Record<string, number>; ignored: number; samples: Tally['samples'] };
  store: unknown;
  metas: Meta[];
  buffers: number[];
  /** The tables' checksum: `crc32:<hex>` or `sha256:<hex>`. */
  check: string;
}

/** `zlib.crc32` (Node ≥ 20.15), or undefined on an older Node. */
const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** The checksum of the tables, fed one buffer at a time. */
class TableCheck {
  private crc = 0;
  private readonly sha = crc32 === undefined ? createHash('sha256') : undefined;
  add(b: Uint8Array): void {
    if (this.sha !== undefined) this.sha.update(b);
    else this.crc = crc32!(b, this.crc);
  }
  value(): string {
    return this.sha !== undefined ? `sha256:${this.sha.digest('hex')}` : `crc32:${(this.crc >>> 0).toString(16).padStart(8, '0')}`;
  }
}

let codeHash: string | undefined;

/**
 * A hash of the code that turns feed bytes into tables: this plugin's sources (compiled or not), the
 * address and host parsing they use (`src/net/`), and the version of the CSV parser.
 */
function builderCode(): string {
  if (codeHash !== undefined) return codeHash;
  const here = fileURLToPath(import.meta.url);
  const ext = extname(here);
  const feeds = dirname(here);
  const plugin = dirname(feeds);
  const h = createHash('sha256');
  for (const dir of [plugin, feeds, join(plugin, '..', '..', '..', 'src', 'net')]) {
    const names = statSync(dir, { throwIfNoEntry: false })?.isDirectory() ? readdirSync(dir) : [];
    for (const f of names.filter((n) => n.endsWith(ext)).sort()) {
      h.update(`${basename(dir)}/${f}\0`);
      h.update(readFileSync(join(dir, f)));
    }
  }
  h.update(`csv-parse@${packageVersion('csv-parse')}`);
  codeHash = h.digest('hex');
  return codeHash;
}

/** The version of an installed package (its `package.json` above its entry point), or '' when not found. */
function packageVersion(name: string): string {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve(name));
    for (;;) {
      const pkg = statSync(join(dir, 'package.json'), { throwIfNoEntry: false })
        ? (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string })
        : undefined;
      if (pkg?.name === name) return pkg.version ?? '';
      const up = dirname(dir);
      if (up === dir) return '';
      dir = up;
    }
  } catch {
    return '';
  }
}

/** What a snapshot's key covers besides the feed's bytes: the file layout, the code, the runtime, the hash width. */
function buildKey(): string {
  return JSON.stringify({ layout: LAYOUT, code: builderCode(), node: process.version, icu: process.versions.icu ?? '', hashBits: hashBits() });
}

/** The key a snapshot of `feed`, read as `inputs`, must carry to be used. */
export function snapshotKey(feed: FeedConfig, inputs: readonly FeedInput[], mispFeed: boolean): string {
  const h = createHash('sha256');
  h.update(buildKey());
  h.update(JSON.stringify({ feed, mispFeed }));
  for (const input of inputs) {
    const bytes = input.bytes ?? Buffer.from(input.text, 'utf8');
    h.update(`\0${input.label}\0${bytes.length}\0`);
    h.update(bytes);
  }
  return h.digest('hex');
}

/**
 * How long a feed file must have been left alone, before its bytes are read, for its identity to stand
 * for them. Above the coarsest timestamps in use (FAT's 2 s) with room for a file server's clock.
 */
export const IDENTITY_SETTLED_MS = 3000;

/** A feed file's identity: what must not have changed for its snapshot's key to still hold. */
export interface FileIdentity {
  /** A hash of the feed's settings, the build key and the file's path and stat. */
  id: string;
  /** Whether the file had been left alone long enough (`IDENTITY_SETTLED_MS`) for a sidecar to be written. */
  settled: boolean;
}

/** The identity of the feed file at `path` as `st` (taken before its bytes are read, at `takenAt`) shows it. */
export function fileIdentity(feed: FeedConfig, path: string, st: BigIntStats, takenAt: number): FileIdentity {
  const h = createHash('sha256');
  h.update(buildKey());
  const stat = [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].map(String);
  h.update(JSON.stringify({ feed, path, stat }));
  const changed = Number((st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs) / 1_000_000n);
  return { id: h.digest('hex'), settled: changed < takenAt - IDENTITY_SETTLED_MS };
}

const sidecarOf = (snapshot: string) => `${snapshot}.id`;

/** The snapshot key the sidecar of `snapshot` gives for `identity`, if it records that identity. */
export async function keyForIdentity(snapshot: string, identity: FileIdentity): Promise<string | undefined> {
  try {
    const rec = JSON.parse(await readFile(sidecarOf(snapshot), 'utf8')) as { id?: unknown; key?: unknown };
    return rec.id === identity.id && typeof rec.key === 'string' ? rec.key : undefined;
  } catch {
    return undefined;
  }
}

/** Record that a settled file with `identity` gives `key` (to a temporary name, then renamed). */
export async function writeIdentity(snapshot: string, identity: FileIdentity, key: string): Promise<void> {
  if (!identity.settled) return;
  const path = sidecarOf(snapshot);
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(tmp, JSON.stringify({ id: identity.id, key }));
  await rename(tmp, path).catch(async (e: unknown) => {
    await rm(tmp, { force: true });
    throw e;
  });
}

const pad8 = (n: number) => (n + 7) & ~7;

/** Write the snapshot of a built store (to a temporary name, then renamed: a reader never sees half a file). */
export async function writeSnapshot(path: string, key: string, store: SharedStoreData, load: SnapshotLoad, stableUntil: number): Promise<void> {
  const buffers: SharedArrayBuffer[] = [];
  const shape = withRefs({ ...store, metas: undefined }, buffers);
  const check = new TableCheck();
  for (const b of buffers) check.add(new Uint8Array(b));
  const t = load.tally;
  const header: Header = {
    layout: LAYOUT,
    key,
    stableUntil: Number.isFinite(stableUntil) ? stableUntil : null,
    format: load.format,
    tally: { rows: t.rows, skipped: t.skipped, reasons: t.reasons, ignored: t.ignored, samples: t.samples },
    store: shape,
    metas: store.metas,
    buffers: buffers.map((b) => b.byteLength),
    check: check.value(),
  };
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const lead = Buffer.alloc(pad8(MAGIC.length + 4));
  MAGIC.copy(lead);
  lead.writeUInt32LE(head.length, MAGIC.length);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    let at = 0;
    for (const b of [lead, head, ...buffers.map((x) => new Uint8Array(x))]) {
      await writeAt(fh, b, at);
      at = pad8(at + b.length);
    }
    await fh.truncate(at);
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, path).catch(async (e: unknown) => {
    await rm(tmp, { force: true });
    throw e;
  });
}

/** Why a snapshot was not used (for the feed's log line), or the store and load it holds. */
export type SnapshotRead = { store: SharedStoreData; load: SnapshotLoad } | { miss: string };

/** Read the snapshot at `path` if it holds `key` and is still valid at `now`. */
export async function readSnapshot(path: string, key: string, now: number): Promise<SnapshotRead> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch {
    return { miss: 'none' };
  }
  try {
    const size = (await fh.stat()).size;
    const leadLen = pad8(MAGIC.length + 4);
    const lead = Buffer.alloc(leadLen);
    if ((await fh.read(lead, 0, leadLen, 0)).bytesRead < leadLen || !lead.subarray(0, MAGIC.length).equals(MAGIC)) return { miss: 'not a snapshot' };
    const headLen = lead.readUInt32LE(MAGIC.length);
    if (leadLen + headLen > size) return { miss: 'cut short' };
    const headBytes = Buffer.alloc(headLen);
    if (!(await readAt(fh, headBytes, leadLen))) return { miss: 'cut short' };
    const header = JSON.parse(headBytes.toString('utf8')) as Header;
    if (header.layout !== LAYOUT || header.key !== key) return { miss: 'stale' };
    if (header.stableUntil !== null && now >= header.stableUntil) return { miss: 'expired' };
    const buffers: SharedArrayBuffer[] = [];
    const check = new TableCheck();
    let at = pad8(leadLen + headLen);
    for (const len of header.buffers) {
      const sab = new SharedArrayBuffer(len);
      const view = new Uint8Array(sab);
      if (!(await readAt(fh, view, at))) return { miss: 'cut short' };
      check.add(view);
      buffers.push(sab);
      at = pad8(at + len);
    }
    if (at !== size || check.value() !== header.check) return { miss: 'damaged' };
    const store = withBuffers(header.store, buffers) as SharedStoreData;
    store.metas = header.metas;
    const tally = Object.assign(new Tally(), { rows: header.tally.rows, skipped: header.tally.skipped, ignored: header.tally.ignored });
    Object.assign(tally.reasons, header.tally.reasons);
    tally.samples.push(...header.tally.samples);
    return { store, load: { format: header.format, tally } };
  } catch (e) {
    return { miss: `unreadable (${(e as Error).message})` };
  } finally {
    await fh.close();
  }
}

/** All of `b` written at `at` (a write may take less than it is given). */
async function writeAt(fh: FileHandle, b: Uint8Array, at: number): Promise<void> {
  for (let done = 0; done < b.length; ) done += (await fh.write(b, done, b.length - done, at + done)).bytesWritten;
}

/** `b` filled from `at`; false when the file ends first. */
async function readAt(fh: FileHandle, b: Uint8Array, at: number): Promise<boolean> {
  for (let got = 0; got < b.length; ) {
    const { bytesRead } = await fh.read(b, got, b.length - got, at + got);
    if (bytesRead === 0) return false;
    got += bytesRead;
  }
  return true;
}

/** The store's shape with each SharedArrayBuffer replaced by `{ $buf: i }`, `i` its index in `buffers` (pushed). */
function withRefs(v: unknown, buffers: SharedArrayBuffer[]): unknown {
  if (v instanceof SharedArrayBuffer) return { $buf: buffers.push(v) - 1 };
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => withRefs(x, buffers));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = withRefs(x, buffers);
  return out;
}

/** The store's shape with each `{ $buf: i }` put back as `buffers[i]`. */
function withBuffers(v: unknown, buffers: readonly SharedArrayBuffer[]): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => withBuffers(x, buffers));
  const o = v as Record<string, unknown>;
  if (typeof o.$buf === 'number') {
    const b = buffers[o.$buf];
    if (b === undefined) throw new Error(`no buffer ${o.$buf}`);
    return b;
  }
  for (const k of Object.keys(o)) o[k] = withBuffers(o[k], buffers);
  return o;
}

/** Remove the snapshots in `dir` that no configured feed owns any more (`keep`: file names). */
export async function pruneSnapshots(dir: string, keep: ReadonlySet<string>): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const hourAgo = Date.now() - 3_600_000;
  for (const n of names) {
    // a `.tmp` is another process's write in progress, unless it is old (a crash mid-write)
    const gone = n.endsWith('.store')
      ? !keep.has(n)
      : n.endsWith('.store.id')
        ? !keep.has(n.slice(0, -'.id'.length))
        : n.endsWith('.tmp') && (statSync(join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? Infinity) < hourAgo;
    if (gone) await rm(join(dir, n), { force: true });
  }
}
