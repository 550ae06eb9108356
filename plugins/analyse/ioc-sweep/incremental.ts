/**
 * `since_last_run`: sweep only the indicators a feed did not have at the end of the last completed
 * run. Per feed, the node's state directory holds the canonical keys of every indicator the feed
 * had when a run last finished its input (`<feed>.keys`). At load (and at each refresh) the full
 * store is compared with them: the indicators whose key is not there go into a small store of
 * their own, the one the sweep uses; the full key set is written beside as `<feed>.keys.pending`.
 * When the sweep reaches the end of its input without being stopped, the pending file becomes
 * `<feed>.keys.swept` (a rename: staged); when the run then ends without a failure — every sink's
 * last flush done — the staged file replaces the committed one, so the next run treats today's
 * indicators as known. A run that fails (its last flush included) or is stopped commits nothing:
 * the next run sweeps the same new indicators again.
 *
 * "New" is decided by the indicator's canonical key (normalised value, masked prefix), never by
 * its metadata: a confidence or tag change does not make an indicator new. An indicator removed
 * from the feed leaves the key set at the next commit, so if it comes back later it is new again.
 * A feed seen for the first time (no key file, a renamed feed) is new as a whole: a full sweep.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import type { IndicatorStore, Meta } from './store.js';
import { IndicatorStoreBuilder } from './store-builder.js';

const HEADER = '# sluice ioc-sweep known indicators v1';

/** Where one feed's key files are. */
export interface KeyFiles {
  feed: string;
  committed: string;
  pending: string;
  /** The pending set once the sweep has seen all its input (committed when the run ends well). */
  swept: string;
}

export function keyFiles(stateDir: string, feed: string): KeyFiles {
  const base = join(stateDir, `${encodeURIComponent(feed)}.keys`);
  return { feed, committed: base, pending: `${base}.pending`, swept: `${base}.swept` };
}

/** The keys committed by the last completed run, or null when there is none (first run). */
export async function readKnown(files: KeyFiles): Promise<Set<string> | null> {
  let text: string;
  try {
    text = await readFile(files.committed, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const lines = text.split('\n');
  if (lines[0] !== HEADER) throw new Error(`${files.committed} is not an ioc-sweep key file`);
  const known = new Set<string>();
  for (let i = 1; i < lines.length; i++) if (lines[i]!.length > 0) known.add(lines[i]!);
  return known;
}

export interface Split {
  /** The indicators not in `known` (all of them when `known` is null), in a store of their own. */
  fresh: IndicatorStore;
  /** Every key of the full store (what the run commits). */
  keys: string[];
  /** Indicators of the full store already known. */
  known: number;
  /** Keys known before that the feed no longer has. */
  removed: number;
}

/** Split a full store into the indicators new since `known` and the rest. */
export function splitNew(full: IndicatorStore, known: Set<string> | null): Split {
  if (known === null) {
    const keys: string[] = [];
    full.forEachIndicator((k) => keys.push(k));
    return { fresh: full, keys, known: 0, removed: 0 };
  }
  const b = new IndicatorStoreBuilder(full.feed);
  const keys: string[] = [];
  let seen = 0;
  full.forEachIndicator((k, metas: readonly Meta[]) => {
    keys.push(k);
    if (known.has(k)) {
      seen++;
      return;
    }
    for (const m of metas) b.addKey(k, m);
  });
  return { fresh: b.seal(), keys, known: seen, removed: known.size - seen };
}

/** Write the full key set as this run's pending commit (written whole, then renamed into place). */
export async function writePending(files: KeyFiles, keys: string[], dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = `${files.pending}.tmp`;
  await writeFile(tmp, `${HEADER}\n${keys.join('\n')}\n`);
  await rename(tmp, files.pending);
}

function move(from: string, to: string): boolean {
  try {
    renameSync(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** The sweep saw all its input: stage the pending key set. False when there was nothing pending (already staged). */
export function stage(files: KeyFiles): boolean {
  return move(files.pending, files.swept);
}

/** The run ended well: make the staged key set the committed one. False when nothing was staged. */
export function commit(files: KeyFiles): boolean {
  return move(files.swept, files.committed);
}

/** Drop an uncommitted pending or staged set (the run did not finish its input, or failed). */
export async function discard(files: KeyFiles): Promise<void> {
  await rm(files.pending, { force: true });
  await rm(files.swept, { force: true });
}
