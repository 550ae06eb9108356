/**
 * Key indexes of archived lines: the tokens of a block of lines that a line pre-filter
 * (`LineFilter.mayMatchKey`, the incremental ioc-sweep's) looks at, written by the `hdfs` sink
 * beside each archived file (`key_index`) so that the `hdfs` source can skip the blocks of lines
 * none of whose tokens can match, without fetching or gunzipping them.
 *
 * What a key is — the contract between this cutter and `LinePrefilter.mayMatch` in
 * plugins/analyse/ioc-sweep/prefilter.ts, which decides a line only from such tokens:
 *
 * - a host token: a maximal run of `[A-Za-z0-9._%-]` holding a `.` or `%`, as `h` + its text; or,
 *   when it stands where a URL's host can (after `/`, `@`, or `:` after a letter), as `u` + its
 *   text, then also when it holds only a digit (a WHATWG number host: `http://2130706433/`);
 * - an IPv6 run: at a colon, the maximal run of `[0-9A-Fa-f:.]` around it when it holds `::` or six
 *   colons, as `v` + its text;
 * - a line with a byte ≥ 0x80 or a backslash has no keys: its block is always read (the filter keeps
 *   such lines whole).
 *
 * A token without `.`, `%` or digit (a word), or with digits only away from a URL host's place, is
 * never a key: the filter looks at those only when a URL indicator names a dotless host, and then
 * it says the index cannot be used (`keyIndexUsable` false). Text is kept as written (the filter
 * lower-cases). The filter answers a key as it answers a line holding just that token in that
 * place, so a block's verdict "no key may match" equals "the filter drops every line of it".
 *
 * Bump KEY_INDEX_VERSION whenever what is a key changes: indexes of another version are ignored.
 */

export const KEY_INDEX_VERSION = 1;

/**
 * Byte classes of the token grammar, shared with the pre-filter (plugins/analyse/ioc-sweep/prefilter.ts)
 * so that the keys cut here and the tokens it reads are cut by one definition. TOK a host-token
 * character (`[A-Za-z0-9._%-]`), then what the token holds (DOT, PCT, DIGIT, NONDIGIT: a token
 * character other than a digit or `.`); HEXCH an IPv6-text character (`[0-9A-Fa-f:.]`); BAD a byte
 * that keeps a whole line (≥ 0x80, `\\`).
 */
export const TOKEN_TOK = 1;
export const TOKEN_DOT = 2;
export const TOKEN_PCT = 4;
export const TOKEN_NONDIGIT = 8;
export const TOKEN_HEXCH = 16;
export const TOKEN_BAD = 32;
export const TOKEN_DIGIT = 64;
/** The class bits of each byte value (0–255). */
export const TOKEN_CLASS: Uint8Array = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const lower = c >= 97 && c <= 122;
  const upper = c >= 65 && c <= 90;
  const digit = c >= 48 && c <= 57;
  const hexLetter = (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
  let k = 0;
  if (lower || upper || digit || c === 45 || c === 46 || c === 95 || c === 37) k |= TOKEN_TOK;
  if (c === 46) k |= TOKEN_DOT;
  if (c === 37) k |= TOKEN_PCT;
  if ((k & TOKEN_TOK) !== 0 && !digit && c !== 46) k |= TOKEN_NONDIGIT;
  if (digit || hexLetter || c === 58 || c === 46) k |= TOKEN_HEXCH;
  if (digit) k |= TOKEN_DIGIT;
  if (c >= 128 || c === 92) k |= TOKEN_BAD;
  TOKEN_CLASS[c] = k;
}
const F = TOKEN_CLASS;
const TOK = TOKEN_TOK;
const DOT = TOKEN_DOT;
const PCT = TOKEN_PCT;
const DIGIT = TOKEN_DIGIT;
const HEXCH = TOKEN_HEXCH;

/** The code unit before `s` makes a token there a URL host's place: `/`, `@`, or `:` after a letter. */
function urlHostAt(t: string, s: number, lineStart: number): boolean {
  if (s <= lineStart) return false;
  const p = t.charCodeAt(s - 1);
  if (p === 47 || p === 64) return true;
  if (p !== 58 || s - 2 < lineStart) return false;
  const q = t.charCodeAt(s - 2) | 32;
  return q >= 97 && q <= 122;
}

/**
 * Add the keys of the lines in `text` (lines ended by `\n`; the last may lack it) to `out`. Returns
 * false when some line holds a byte ≥ 0x80 or a backslash: the block must always be read (the keys
 * gathered are then incomplete and of no use).
 */
export function addLineKeys(text: string, out: Set<string>): boolean {
  return cutKeys(text, false, (kind, t, s, e) => out.add(String.fromCharCode(kind) + t.slice(s, e)));
}

/** A key found by `cutKeys`: its kind (`h`, `u` or `v` as a char code) and its text, `text[s, e)`. */
export type KeyEmit = (kind: number, text: string, s: number, e: number) => void;

const H = 104;
const U = 117;
const V = 118;

/**
 * The cutter behind `addLineKeys`, giving each key to `emit` (a key may come more than once). With
 * `json` the text is one JSON string's content, and a character JSON escapes (`"`, control
 * characters) also returns false. Keys given before a false are of no use.
 */
export function cutKeys(text: string, json: boolean, emit: KeyEmit): boolean {
  const n = text.length;
  let lineStart = 0;
  let ts = -1; // start of the host token being read
  let fl = 0; // its flags, or-ed
  let v6Done = -1; // the IPv6 run looked at last ends here
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 10;
    if (c >= 128 || c === 92) return false;
    const f = F[c]!;
    if ((f & TOK) !== 0) {
      if (ts < 0) {
        ts = i;
        fl = f;
      } else fl |= f;
      continue;
    }
    if (json && i < n && (c < 32 || c === 34)) return false;
    if (c === 58 && i >= v6Done) v6Done = v6Run(text, lineStart, n, i, emit);
    if (ts >= 0) {
      if ((fl & (DOT | PCT)) !== 0) emit(urlHostAt(text, ts, lineStart) ? U : H, text, ts, i);
      else if ((fl & DIGIT) !== 0 && urlHostAt(text, ts, lineStart)) emit(U, text, ts, i);
      ts = -1;
    }
    if (c === 10) lineStart = i + 1;
  }
  return true;
}

/**
 * The keys of records written as `JSON.stringify(record)` lines, from the records themselves: the
 * same keys as `addLineKeys` on the line, without scanning the JSON around the values, each key
 * given an integer id so that a block lists it once without a Set of strings. Why the same: in
 * such a line no host token or IPv6 run crosses a string's quotes (`"`, `{`, `,`... are no token
 * characters; a run of IPv6 characters across `":` holds that one colon only), a string's first
 * token follows `"` (no URL host's place, as at the start of a text), and numbers are tokens of
 * their own after `:`, `[` or `,` (so only a non-integer, whose text has a dot, gives a key). A
 * string JSON escapes (`"`, `\`, control characters) or holding a character ≥ 0x80 makes the
 * record's line one the filter keeps whole.
 */
export class RecordKeys {
  /** Open-addressed table of key ids (-1: empty), by a hash of the key's kind and text. */
  private table = new Int32Array(1 << 14).fill(-1);
  private hashes: number[] = [];
  private keys: string[] = [];
  /** Per key id, the serial of the last block it was listed in. */
  private stamp = new Int32Array(1 << 12);
  private serial = 0;
  private block: KeyBlock = { serial: 0, ids: [] };

  /** An empty block to gather keys into (each key listed once). */
  newBlock(): KeyBlock {
    return { serial: ++this.serial, ids: [] };
  }

  /** Empty a block to gather keys into again (as `newBlock`, without making one). */
  clearBlock(block: KeyBlock): void {
    block.serial = ++this.serial;
    block.ids.length = 0;
  }

  keyOf(id: number): string {
    return this.keys[id]!;
  }

  /** Keys known by id. */
  get size(): number {
    return this.keys.length;
  }

  /** Forget every key: only when no block gathered so far is still to be written (ids start over). */
  reset(): void {
    this.table = new Int32Array(1 << 14).fill(-1);
    this.hashes = [];
    this.keys = [];
    this.stamp = new Int32Array(1 << 12);
  }

  /**
   * Add the keys of `JSON.stringify(rec)` to `block`. Returns false when the line would hold a byte
   * ≥ 0x80 or a backslash (its block must always be read), undefined when the record holds a value
   * this walk does not mirror (a Date, a `toJSON`, a class instance: use `addLine` on its text).
   */
  addRecord(rec: unknown, block: KeyBlock): boolean | undefined {
    this.block = block;
    return this.value(rec);
  }

  /** Add the keys of lines of text (`addLineKeys`) to `block`; false as there. */
  addLine(text: string, block: KeyBlock): boolean {
    const found = new Set<string>();
    if (!addLineKeys(text, found)) return false;
    for (const k of found) this.push(this.idOf(k.charCodeAt(0), k, 1, k.length), block);
    return true;
  }

  /** The id of a key given as text (`h…`, `u…`, `v…`, as `keyOf` gives it), made when new. */
  intern(key: string): number {
    return this.idOf(key.charCodeAt(0), key, 1, key.length);
  }

  /** The hash a key of this table was filed under (`internHashed` takes it: no second hashing). */
  hashOf(id: number): number {
    return this.hashes[id]!;
  }

  /** As `intern`, given the key's hash from another table's `hashOf` (the same function). */
  internHashed(key: string, h: number): number {
    const table = this.table;
    const mask = table.length - 1;
    let slot = h & mask;
    for (;;) {
      const id = table[slot]!;
      if (id < 0) break;
      if (this.hashes[id] === h && this.keys[id] === key) return id;
      slot = (slot + 1) & mask;
    }
    return this.insert(key, h, slot);
  }

  /** List key `id` in `block` (once: a key already listed there is not listed again). */
  addId(id: number, block: KeyBlock): void {
    this.push(id, block);
  }

  /** The keys of `JSON.stringify(rec)` added to `out` (as `addRecord`, in strings). */
  add(rec: unknown, out: Set<string>): boolean | undefined {
    const b = this.newBlock();
    const r = this.addRecord(rec, b);
    for (const id of b.ids) out.add(this.keys[id]!);
    return r;
  }

  /**
   * The id of the key of kind `kind` and text `text[s, e)`, found without making a string (the
   * record's strings hold the same hosts again and again); a new key is made and numbered.
   */
  private idOf(kind: number, text: string, s: number, e: number): number {
    let h = Math.imul(0x811c9dc5 ^ kind, 0x01000193);
    for (let k = s; k < e; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
    h >>>= 0;
    const table = this.table;
    const mask = table.length - 1;
    const len = e - s + 1;
    let slot = h & mask;
    for (;;) {
      const id = table[slot]!;
      if (id < 0) break;
      if (this.hashes[id] === h) {
        const key = this.keys[id]!;
        if (key.length === len && key.charCodeAt(0) === kind) {
          let k = 1;
          while (k < len && key.charCodeAt(k) === text.charCodeAt(s + k - 1)) k++;
          if (k === len) return id;
        }
      }
      slot = (slot + 1) & mask;
    }
    return this.insert(String.fromCharCode(kind) + text.slice(s, e), h, slot);
  }

  /** File a new key in its empty slot of the table; returns its id. */
  private insert(key: string, h: number, slot: number): number {
    const id = this.keys.length;
    this.keys.push(key);
    this.hashes.push(h);
    this.table[slot] = id;
    if (id >= this.stamp.length) {
      const grown = new Int32Array(this.stamp.length * 2);
      grown.set(this.stamp);
      this.stamp = grown;
    }
    if ((id + 1) * 2 > this.table.length) this.grow();
    return id;
  }

  private grow(): void {
    const table = new Int32Array(this.table.length * 2).fill(-1);
    const mask = table.length - 1;
    for (let id = 0; id < this.keys.length; id++) {
      let slot = this.hashes[id]! & mask;
      while (table[slot]! >= 0) slot = (slot + 1) & mask;
      table[slot] = id;
    }
    this.table = table;
  }

  private push(id: number, block: KeyBlock): void {
    if (this.stamp[id] !== block.serial) {
      this.stamp[id] = block.serial;
      block.ids.push(id);
    }
  }

  private value(v: unknown): boolean | undefined {
    switch (typeof v) {
      case 'string':
        return this.str(v);
      case 'number':
        // an integer below 1e21 is written without a dot (no key); NaN and infinities as null
        return (Number.isInteger(v) && Math.abs(v) < 1e21) || !Number.isFinite(v) ? true : this.str(String(v));
      case 'boolean':
      case 'undefined':
      case 'function':
      case 'symbol':
        return true;
      case 'object': {
        if (v === null) return true;
        if (Array.isArray(v)) {
          let ok: boolean | undefined = true;
          for (const x of v) {
            const r = this.value(x);
            if (r === undefined) return undefined;
            if (!r) ok = false;
          }
          return ok;
        }
        const proto = Object.getPrototypeOf(v);
        if ((proto !== Object.prototype && proto !== null) || typeof (v as { toJSON?: unknown }).toJSON === 'function') return undefined;
        let ok: boolean | undefined = true;
        for (const k of Object.keys(v)) {
          const x = (v as Record<string, unknown>)[k];
          const t = typeof x;
          if (t === 'undefined' || t === 'function' || t === 'symbol') continue; // not written
          if (!this.str(k)) ok = false;
          const r = this.value(x);
          if (r === undefined) return undefined;
          if (!r) ok = false;
        }
        return ok;
      }
      default:
        return undefined; // bigint: JSON.stringify throws
    }
  }

  private readonly emit: KeyEmit = (kind, text, s, e) => this.push(this.idOf(kind, text, s, e), this.block);

  private str(s: string): boolean {
    return cutKeys(s, true, this.emit);
  }
}

/** The keys of one block, as ids of a `RecordKeys`. */
export interface KeyBlock {
  serial: number;
  ids: number[];
}

/** The IPv6 run around the colon at `i` (a key when it holds `::` or six colons); returns where it ends. */
function v6Run(t: string, lineStart: number, n: number, i: number, emit: KeyEmit): number {
  let s = i;
  while (s > lineStart && (F[t.charCodeAt(s - 1)]! & HEXCH) !== 0) s--;
  let e = i;
  let colons = 0;
  let dbl = false;
  for (; e < n; e++) {
    const c = t.charCodeAt(e);
    if (c >= 128 || (F[c]! & HEXCH) === 0) break;
    if (c === 58) {
      colons++;
      if (e > s && t.charCodeAt(e - 1) === 58) dbl = true;
    }
  }
  if (dbl || colons >= 6) emit(V, t, s, e);
  return e;
}

/**
 * A key as a line of its own, for a filter that decides lines: the token in the place it was found
 * (`/` before a `u` key, a space before the others) and a space after.
 */
export function keyAsLine(key: string, into: Uint8Array): number {
  const len = key.length + 1;
  into[0] = key.charCodeAt(0) === 117 /* u */ ? 47 : 32;
  for (let k = 1; k < key.length; k++) into[k] = key.charCodeAt(k);
  into[len - 1] = 32;
  return len;
}

/** One block of an indexed file: a gzip member of `bytes` compressed bytes holding `lines` lines. */
export interface IndexedBlock {
  offset: number;
  bytes: number;
  firstLine: number;
  lines: number;
  /** Read whatever the keys say (a line without keys: non-ASCII or a backslash). */
  always: boolean;
}

/**
 * The sidecar text (`.NAME.keys`, gzip): a header line, one line of blocks (`BYTES:LINES`, `!` after
 * a block always read), then one line per key: the key, a tab, the numbers of the blocks holding
 * it, ascending, as base-36 gaps separated by commas (first number absolute).
 */
export function formatKeyIndex<K = string>(
  dataLength: number,
  blocks: { bytes: number; lines: number; keys: Iterable<K> | null }[],
  keyOf: (k: K) => string = String,
): string {
  const postings = new Map<K, number[]>();
  let lines = 0;
  const head: string[] = [];
  for (let b = 0; b < blocks.length; b++) {
    const blk = blocks[b]!;
    lines += blk.lines;
    head.push(`${blk.bytes}:${blk.lines}${blk.keys === null ? '!' : ''}`);
    if (blk.keys === null) continue;
    for (const k of blk.keys) {
      const p = postings.get(k);
      if (!p) postings.set(k, [b]);
      else if (p[p.length - 1] !== b) p.push(b);
    }
  }
  const out: string[] = [`sluice-key-index ${KEY_INDEX_VERSION} length=${dataLength} blocks=${blocks.length} lines=${lines}`, head.join(' ')];
  for (const [k, p] of postings) {
    let s = p[0]!.toString(36);
    for (let i = 1; i < p.length; i++) s += `,${(p[i]! - p[i - 1]!).toString(36)}`;
    out.push(`${keyOf(k)}\t${s}`);
  }
  return `${out.join('\n')}\n`;
}

export class KeyIndexError extends Error {}

/** A parsed sidecar: its blocks, and the keys (still text) with their postings. */
export interface KeyIndex {
  dataLength: number;
  lines: number;
  blocks: IndexedBlock[];
  /** Lines 2.. of the text: `key\tpostings`. */
  text: string;
  keysFrom: number;
}

export function parseKeyIndex(text: string): KeyIndex {
  const l1 = text.indexOf('\n');
  const l2 = l1 < 0 ? -1 : text.indexOf('\n', l1 + 1);
  if (l2 < 0) throw new KeyIndexError('truncated key index');
  const m = /^sluice-key-index (\d+) length=(\d+) blocks=(\d+) lines=(\d+)$/.exec(text.slice(0, l1));
  if (!m) throw new KeyIndexError('not a key index');
  if (Number(m[1]) !== KEY_INDEX_VERSION) throw new KeyIndexError(`key index version ${m[1]}, not ${KEY_INDEX_VERSION}`);
  const dataLength = Number(m[2]);
  const n = Number(m[3]);
  const parts = l2 > l1 + 1 ? text.slice(l1 + 1, l2).split(' ') : [];
  if (parts.length !== n) throw new KeyIndexError(`key index announces ${n} blocks, lists ${parts.length}`);
  const blocks: IndexedBlock[] = new Array(n);
  let off = 0;
  let line = 1;
  for (let b = 0; b < n; b++) {
    const p = parts[b]!;
    const always = p.endsWith('!');
    const c = p.indexOf(':');
    const bytes = Number(p.slice(0, c));
    const lines = Number(p.slice(c + 1, always ? -1 : undefined));
    if (!(c > 0 && Number.isSafeInteger(bytes) && bytes > 0 && Number.isSafeInteger(lines) && lines >= 0)) throw new KeyIndexError(`bad block ${b}: ${p}`);
    blocks[b] = { offset: off, bytes, firstLine: line, lines, always };
    off += bytes;
    line += lines;
  }
  if (off !== dataLength) throw new KeyIndexError(`key index blocks cover ${off} bytes, not ${dataLength}`);
  if (line - 1 !== Number(m[4])) throw new KeyIndexError('key index line count does not add up');
  return { dataLength, lines: line - 1, blocks, text, keysFrom: l2 + 1 };
}

/**
 * The blocks to read: those marked always, and those holding a key `mayMatch` says yes to (each
 * distinct key asked once; the postings of the others are never parsed).
 */
export function blocksToRead(ix: KeyIndex, mayMatch: (key: string) => boolean): Uint8Array {
  const want = new Uint8Array(ix.blocks.length);
  for (let b = 0; b < ix.blocks.length; b++) if (ix.blocks[b]!.always) want[b] = 1;
  const t = ix.text;
  let pos = ix.keysFrom;
  while (pos < t.length) {
    let nl = t.indexOf('\n', pos);
    if (nl < 0) nl = t.length;
    const tab = t.indexOf('\t', pos);
    if (tab < 0 || tab > nl) throw new KeyIndexError('bad key line');
    if (mayMatch(t.slice(pos, tab))) {
      let b = 0;
      let first = true;
      for (const g of t.slice(tab + 1, nl).split(',')) {
        const v = Number.parseInt(g, 36);
        b = first ? v : b + v;
        first = false;
        if (!(b >= 0 && b < want.length)) throw new KeyIndexError('bad posting');
        want[b] = 1;
      }
    }
    pos = nl + 1;
  }
  return want;
}
