/**
 * `ioc-sweep`: match parsed proxy records against indicators of compromise (IPs, CIDRs, domains,
 * URLs) from threat-intelligence feeds; pass records through on `out`, raise alerts on `alerts`.
 */
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import type { ScheduledTask } from 'node-cron';
import {
  definePlugin,
  parseDuration,
  type ConfigIssue,
  type LineSpans,
  type PluginContext,
  type PrepareContext,
  type ProcessorInstance,
  type Rec,
  type RecordGate,
} from '../../../src/api.js';
import { FeedError, loadFeed, type FeedLoad } from './feeds/index.js';
import type { FeedConfig } from './feeds/types.js';
import { pruneSnapshots } from './feeds/snapshot.js';
import { IndicatorStore, type SharedStoreData } from './store.js';
import { IndicatorStoreBuilder } from './store-builder.js';
import { Matcher, buildAlert, clear, type Match, type SweepFields } from './sweep.js';
import { Suppressor } from './suppress.js';
import { commit, discard, keyFiles, readKnown, splitNew, stage, writePending, type KeyFiles, type KnownKeys } from './incremental.js';
import { offerLineFilter } from '../../../src/internal.js';
import { LinePrefilter } from './prefilter.js';

/** node-cron, loaded when a feed has a `refresh` (start-up time of every other run; `check` is synchronous). */
const requireHere = createRequire(import.meta.url);
const cron = (): typeof import('node-cron').default => (requireHere('node-cron') as { default: typeof import('node-cron').default }).default;

export interface IocSweepConfig {
  feeds: FeedConfig[];
  allowlist: FeedConfig[];
  rule_name: string;
  fields: SweepFields;
  suppress?: { key: string[]; period: string };
  since_last_run?: boolean;
  snapshots?: boolean;
}

const column = { description: 'A header name (CSV) or field path (JSON), or a 0-based column index (CSV).', type: ['string', 'integer'] };

const feedSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: {
      type: 'string',
      minLength: 1,
      description: 'Feed name, carried into alerts as `indicator.provider` and into metrics and logs.',
      examples: ['feodo'],
    },
    path: {
      type: 'string',
      minLength: 1,
      description:
        'File, glob, or MISP feed folder (holding `manifest.json`). Relative paths are taken from the working directory. `hdfs:///dir/file` (or `hdfs://namenode/...`) reads a file, the visible files of a directory, or what a glob matches (`*`, `?`, `[a-z]`, `{a,b}` within a segment; a matched directory gives its visible files), from HDFS over WebHDFS (see `hdfs`); `.gz` is decompressed. Give `path` or `url`, not both.',
      examples: ['examples/feeds/feodo.csv', 'feeds/misp/', 'hdfs:///feeds/bad-ips.txt', 'hdfs:///feeds/dt=2026-12-0*/ips-*.txt'],
    },
    hdfs: {
      type: 'object',
      additionalProperties: false,
      description: 'WebHDFS connection for an `hdfs://` path. Without `url`, the NameNode is the host of the path (port 9870), or 127.0.0.1.',
      properties: {
        url: { type: 'string', pattern: '^https?://[^/?#]+/?$', description: 'WebHDFS address of the NameNode.', examples: ['http://namenode.example:9870'] },
        user: { type: 'string', minLength: 1, description: 'User name sent as `user.name` (simple authentication).' },
        delegation_token: {
          type: 'string',
          minLength: 1,
          writeOnly: true,
          description: 'A Hadoop delegation token (secure clusters); never logged, masked in errors.',
        },
        timeout_ms: { type: 'integer', minimum: 100, default: 30000, description: 'Deadline of one WebHDFS call.' },
      },
    },
    url: {
      type: 'string',
      pattern: '^https?://',
      description: 'http(s) URL of the feed. A URL ending in `/manifest.json` is read as a MISP feed.',
      examples: ['https://feodotracker.abuse.ch/downloads/ipblocklist.csv'],
    },
    format: {
      enum: ['auto', 'list', 'csv', 'stix', 'misp', 'json'],
      default: 'auto',
      description:
        '`list`: one indicator per line, type detected per line. `csv`: columns mapped by `columns` or by common header names. `stix`: STIX 2.x bundle or objects one per line. `misp`: MISP event(s) or feed folder. `json`: JSON document or JSON lines mapped by `columns`. `auto`: from the extension and the first bytes.',
    },
    exact: { type: 'boolean', default: false, description: 'Domain indicators match only the host itself, not its subdomains.' },
    confidence: {
      type: 'number',
      minimum: 0,
      maximum: 100,
      description: 'Confidence (0–100) given to indicators that do not carry their own.',
      examples: [75],
    },
    tags: { type: 'array', items: { type: 'string' }, description: 'Tags added to every indicator of the feed.', examples: [['botnet', 'c2']] },
    description: { type: 'string', description: 'Description given to indicators that do not carry their own.' },
    refresh: {
      type: 'string',
      description:
        'Cron expression (node-cron, 5 or 6 fields) to reload the feed. The new set replaces the old one between batches; a failed reload keeps the last good set.',
      examples: ['0 */6 * * *'],
    },
    timeout: { type: 'string', default: '30s', description: 'Time allowed for an http(s) download.', examples: ['30s'] },
    headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra HTTP request headers (e.g. an API key header).' },
    optional: {
      type: 'boolean',
      default: false,
      description:
        'When the feed cannot be read at start-up, log it and start with no indicators from it (retrying at each refresh) instead of failing the run.',
    },
    columns: {
      type: 'object',
      additionalProperties: false,
      description:
        'Which column (CSV) or field (JSON) holds what. Omitted roles are found by common names (`ioc`, `url`, `dst_ip`, `ip_address`, `domain`, `ioc_type`, `dst_port`, `first_seen_utc`, `dateadded`, `last_online`, `tags`, `malware`, `confidence_level`...).',
      properties: {
        value: { ...column, description: 'The indicator value. ' + column.description },
        type: {
          ...column,
          description: 'Its type label (`ip`, `ip:port`, `domain`, `url`, `sha256`...); unsupported types are skipped. ' + column.description,
        },
        port: { ...column, description: 'A port to keep with an address (informative). ' + column.description },
        first_seen: { ...column, description: 'First-seen date. ' + column.description },
        last_seen: { ...column, description: 'Last-seen date. ' + column.description },
        tags: { ...column, description: 'Tags (array, or comma-separated text). ' + column.description },
        description: { ...column, description: 'Description (e.g. malware family). ' + column.description },
        confidence: { ...column, description: 'Confidence 0–100 (or High/Medium/Low). ' + column.description },
      },
      examples: [{ value: 'ioc', type: 'ioc_type', confidence: 'confidence_level' }],
    },
    delimiter: { type: 'string', minLength: 1, maxLength: 1, description: 'CSV delimiter (default `,`).' },
    header: { enum: ['auto', 'yes', 'no'], default: 'auto', description: 'CSV header row: `auto` detects a (possibly `#`-commented) header.' },
    misp_types: {
      type: 'array',
      items: { type: 'string' },
      description: 'MISP attribute types to read (default: ip-dst, ip-src, ip-dst|port, ip-src|port, domain, hostname, hostname|port, domain|ip, url).',
    },
  },
} as const;

const fieldList = (d: string, def: string[]) => ({ type: 'array', items: { type: 'string' }, default: def, description: d });

export default definePlugin<IocSweepConfig>({
  name: 'ioc-sweep',
  kind: 'analyse',
  summary: 'Match records against indicators of compromise (IPs, CIDRs, domains, URLs) from threat-intel feeds; alert on hits.',
  configCodes: {
    IOC_FEED_SOURCE: 'a feed names neither or both of `path` and `url`',
    IOC_FEED_DUPLICATE: 'two feeds have the same name',
    IOC_BAD_CRON: "a feed's `refresh` is not a valid cron expression",
    IOC_BAD_DURATION: "a feed's `timeout` or `suppress.period` is not a duration",
  },
  description: [
    'Records pass through unchanged on `out`. A record that matches one or more indicators yields ONE alert on `alerts`',
    '(ECS: `event.kind: alert`, `rule.name`, `threat.enrichments[]` with `indicator.type/value/provider/confidence/description/first_seen/last_seen/tags`',
    "and `matched.field/atomic`), with the record's own fields.",
    '',
    'Matching (both sides normalised the same way): domains lower-cased, trailing dot and port stripped, IDN → punycode, and a domain',
    'indicator matches the host and every subdomain on a label boundary (unless `exact`); IPv4/IPv6 compared as numbers (IPv4-mapped IPv6',
    'is IPv4), CIDRs of both families (host bits in a CIDR are masked: `89.160.20.129/24` is `89.160.20.0/24`); URLs compared whole after',
    'lower-casing scheme and host and dropping the default port, fragment and user-info. Ports given with an address (`ip:port`) are',
    'informative: the address matches on any port.',
    '',
    'Feeds: plain lists, CSV (abuse.ch layouts), STIX 2.x, MISP events/feeds, JSON/JSON lines, from a path/glob or http(s). Unusable rows',
    'are counted per feed and reason (`EMPTY`, `BAD_IP`, `BAD_CIDR`, `CIDR_TOO_BROAD`, `BAD_DOMAIN`, `BAD_URL`, `NOT_AN_INDICATOR`, `HEADER`,',
    '`BAD_CSV_ROW`, `BAD_JSON`, `UNSUPPORTED_TYPE`, `UNSUPPORTED_PATTERN`, `REVOKED`, `EXPIRED`, `NOT_YET_VALID`, `NOT_TO_IDS`, `DELETED`,',
    '`BAD_ATTRIBUTE`, `NOT_A_MISP_EVENT`, `EVENT_MISSING`, `BAD_MANIFEST_KEY`, `PATH_ONLY`, `TLD_ONLY`). Metrics: `indicators_loaded`, `rows_skipped`, `ioc_hits`, `alerts`,',
    '`allowlisted`, `alerts_suppressed`, `feed_refreshes`, `feed_refresh_failures`, `feed_snapshots_used` (feeds read back from their snapshot, see `snapshots`).',
  ].join('\n'),
  ports: ['out', 'alerts'],
  // Copies share the feeds prepared once in the main thread; suppression counts repeats across
  // records, so it needs one copy.
  parallel: (config) => (config.suppress ? 'none' : 'any'),
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['feeds'],
    properties: {
      feeds: { type: 'array', minItems: 1, items: feedSchema, description: 'Indicator feeds. Names must be unique.' },
      allowlist: {
        type: 'array',
        items: feedSchema,
        default: [],
        description:
          "Feeds of values never to alert on (same formats and matching rules). A hit is dropped when its matched value is allowlisted; for URL hits, also when the URL's host is.",
      },
      rule_name: { type: 'string', default: 'ioc-sweep', description: 'The `rule.name` of the alerts.' },
      fields: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'Which record fields are checked (dotted paths).',
        properties: {
          ip: fieldList('Fields holding an IP address.', ['destination.ip']),
          host: fieldList('Fields holding a host name (or IP literal, possibly with a port).', ['url.domain', 'destination.domain']),
          url: fieldList(
            'Fields holding a full URL; the URL is matched whole and its host as a host. `url.full` (the URL rebuilt by proxy-log) catches formats whose `url.original` has no scheme, such as Zscaler NSS.',
            ['url.original', 'url.full'],
          ),
        },
      },
      since_last_run: {
        type: 'boolean',
        default: false,
        description:
          "Incremental (retro-hunt) sweep: match only the indicators each feed did not have when a run of this node last reached the end of its input. The keys of every feed's indicators are kept in the node's state directory and committed when a run has swept all its input and ended without a failure (every sink's last flush included); a failed or stopped run commits nothing, so its new indicators are swept again next time. An `hdfs` source with `prefilter: { ioc_sweep: NODE }` drops the archived lines that cannot match the indicators swept before they are parsed. The first run (or a renamed feed) sweeps everything. Allowlists always apply in full. Metrics: `indicators_swept` (indicators matched against), `indicators_known` (skipped as swept before).",
      },
      snapshots: {
        type: 'boolean',
        default: true,
        description:
          "Keep each loaded feed's tables in the node's state directory (`snapshots/`) and read them back on the next load of the same feed — a restart, the next scheduled run, a refresh that fetched the same bytes — instead of parsing every indicator again. A snapshot is used only when the feed's bytes, its settings, sluice's feed code and the Node.js version are those it was built from (a SHA-256 of them all), and its own checksum holds; a feed file unchanged since (same inode, size, modification and change times) is not even read. Otherwise the feed is loaded and the snapshot rewritten. About the size of the feed's tables on disk (`table_bytes` in the `feed loaded` log line).",
      },
      suppress: {
        type: 'object',
        additionalProperties: false,
        required: ['period'],
        description:
          'Alert-flood suppression: the first alert of a key is emitted at once; repeats within `period` (event time) are counted and reported by one summary alert (`suppression.count`) when the period ends or the input does.',
        properties: {
          key: {
            type: 'array',
            items: { type: 'string' },
            default: ['source.ip', 'indicator'],
            description: 'Alert fields forming the key; `indicator` means the set of matched indicators.',
          },
          period: { type: 'string', description: 'Suppression period.', examples: ['10m'] },
        },
      },
    },
  },
  examples: [
    { title: 'Feodo C2 list', with: { feeds: [{ name: 'feodo', path: 'examples/feeds/feodo.csv', format: 'csv', confidence: 90 }] } },
    {
      title: 'Several feeds, refreshed, with allowlist and suppression',
      with: {
        feeds: [
          { name: 'bad-ips', path: 'examples/feeds/bad-ips.txt', format: 'list', refresh: '*/30 * * * *' },
          { name: 'urlhaus', path: 'examples/feeds/urlhaus.csv', format: 'csv' },
          { name: 'stix', path: 'examples/feeds/stix-bundle.json', format: 'stix' },
          { name: 'misp', path: 'examples/feeds/misp-event.json', format: 'misp' },
        ],
        allowlist: [{ name: 'allow', path: 'examples/feeds/allowlist.txt' }],
        suppress: { key: ['source.ip', 'indicator'], period: '10m' },
      },
    },
  ],
  check(config) {
    const issues: ConfigIssue[] = [];
    const names = new Set<string>();
    const checkFeed = (f: FeedConfig, at: string) => {
      if ((f.path === undefined) === (f.url === undefined))
        issues.push({ path: at, code: 'IOC_FEED_SOURCE', message: `feed '${f.name}' needs exactly one of 'path' or 'url'` });
      if (names.has(f.name)) issues.push({ path: `${at}/name`, code: 'IOC_FEED_DUPLICATE', message: `feed name '${f.name}' is used twice` });
      names.add(f.name);
      if (f.refresh !== undefined && !cron().validate(f.refresh))
        issues.push({
          path: `${at}/refresh`,
          code: 'IOC_BAD_CRON',
          message: `'${f.refresh}' is not a valid cron expression`,
          hint: 'five fields: minute hour day-of-month month day-of-week, e.g. "0 */6 * * *"',
        });
      try {
        parseDuration(f.timeout ?? '30s');
      } catch (e) {
        issues.push({ path: `${at}/timeout`, code: 'IOC_BAD_DURATION', message: (e as Error).message });
      }
    };
    config.feeds.forEach((f, i) => {
      checkFeed(f, `/feeds/${i}`);
    });
    (config.allowlist ?? []).forEach((f, i) => {
      checkFeed(f, `/allowlist/${i}`);
    });
    if (config.suppress) {
      try {
        if (parseDuration(config.suppress.period) <= 0) throw new Error('the period must be longer than 0');
      } catch (e) {
        issues.push({ path: '/suppress/period', code: 'IOC_BAD_DURATION', message: (e as Error).message });
      }
    }
    return issues;
  },
  // Feeds are loaded once per node, in the main thread; every copy sweeps with the same tables.
  async prepare(config, ctx) {
    return (await FeedSet.load(config, ctx)).shared();
  },
  create(config, ctx) {
    return new IocSweep(config, ctx);
  },
});

/** One loaded feed: its config, its current (last good) store, and its refresh task. */
interface FeedSlot {
  feed: FeedConfig;
  /** The store swept with: the whole feed, or with `since_last_run` only its new indicators. */
  store: IndicatorStore;
  /** Indicators the feed has in all (the size a reload is compared with). */
  size: number;
  /** `since_last_run`: the key files, and the keys committed by the last completed run (null: none). */
  keys?: { files: KeyFiles; known: KnownKeys | null; knownCount: number };
  task?: ScheduledTask;
  /** Where its snapshot is kept (none with `snapshots: false`). */
  snapshot?: string;
}

/**
 * The node's shared value: every feed's and allowlist's store in its flat, shareable form. Worker
 * copies receive a structured clone whose SharedArrayBuffers are the same memory, so a feed exists
 * once however many copies sweep with it.
 */
export interface SweepShared {
  feeds: SharedStoreData[];
  allow: SharedStoreData[];
  /** `since_last_run`: the key files each copy stages at the end of its input (the first rename wins). */
  commit?: KeyFiles[];
}

/** Main-thread copies find the FeedSet behind a shared value here (not cloned into workers). */
const FEED_SET = Symbol('ioc-sweep feed set');

/**
 * The feeds of one node, loaded once in the main thread (`prepare`): initial load, cron refresh
 * off to the side with the last good set kept on failure, and publication of every new set to
 * all copies of the node.
 */
export class FeedSet {
  private feeds: FeedSlot[] = [];
  private allow: FeedSlot[] = [];
  private closed = false;

  private constructor(
    private readonly ctx: PrepareContext,
    private readonly incremental: boolean,
    /** The node's snapshot directory (none with `snapshots: false`). */
    private readonly snapshots: string | undefined,
  ) {}

  static async load(config: IocSweepConfig, ctx: PrepareContext): Promise<FeedSet> {
    const s = new FeedSet(ctx, config.since_last_run === true, config.snapshots === false ? undefined : join(ctx.stateDir(), 'snapshots'));
    s.feeds = await Promise.all(config.feeds.map((f) => s.loadInitial(f, s.incremental, s.snapshotOf('feed', f))));
    s.allow = await Promise.all((config.allowlist ?? []).map((f) => s.loadInitial(f, false, s.snapshotOf('allow', f))));
    if (s.snapshots !== undefined) await pruneSnapshots(s.snapshots, new Set([...s.feeds, ...s.allow].map((f) => basename(f.snapshot!))));
    s.countLoaded();
    for (const slot of [...s.feeds, ...s.allow]) {
      if (slot.feed.refresh === undefined) continue;
      slot.task = cron().schedule(slot.feed.refresh, () => s.refresh(slot.feed.name), { name: `${ctx.node}:${slot.feed.name}`, noOverlap: true, unref: true });
    }
    ctx.onClose(async (end) => {
      await s.stop();
      // A key set staged by a copy that swept all its input becomes the committed one, but only
      // now that the run has ended without a failure — every sink's last flush done. Whatever is
      // left (not staged: the input was not finished; or the run failed) is dropped.
      for (const f of s.feeds) {
        if (!f.keys) continue;
        if (!end.failed && !end.stopped && commit(f.keys.files)) ctx.logger.info({ feed: f.feed.name }, 'incremental sweep: indicators committed as swept');
        await discard(f.keys.files);
      }
    });
    ctx.signal.addEventListener('abort', () => void s.stop(), { once: true });
    // The raw-line pre-filter a line source of the run may ask for (`prefilter` of the hdfs source).
    ctx.onClose(offerLineFilter(ctx.stateDir(), { current: () => s.lineFilter() }));
    return s;
  }

  private prefilter: LinePrefilter | null = null;

  /**
   * `since_last_run`: the pre-filter over the indicators being swept (rebuilt after a reload), which
   * keeps every line whose record could match one of them. Without `since_last_run`, none.
   */
  lineFilter(): { filter: LinePrefilter | null; why: string } {
    if (!this.incremental) return { filter: null, why: 'since_last_run is off: every indicator is swept, every line is kept' };
    if (this.prefilter === null) this.prefilter = new LinePrefilter(this.feeds.map((f) => f.store));
    const first = this.feeds.some((f) => f.keys?.known === null);
    return {
      filter: this.prefilter,
      why: `${this.prefilter.indicators} indicator(s) swept${first ? ' (a first run: whole feeds)' : ' (new since the last run)'}`,
    };
  }

  /** The value every copy sweeps with (and, in the main thread, the way back to this set). */
  shared(): SweepShared {
    const v: SweepShared = { feeds: this.feeds.map((f) => f.store.toShared()), allow: this.allow.map((f) => f.store.toShared()) };
    if (this.incremental) v.commit = this.feeds.flatMap((f) => (f.keys ? [f.keys.files] : []));
    Object.defineProperty(v, FEED_SET, { value: this, enumerable: false });
    return v;
  }

  static of(shared: unknown): FeedSet | undefined {
    return shared && typeof shared === 'object' ? (shared as { [FEED_SET]?: FeedSet })[FEED_SET] : undefined;
  }

  /** The snapshot file of a feed or allowlist entry (names are unique within each list, not across). */
  private snapshotOf(list: 'feed' | 'allow', feed: FeedConfig): string | undefined {
    return this.snapshots === undefined ? undefined : join(this.snapshots, `${list}-${encodeURIComponent(feed.name)}.store`);
  }

  private async loadInitial(feed: FeedConfig, incremental: boolean, snapshot: string | undefined): Promise<FeedSlot> {
    try {
      const l = await loadFeed(feed, { resolvePath: this.ctx.resolvePath, signal: this.ctx.signal, snapshot });
      this.report(l);
      const slot: FeedSlot = { feed, store: l.store, size: l.store.size, snapshot };
      if (incremental) {
        const files = keyFiles(this.ctx.stateDir(), feed.name);
        const known = await readKnown(files);
        slot.keys = { files, known, knownCount: 0 };
        await this.split(slot, l.store);
      }
      return slot;
    } catch (e) {
      const code = e instanceof FeedError ? e.code : 'FEED_LOAD_FAILED';
      if (!feed.optional) {
        const err = new Error(`ioc-sweep: ${(e as Error).message} [${code}]`);
        (err as any).code = code;
        throw err;
      }
      this.ctx.logger.error({ feed: feed.name, code, err: (e as Error).message }, 'optional feed could not be loaded; starting without it');
      this.ctx.metrics.add('feed_load_failures');
      this.feedOutcome(feed.name, false, 0);
      // No pending key set either: a feed that could not be read is not committed as swept.
      return { feed, store: new IndicatorStoreBuilder(feed.name).seal(), size: 0, snapshot };
    }
  }

  /** `since_last_run`: sweep with the indicators of `full` the last completed run did not have; stage the full key set. */
  private async split(slot: FeedSlot, full: IndicatorStore): Promise<void> {
    const k = slot.keys!;
    const sp = splitNew(full, k.known);
    await writePending(k.files, sp.keys, this.ctx.stateDir());
    slot.store = sp.fresh;
    k.knownCount = sp.known;
    this.ctx.logger.info(
      { feed: full.feed, indicators: full.size, new: sp.fresh.size, known: sp.known, removed_since_last_run: sp.removed, first_run: k.known === null },
      'incremental sweep: only indicators new since the last completed run',
    );
  }

  /** Per-feed gauges (labelled: served on --metrics and the status page, not in the summary). */
  private feedOutcome(feed: string, ok: boolean, size: number | undefined): void {
    const m = this.ctx.metrics;
    const labels = { feed };
    if (size !== undefined) m.set('feed_indicators', size, labels);
    m.set('feed_last_refresh_timestamp_seconds', Date.now() / 1000, labels);
    m.set('feed_last_refresh_success', ok ? 1 : 0, labels);
  }

  private report(l: FeedLoad): void {
    const t = l.tally;
    this.feedOutcome(l.store.feed, true, l.store.size);
    this.ctx.metrics.add('rows_skipped', t.skipped);
    this.ctx.logger.info(
      {
        feed: l.store.feed,
        format: l.format,
        inputs: l.inputs.length,
        indicators: l.store.size,
        by_type: l.store.counts,
        table_bytes: l.store.flatBytes,
        rows: t.rows,
        skipped: t.skipped,
        reasons: t.reasons,
        ignored_objects: t.ignored,
        samples: t.samples.slice(0, 3),
        ms: Math.round(l.ms),
        ...(l.snapshot ? { snapshot: l.snapshot.used ? 'used' : `built (${l.snapshot.miss ?? 'none'})` } : {}),
        ...(l.snapshot?.by ? { snapshot_by: l.snapshot.by } : {}),
      },
      'feed loaded',
    );
    if (l.snapshot?.used) this.ctx.metrics.add('feed_snapshots_used');
    const snapshot = l.snapshot;
    const written = snapshot?.written;
    if (written === undefined) return;
    const logged = written.then(() => {
      if (snapshot!.writeError !== undefined)
        this.ctx.logger.warn({ feed: l.store.feed, err: snapshot!.writeError }, 'feed snapshot could not be written; the next load parses the feed again');
    });
    this.writes.add(logged);
    void logged.then(() => this.writes.delete(logged));
  }

  /** Snapshots being written (`report`): `stop` waits for them, so a run never ends with one half-written. */
  private readonly writes = new Set<Promise<void>>();

  private countLoaded(): void {
    let n = 0;
    let swept = 0;
    let known = 0;
    for (const f of this.feeds) {
      n += f.size;
      swept += f.store.size;
      known += f.keys?.knownCount ?? 0;
    }
    const m = this.ctx.metrics;
    m.set('indicators_loaded', n);
    if (this.incremental) {
      m.set('indicators_swept', swept);
      m.set('indicators_known', known);
    }
  }

  /**
   * Reload one feed (or all) off to the side and publish the new set. A failure — unreadable
   * source, or a reload that yields no indicators where the last good set had some (an error page
   * served as 200, a truncated download) — keeps the last good set. Returns whether every reload
   * succeeded.
   */
  async refresh(name?: string): Promise<boolean> {
    let ok = true;
    for (const slot of [...this.feeds, ...this.allow]) {
      if (name !== undefined && slot.feed.name !== name) continue;
      if (this.closed) return false;
      try {
        const l = await loadFeed(slot.feed, { resolvePath: this.ctx.resolvePath, signal: this.ctx.signal, snapshot: slot.snapshot });
        if (l.store.size === 0 && slot.size > 0) {
          throw new FeedError(
            'FEED_EMPTY',
            `feed '${slot.feed.name}': reload read ${l.tally.rows} rows but no usable indicator (${JSON.stringify(l.tally.reasons)})`,
          );
        }
        if (this.closed) return false;
        if (slot.keys) await this.split(slot, l.store);
        else slot.store = l.store;
        this.prefilter = null;
        slot.size = l.store.size;
        this.report(l);
        this.countLoaded();
        this.ctx.publish(this.shared());
        this.ctx.metrics.add('feed_refreshes');
      } catch (e) {
        ok = false;
        this.ctx.metrics.add('feed_refresh_failures');
        this.feedOutcome(slot.feed.name, false, undefined);
        this.ctx.logger.error(
          { feed: slot.feed.name, code: e instanceof FeedError ? e.code : 'FEED_LOAD_FAILED', err: (e as Error).message, kept_indicators: slot.store.size },
          'feed refresh failed; keeping the last good set',
        );
      }
    }
    return ok;
  }

  /** Indicator counts per feed (for tests, `feeds.md` and operators). */
  stats(): { feed: string; size: number }[] {
    return this.feeds.map((f) => ({ feed: f.feed.name, size: f.size }));
  }

  async stop(): Promise<void> {
    this.closed = true;
    const tasks = [...this.feeds, ...this.allow].map((s) => s.task).filter((t): t is ScheduledTask => t !== undefined);
    for (const s of [...this.feeds, ...this.allow]) s.task = undefined;
    await Promise.all(tasks.map((t) => t.destroy()));
    await Promise.all([...this.writes]);
  }
}

/** One copy of the sweep: matches records against the stores of the node's current shared value. */
export class IocSweep implements ProcessorInstance {
  /** What a batch reads: replaced (never mutated) by `update`, so a batch sees one consistent set. */
  private current: { stores: IndicatorStore[]; allow: IndicatorStore[] } = { stores: [], allow: [] };
  private readonly matcher: Matcher;
  private readonly suppressor: Suppressor | null;
  private readonly matches: Match[] = [];
  private feedSet: FeedSet | undefined;
  private commitFiles: KeyFiles[] | undefined;

  constructor(
    private readonly config: IocSweepConfig,
    private readonly ctx: PluginContext,
  ) {
    this.matcher = new Matcher(config.fields);
    this.suppressor = config.suppress
      ? new Suppressor(config.suppress.key ?? ['source.ip', 'indicator'], parseDuration(config.suppress.period), config.suppress.period)
      : null;
    if (ctx.shared === undefined) throw new Error('ioc-sweep: no prepared feeds (the runtime runs prepare() before create())');
    this.update(ctx.shared);
  }

  /** A new set of feeds (initial, or a refresh published by the main thread): views over the shared tables. */
  update(shared: unknown): void {
    const v = shared as SweepShared;
    this.current = { stores: v.feeds.map((d) => IndicatorStore.fromShared(d)), allow: v.allow.map((d) => IndicatorStore.fromShared(d)) };
    this.feedSet = FeedSet.of(shared);
    this.commitFiles = v.commit;
  }

  /** Reload feeds now (main-thread copies only: the feeds live with the node's prepared set). */
  async refresh(name?: string): Promise<boolean> {
    if (!this.feedSet) throw new Error('ioc-sweep: refresh() is available where the feeds were prepared (the main thread)');
    return this.feedSet.refresh(name);
  }

  /** Indicator counts per feed. */
  stats(): { feed: string; size: number }[] {
    return this.current.stores.map((s) => ({ feed: s.feed, size: s.size }));
  }

  process(records: Rec[]) {
    const { stores, allow } = this.current;
    const alerts: Rec[] = [];
    const matches = this.matches;
    let hits = 0;
    let allowlisted = 0;
    let raised = 0;
    for (let i = 0; i < records.length; i++) {
      const rec = records[i];
      if (rec === null || typeof rec !== 'object') continue;
      clear(matches);
      const atoms = this.matcher.sweep(rec, stores, matches);
      if (atoms === null) continue;
      hits += matches.length;
      let kept = matches;
      if (allow.length > 0) {
        kept = matches.filter((m) => !this.matcher.allowlisted(m, atoms, allow));
        allowlisted += matches.length - kept.length;
        if (kept.length === 0) continue;
      }
      const alert = buildAlert(rec, this.config.rule_name, kept);
      raised++;
      if (this.suppressor) this.suppressor.offer(alert, alerts);
      else alerts.push(alert);
    }
    if (this.suppressor && records.length > 0) this.suppressor.tick(records[records.length - 1]?.['@timestamp'], alerts);
    const m = this.ctx.metrics;
    if (hits) m.add('ioc_hits', hits);
    if (allowlisted) m.add('allowlisted', allowlisted);
    if (raised - alerts.length > 0 || this.suppressor) this.countSuppressed();
    if (alerts.length) m.add('alerts', alerts.length);
    return { out: records, alerts };
  }

  /**
   * The record gate (see `RecordGate`): a record whose swept fields match no indicator raises no
   * alert and is passed on unchanged; told as spans of the line's bytes (API 1.10), it reads the values in
   * place, the host cache found by the hash the probe made of the host. None with `suppress`: each batch's last record moves the
   * suppressor's clock, so skipping records would change when its summaries come out.
   */
  recordGate(): RecordGate | undefined {
    if (this.suppressor) return undefined;
    const matches: Match[] = [];
    return {
      paths: this.matcher.paths,
      hashPaths: this.matcher.hostPaths,
      mayEmit: (probe: Rec): boolean => {
        clear(matches);
        return this.matcher.sweep(probe, this.current.stores, matches) !== null;
      },
      mayEmitSpans: (bytes: Uint8Array, spans: LineSpans): boolean => {
        clear(matches);
        return this.matcher.sweepSpans(bytes, spans, this.current.stores, matches) !== null;
      },
    };
  }

  private reportedSuppressed = 0;
  private countSuppressed(): void {
    const n = this.suppressor!.suppressed - this.reportedSuppressed;
    if (n > 0) this.ctx.metrics.add('alerts_suppressed', n);
    this.reportedSuppressed = this.suppressor!.suppressed;
  }

  finish() {
    const alerts: Rec[] = [];
    if (this.suppressor) this.suppressor.flush(alerts);
    if (alerts.length) this.ctx.metrics.add('alerts', alerts.length);
    // `since_last_run`: the input is swept to its end: stage today's key set, committed when the run
    // ends without a failure (after the sinks' last flush; see FeedSet.load). Not when the run is
    // being stopped (a signal, a failure): its new indicators are swept again.
    if (this.commitFiles && !this.ctx.signal.aborted) {
      for (const f of this.commitFiles) stage(f);
    }
    return { alerts };
  }
}
