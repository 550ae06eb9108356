/**
 * Line pre-filters offered by one node of a run to a line source of the same run: a source that
 * reads raw lines (the `hdfs` source) can drop the lines that a downstream node is certain to
 * ignore before any record is built from them. The offering node (the `ioc-sweep` with
 * `since_last_run`) registers a provider under its own state directory (`ctx.stateDir()`, which is
 * unique to one node of one pipeline and one state directory); the source finds it by the node's
 * name next to its own state directory. A provider returns the filter to use now (it may change
 * when a feed is reloaded) or null: keep every line.
 */
import { dirname, join } from 'node:path';

export interface LineFilter {
  /**
   * False only when the line `bytes[start, end)` (no line end) cannot matter to the offering node:
   * dropping it changes nothing the node emits. True when it may.
   */
  mayMatch(bytes: Uint8Array, start: number, end: number): boolean;
  /**
   * Key indexes (src/line-keys.ts): false when some key of a line may matter, true when no key
   * that `mayMatchKey` says no to can make a line matter. Absent or false: read every line.
   */
  readonly keyIndexUsable?: boolean;
  /** For a key of a key index (src/line-keys.ts): may a line holding it matter? */
  mayMatchKey?(key: string): boolean;
}

/** The filter to apply to the next block of lines, or null (keep every line), with why. */
export interface LineFilterOffer {
  current(): { filter: LineFilter | null; why: string };
}

const offers = new Map<string, LineFilterOffer>();

/** Register the offer of the node whose state directory is `stateDir`; returns the withdrawal. */
export function offerLineFilter(stateDir: string, offer: LineFilterOffer): () => void {
  offers.set(stateDir, offer);
  return () => {
    if (offers.get(stateDir) === offer) offers.delete(stateDir);
  };
}

/**
 * The offer of node `node` of the same pipeline and state directory as the node whose state
 * directory is `ownStateDir`, or undefined when that node offers none (it does not exist, it is
 * not a node that filters, or it has not been prepared).
 */
export function lineFilterOf(ownStateDir: string, node: string): LineFilterOffer | undefined {
  return offers.get(join(dirname(ownStateDir), node));
}
