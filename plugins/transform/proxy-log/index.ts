/**
 * proxy-log: raw proxy log lines → ECS records (schema-checked) on `out`, everything else on `invalid`.
 * Accounting, per batch and in total: lines in = out + invalid + directives + blank (see docs/formats.md).
 */
import { definePlugin, makeInvalid } from '../../../src/api.js';
import { schemaValidator } from '../../../src/internal.js';
import type { ConfigIssue, LineProbe, LineSpans, Origin, PluginContext, ProcessorInstance, Rec } from '../../../src/api.js';
import type { ValidatorSpec } from '../../../src/internal.js';
import recordSchema from '../../../schemas/proxy-record.schema.json' with { type: 'json' };
import { ERR, ParseError } from './errors.js';
import { SQUID_PROBE_PATHS, SquidState, parseSquid, probeSquid } from './squid.js';
import { SquidSpanPlan, probeSquidBytes } from './squid-bytes.js';
import { Tokens } from './lex.js';
import { parseCombined } from './combined.js';
import { ELFF_PRESETS, ElffJsonState, ElffState, looksLikeElffObject, parseElff, parseElffObject } from './elff.js';
import { JSON_TARGETS, compileMapping, looksLikeZscaler, parseJsonObject, parseMappedJson, parseZscaler } from './json.js';
import type { JsonMapping } from './json.js';
import { addTag } from './record.js';
import type { ProxyRecord } from './record.js';
import { LOGFORMAT_PRESETS, LogformatState, compileLogformat, parseLogformat } from './logformat.js';
import type { Logformat } from './logformat.js';

// The character codes this file compares against, as constants of its own (see charcodes.ts)
const Ch_Tab = 0x09;
const Ch_Cr = 0x0d;
const Ch_Space = 0x20;
const Ch_Quote = 0x22; // "
const Ch_Hash = 0x23; // #
const Ch_Plus = 0x2b; // +
const Ch_Dash = 0x2d; // -
const Ch_Dot = 0x2e; // .
const Ch_Slash = 0x2f; // /
const Ch_Zero = 0x30;
const Ch_Nine = 0x39;
const Ch_Colon = 0x3a; // :
const Ch_a = 0x61;
const Ch_f = 0x66;
const Ch_z = 0x7a;
const Ch_LBrace = 0x7b; // {

export type Format = 'squid' | 'combined' | 'elff' | 'elff-json' | 'zscaler-nss' | 'json';
export const FORMATS: readonly Format[] = ['squid', 'combined', 'elff', 'elff-json', 'zscaler-nss', 'json'];

export interface ProxyLogConfig {
  format: 'auto' | Format;
  keep_original: boolean;
  elff_fields?: string;
  logformat?: string;
  fields?: { [ecsPath: string]: string };
}

// Two of the record schema's patterns (short strings: addresses, schemes) as hand-written testers with
// exactly the regular expressions' meaning (checked against them by a property test): on strings this
// short a loop beats entering the regex engine. The domain pattern gets a RegExp as usual: on longer
// strings V8's regex is faster.
export const FAST_PATTERNS: { [pattern: string]: (s: string) => boolean } = {
  '^[0-9a-f.:]+$': (s) => {
    if (s.length === 0) return false;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (!((c >= Ch_Zero && c <= Ch_Colon) || (c >= Ch_a && c <= Ch_f) || c === Ch_Dot)) return false;
    }
    return true;
  },
  '^[a-z][a-z0-9+.-]*$': (s) => {
    if (s.length === 0) return false;
    const c0 = s.charCodeAt(0);
    if (c0 < Ch_a || c0 > Ch_z) return false;
    for (let i = 1; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (!((c >= Ch_a && c <= Ch_z) || (c >= Ch_Zero && c <= Ch_Nine) || c === Ch_Plus || c === Ch_Dot || c === Ch_Dash)) return false;
    }
    return true;
  },
};

function patternTester(pattern: string, flags: string): { test(s: string): boolean; toString(): string } {
  // ajv asks with flag 'u' (unicodeRegExp): for these character-class patterns it changes no answer
  const test = flags === '' || flags === 'u' ? FAST_PATTERNS[pattern] : undefined;
  if (test === undefined) return new RegExp(pattern, flags);
  // ajv keys its pattern cache by toString(): keep it the pattern's own
  return { test, toString: () => `/${pattern}/${flags}` };
}
patternTester.code = 'patternTester';

/**
 * The schema the parser's records are checked against: the published one less two checks that hold
 * by construction (docs/ARCHITECTURE.md, "Record shapes"); every other check stays.
 * - `additionalProperties: false` on the objects of the record layout (record.ts): they are built by
 *   the layout's factories with a fixed key set, and the compiler refuses any other key. The check
 *   would cost a for-in loop per object per record (a large share of the validator's time) — and loops
 *   let V8 compile the validator on-stack (OSR), which it then sometimes keeps running much slower.
 * - the `@timestamp` pattern, as a length of 24: every timestamp is made by time.ts, either as
 *   `YYYY-MM-DDTHH:MM:SS.mmmZ` from digits, or by `Date#toISOString`, whose text has 24 characters
 *   exactly when it has that form (other years are written `±YYYYYY-…`, 27). The pattern would make
 *   V8 flatten the concatenated string and run the regex; the length is a field read.
 * - the patterns (and, for addresses, the lengths) of the `ip` and `domain` definitions: every address
 *   in a record is the output of `canonicalIp`, every domain that of `canonicalIp` or `normaliseHost`
 *   (src/net), which only ever return such text (property tests hold them to the patterns). The
 *   domain's length limits stay: `normaliseHost` does not bound the length.
 * A record this schema refuses is checked against the published schema, whose verdict and message
 * count (they are the same as before the layout). The vendor namespaces and `origin` have no key check.
 * Tests hold the published schema's verdict equal to this one's on every fixture and fuzzed line.
 */
export function layoutSchema(schema: any): any {
  const copy = structuredClone(schema);
  const open = (o: any): void => {
    if (o.additionalProperties === false) delete o.additionalProperties;
  };
  open(copy);
  for (const key of ['event', 'source', 'destination', 'user', 'url', 'http', 'user_agent', 'observer']) open(copy.properties[key]);
  open(copy.properties.http.properties.request);
  open(copy.properties.http.properties.response);
  copy.$defs.ip = { description: copy.$defs.ip.description, type: 'string' };
  delete copy.$defs.domain.pattern;
  const ts = copy.properties['@timestamp'];
  delete ts.pattern;
  ts.minLength = 24;
  ts.maxLength = 24;
  return copy;
}

// Compiled once at module load (generated ahead of time by the build: see src/spec/ajv.ts);
// `allErrors: false` stops at the first problem (the hot path);
// `unicode: false` measures lengths in code units, sparing a scan of every string (only 0/1 and caps matter);
// `validateSchema: false`: the record schema is this project's own, checked against the meta-schema by a
// test, so start-up does not compile the meta-schema for it.
const AJV_OPTIONS = {
  allErrors: false,
  strict: false,
  allowUnionTypes: true,
  unicode: false,
  logger: false,
  validateSchema: false,
  code: { regExp: patternTester },
};
type Validator = ((r: unknown) => boolean) & { errors?: { instancePath: string; message?: string; keyword: string }[] | null };

const layoutSpec: ValidatorSpec = {
  id: 'proxy-log-record-layout',
  schema: layoutSchema(recordSchema),
  options: AJV_OPTIONS,
  formats: false,
  helpers: { patternTester },
};
const publishedSpec: ValidatorSpec = { id: 'proxy-log-record', schema: recordSchema, options: AJV_OPTIONS, formats: false, helpers: { patternTester } };
/** The record validators, for the build to generate (src/spec/precompile.ts). */
export function recordValidatorSpecs(): ValidatorSpec[] {
  return [layoutSpec, publishedSpec];
}

const validateLayout: Validator = schemaValidator(layoutSpec);

let published: Validator | undefined;
/** The published schema as it is (made on first use): for tests, and for records that did not come from the layout. */
export function publishedValidator(): Validator {
  return (published ??= schemaValidator(publishedSpec));
}

/** Does the record pass the record schema? (The published schema decides whatever the layout schema refuses.) */
function validateRecord(rec: ProxyRecord): boolean {
  return validateLayout(rec) || publishedValidator()(rec);
}

/** A count as the validator reads `type: integer, minimum: 0` (it takes Infinity: no `strictNumbers`). */
function isCount(v: unknown): boolean {
  return typeof v === 'number' && !(v % 1) && !Number.isNaN(v) && v >= 0;
}

/** Would the record schema take this `origin`? (Its properties' types; the schema allows any other key.) */
export function originValid(o: unknown): boolean {
  if (o === null || o === undefined) return true;
  if (typeof o !== 'object' || Array.isArray(o)) return false;
  const r = o as Record<string, unknown>;
  const { file, line, topic, partition, offset } = r;
  return (
    (file === undefined || typeof file === 'string') &&
    (line === undefined || isCount(line)) &&
    (topic === undefined || typeof topic === 'string') &&
    (partition === undefined || isCount(partition)) &&
    (offset === undefined || typeof offset === 'string')
  );
}

function schemaMessage(): string {
  const e = publishedValidator().errors?.[0];
  return e ? `record fails proxy-record schema: ${e.instancePath || '/'} ${e.message ?? e.keyword}` : 'record fails proxy-record schema';
}

/** Per-source state: detected format and the ELFF header in force. */
class SourceState {
  format: Format | undefined;
  elff: ElffState | undefined;
}

const W3C_DIRECTIVES = ['#Fields:', '#Software:', '#Version:', '#Date:', '#Start-Date:', '#End-Date:', '#Remark:'];

function isDigit(c: number): boolean {
  return c >= Ch_Zero && c <= Ch_Nine;
}

/** Guess the format of a source from one of its lines; undefined when the line says nothing. */
export function detectFormat(line: string, hasMapping: boolean): Format | undefined {
  let i = 0;
  while (i < line.length && (line.charCodeAt(i) === Ch_Space || line.charCodeAt(i) === Ch_Tab)) i++;
  const c = line.charCodeAt(i);
  if (c === Ch_LBrace) {
    const o = parseJsonObject(line);
    if (o instanceof ParseError) return undefined;
    if (looksLikeZscaler(o)) return 'zscaler-nss';
    // a configured mapping is the spec's own reading of its JSON: it wins over the ELFF key guess
    if (hasMapping) return 'json';
    return looksLikeElffObject(o) ? 'elff-json' : undefined;
  }
  if (c === Ch_Hash) {
    for (const d of W3C_DIRECTIVES) if (line.startsWith(d, i)) return 'elff';
    return undefined;
  }
  // squid: epoch seconds with a fraction as the first column
  let k = i;
  while (k < line.length && isDigit(line.charCodeAt(k))) k++;
  if (k - i >= 9 && line.charCodeAt(k) === Ch_Dot && isDigit(line.charCodeAt(k + 1))) return 'squid';
  // W3C: a data line starting with a date ("2024-03-22" or "\"2024-03-22\"")
  const q = c === Ch_Quote ? i + 1 : i;
  if (k - i === 4 && line.charCodeAt(k) === Ch_Dash) return 'elff';
  if (q !== i && isDigit(line.charCodeAt(q)) && line.charCodeAt(q + 4) === Ch_Dash && line.charCodeAt(q + 7) === Ch_Dash) return 'elff';
  // combined: "client ident user [dd/Mon/yyyy:..."
  const br = line.indexOf(' [', i);
  if (br > 0 && br < 300 && isDigit(line.charCodeAt(br + 2)) && line.charCodeAt(br + 4) === Ch_Slash && line.indexOf('"', br) !== -1) return 'combined';
  return undefined;
}

function sourceKey(o: Origin | null | undefined): string {
  if (!o) return '';
  if (o.file !== undefined) return o.file;
  if (o.topic !== undefined) return `${o.topic}/${o.partition ?? ''}`;
  return '';
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== Ch_Space && c !== Ch_Tab && c !== Ch_Cr) return false;
  }
  return true;
}

function fieldList(spec: string): string {
  return ELFF_PRESETS[spec] ?? spec;
}

export class ProxyLogParser implements ProcessorInstance {
  private readonly states = new Map<string, SourceState>();
  private readonly mapping: JsonMapping | undefined;
  private readonly headerless: string | undefined;
  /** The compiled squid `logformat` of the spec, when it gives one. */
  private readonly logformat: Logformat | undefined;
  private readonly lfState = new LogformatState();
  /** The squid parser's line-to-line state, and the token scratch of the combined and ELFF parsers. */
  private readonly squid = new SquidState();
  private readonly tokens = new Tokens();
  /** The layout of the last ELFF-as-JSON key set (Cloud SWG). */
  private readonly elffJson = new ElffJsonState();
  /** Running totals, also reported as metrics. */
  readonly totals = { in: 0, out: 0, invalid: 0, directives: 0, blank: 0 };

  constructor(
    private readonly cfg: ProxyLogConfig,
    private readonly ctx: PluginContext,
  ) {
    this.mapping = cfg.fields ? compileMapping(cfg.fields) : undefined;
    this.headerless = cfg.elff_fields !== undefined ? fieldList(cfg.elff_fields) : undefined;
    this.logformat = cfg.logformat !== undefined ? compileLogformat(cfg.logformat) : undefined;
  }

  private lastFile: string | undefined;
  private lastTopic: string | undefined;
  private lastPartition: number | undefined;
  private lastState: SourceState | undefined;

  private state(origin: Origin | null | undefined): SourceState {
    // consecutive lines mostly come from the same file or partition: skip the key and the map
    // lookup for them
    const file = origin?.file;
    if (file !== undefined) {
      if (file === this.lastFile) return this.lastState!;
    } else if (origin?.topic !== undefined && origin.topic === this.lastTopic && origin.partition === this.lastPartition) return this.lastState!;
    const st = this.lookup(origin);
    this.lastFile = file;
    this.lastTopic = file === undefined ? origin?.topic : undefined;
    this.lastPartition = origin?.partition;
    this.lastState = st;
    return st;
  }

  private lookup(origin: Origin | null | undefined): SourceState {
    const key = sourceKey(origin);
    let st = this.states.get(key);
    if (st === undefined) {
      st = new SourceState();
      if (this.cfg.format !== 'auto') st.format = this.cfg.format;
      this.states.set(key, st);
    }
    return st;
  }

  private elffState(st: SourceState): ElffState {
    if (st.elff === undefined) {
      st.elff = new ElffState();
      if (this.headerless !== undefined) {
        st.elff.setFields(this.headerless);
        st.elff.headerless = true;
      }
    }
    return st.elff;
  }

  /**
   * A source's state settles once its format is known, except ELFF's (a later `#Fields:` can change
   * the header mid-file): every later line is then parsed alike whichever copy reads it.
   */
  settledState(origin: Origin | null): { format: Format } | undefined {
    const format = this.states.get(sourceKey(origin))?.format;
    return format === undefined || format === 'elff' ? undefined : { format };
  }

  /** Take on the format another copy detected for the source (see `settledState`). */
  adoptState(origin: Origin | null, state: unknown): void {
    const format = (state as { format?: unknown } | null)?.format;
    if (typeof format !== 'string' || format === 'elff' || !(FORMATS as readonly string[]).includes(format)) {
      throw new Error(`proxy-log: cannot adopt source state ${JSON.stringify(state)}`);
    }
    this.lookup(origin).format = format as Format;
  }

  /**
   * The line probe (see `LineProbe`): squid lines read by the fast path, whose records the parser
   * vouches for, give the URL, destination and client fields without their record (`probeSquid`);
   * every other line, and every other format for now, is parsed. None with a `logformat`, or for
   * a path the probe does not make. The same as spans of an ASCII line's bytes (`probeSquidBytes`),
   * the URL's host hashed on the way when the gate asks for it.
   */
  lineProbe(paths: readonly string[], hashPaths: readonly string[] = []): LineProbe | undefined {
    if (this.logformat !== undefined || (this.cfg.format !== 'auto' && this.cfg.format !== 'squid')) return undefined;
    if (!paths.every((p) => SQUID_PROBE_PATHS.includes(p))) return undefined;
    const plan = new SquidSpanPlan(paths, hashPaths);
    return {
      probe: (line: string, origin: Origin): Rec | undefined => (this.state(origin).format === 'squid' ? probeSquid(line, this.squid) : undefined),
      spans: (bytes: Uint8Array, from: number, to: number, origin: Origin, out: LineSpans): boolean =>
        this.state(origin).format === 'squid' && probeSquidBytes(bytes, from, to, this.squid, plan, out),
      skipped: (n: number): void => {
        const t = this.totals;
        t.in += n;
        t.out += n;
        this.ctx.metrics.add('lines_in', n);
        this.ctx.metrics.add('parsed', n);
        this.ctx.metrics.add('gated', n);
      },
    };
  }

  process(records: Rec[]): { out: Rec[]; invalid: Rec[] } {
    const out: Rec[] = [];
    const invalid: Rec[] = [];
    const node = this.ctx.node;
    const keep = this.cfg.keep_original;
    let directives = 0;
    let blank = 0;
    for (let r = 0; r < records.length; r++) {
      const input = records[r]!;
      const origin: Origin | null = input?.origin ?? null;
      const line = input?.message;
      if (typeof line !== 'string') {
        invalid.push(makeInvalid(node, origin, ERR.INPUT, 'input record has no string `message` (is the source a line source?)', safeJson(input)));
        continue;
      }
      const b64: string | undefined = typeof input.raw_base64 === 'string' ? input.raw_base64 : undefined;
      if (isBlank(line)) {
        blank++;
        continue;
      }
      const st = this.state(origin);
      let format = st.format;
      const first = line.charCodeAt(0);
      // '#' lines: W3C directives (ELFF) or comments (squid/combined logs); never records
      if (first === Ch_Hash && format !== 'json' && format !== 'zscaler-nss' && format !== 'elff-json') {
        if (format === undefined && detectFormat(line, false) === 'elff') format = st.format = 'elff';
        if (format === 'elff') this.elffState(st).directive(line);
        directives++;
        continue;
      }
      if (format === undefined) {
        format = detectFormat(line, this.mapping !== undefined);
        if (format === undefined) {
          invalid.push(
            makeInvalid(
              node,
              origin,
              ERR.FORMAT,
              'auto: cannot tell the log format from this line (squid, combined, elff, zscaler-nss or mapped json)',
              line,
              b64,
            ),
          );
          continue;
        }
        st.format = format;
      }
      let res: ProxyRecord | ParseError;
      // set where the parser vouches for its record (see SquidState.valid)
      let built = false;
      switch (format) {
        case 'squid':
          if (this.logformat !== undefined) res = parseLogformat(line, this.logformat, this.lfState);
          else {
            res = parseSquid(line, this.squid);
            built = this.squid.valid;
          }
          break;
        case 'combined':
          res = parseCombined(line, this.tokens);
          break;
        case 'elff':
          res = parseElff(line, this.elffState(st), this.tokens);
          break;
        default: {
          const o = parseJsonObject(line);
          if (o instanceof ParseError) res = o;
          else if (format === 'zscaler-nss') res = parseZscaler(o);
          else if (format === 'elff-json') res = parseElffObject(o, this.elffJson);
          else res = parseMappedJson(o, this.mapping!);
          break;
        }
      }
      if (res instanceof ParseError) {
        invalid.push(makeInvalid(node, origin, res.code, res.message, line, b64));
        continue;
      }
      const rec = res;
      if (keep) rec.event.original = line.charCodeAt(line.length - 1) === Ch_Cr ? line.slice(0, -1) : line;
      if (b64 !== undefined) addTag(rec, 'invalid_utf8');
      rec.origin = origin;
      // a record the parser built valid needs only its origin checked (it comes from the input)
      if (!(built && originValid(origin)) && !validateRecord(rec)) {
        invalid.push(makeInvalid(node, origin, ERR.SCHEMA, schemaMessage(), line, b64));
        continue;
      }
      out.push(rec);
    }
    const t = this.totals;
    t.in += records.length;
    t.out += out.length;
    t.invalid += invalid.length;
    t.directives += directives;
    t.blank += blank;
    const m = this.ctx.metrics;
    m.add('lines_in', records.length);
    m.add('parsed', out.length);
    m.add('invalid', invalid.length);
    if (directives) m.add('directives', directives);
    if (blank) m.add('blank', blank);
    for (let i = 0; i < invalid.length; i++) m.add(`invalid.${invalid[i]!.error.code}`);
    return { out, invalid };
  }

  finish(): { out: Rec[]; invalid: Rec[] } {
    const t = this.totals;
    this.ctx.logger.debug({ node: this.ctx.node, ...t }, 'proxy-log totals (in = out + invalid + directives + blank)');
    return { out: [], invalid: [] };
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

export default definePlugin<ProxyLogConfig>({
  name: 'proxy-log',
  kind: 'transform',
  summary: 'Parse web-proxy log lines (squid, combined, BlueCoat ELFF, Cloud SWG ELFF-as-JSON, Zscaler NSS, JSON) into ECS records.',
  reasons: {
    PARSE_FIELD_COUNT: 'too few fields or values for the layout (truncated line, missing columns)',
    PARSE_TIMESTAMP: 'the time is missing or not a real instant',
    PARSE_NUMBER: 'a numeric column holds something else',
    PARSE_SYNTAX: "the line does not have the format's shape",
    PARSE_QUOTE: 'a quoted value has no closing quote (truncated line)',
    PARSE_JSON: 'not a JSON object',
    PARSE_NO_FIELDS: 'an ELFF data line with no `#Fields:` before it and no `elff_fields` configured',
    PARSE_FORMAT: '`auto` could not tell the format from this line',
    SCHEMA: 'parsed, but the record fails `proxy-record.schema.json` (the message carries the error)',
    INPUT_TYPE: 'the input record has no string `message` (not from a line source)',
  },
  configCodes: {
    PROXY_LOG_FIELD: '`fields` or `elff_fields` is missing or unusable for the format',
  },
  description: [
    'Turns raw log lines (`{message, origin}` from a line source) into records with Elastic Common Schema names',
    '(`source.ip`, `url.domain`, `http.response.status_code`, ...), each checked against `schemas/proxy-record.schema.json`.',
    'Lines that cannot be parsed, or whose record fails the schema, go to `invalid` with a reason code:',
    '`PARSE_FIELD_COUNT`, `PARSE_TIMESTAMP`, `PARSE_NUMBER`, `PARSE_SYNTAX`, `PARSE_QUOTE`, `PARSE_JSON`, `PARSE_NO_FIELDS`,',
    '`PARSE_FORMAT` (auto could not tell the format), `SCHEMA`, `INPUT_TYPE` (input was not a line record).',
    '`#` lines (W3C directives, comments) and blank lines are consumed and counted (metrics `directives`, `blank`):',
    'lines in = out + invalid + directives + blank. Each record keeps `origin` (file and line, or topic/partition/offset).',
    'Format state (auto detection, the ELFF `#Fields:` header) is kept per source: per file, or per topic/partition.',
    'Read only by an `ioc-sweep` whose passed-on records nobody reads, squid lines the sweep cannot alert on are not made into',
    'records at all (the line gate, docs/plugin-api.md): they count as `parsed`, and also as `gated`.',
    'See docs/formats.md for what each format accepts and rejects.',
  ].join('\n'),
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      format: {
        description: 'The log format, or `auto` to detect it per source (file, or topic/partition) from its first lines.',
        enum: ['auto', ...FORMATS],
        default: 'auto',
        examples: ['squid', 'elff'],
      },
      keep_original: {
        description: 'Keep the raw line in `event.original` on parsed records.',
        type: 'boolean',
        default: false,
      },
      elff_fields: {
        description: `Field list for ELFF logs without a \`#Fields:\` line: a preset (${Object.keys(ELFF_PRESETS).join(', ')}) or space-separated W3C field names. A \`#Fields:\` directive in the log overrides it.`,
        type: 'string',
        minLength: 1,
        examples: ['bcreportermain_v1', 'date time c-ip cs-method cs-uri sc-status'],
      },
      logformat: {
        description: `For format \`squid\`: the squid.conf \`logformat\` the log was written with (Squid's \`%\` codes), or a built-in one (${Object.keys(LOGFORMAT_PRESETS).join(', ')}). Lines are read by it instead of by the native layout's rules.`,
        type: 'string',
        minLength: 1,
        examples: [
          '%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt',
          '%>a %[ui %[un [%{%d/%m/%Y %H:%M:%S}tl] "%rm %ru HTTP/%rv" %>Hs %<st %{X-Category}<h',
        ],
      },
      fields: {
        description: `For format \`json\`: ECS path → path in the JSON line (dotted). Targets: ${Object.keys(JSON_TARGETS).join(', ')}. \`@timestamp\` is required (epoch s/ms or ISO-8601 with a zone).`,
        type: 'object',
        additionalProperties: { type: 'string', minLength: 1 },
        examples: [{ '@timestamp': 'ts', 'source.ip': 'client.ip', 'url.original': 'request.url', 'http.response.status_code': 'status' }],
      },
    },
  },
  ports: ['out', 'invalid'],
  // Detection (auto) and the ELFF #Fields header are kept per source: all of a file's batches go to one copy.
  // auto: the detected format is per source, but settles (settledState), so one file spreads too
  parallel: (cfg) => (cfg.format === 'auto' || cfg.format === 'elff' ? 'by-origin' : 'any'),
  examples: [
    { title: 'Detect the format per file', with: { format: 'auto' } },
    { title: 'Squid access.log, keeping the raw line', with: { format: 'squid', keep_original: true } },
    { title: 'Headerless BlueCoat bcreportermain_v1', with: { format: 'elff', elff_fields: 'bcreportermain_v1' } },
    {
      title: 'Squid with a custom logformat',
      with: { format: 'squid', logformat: '%>a %[ui %[un [%{%d/%m/%Y %H:%M:%S}tl] "%rm %ru HTTP/%rv" %>Hs %<st %{X-Category}<h' },
    },
    { title: 'Generic JSON lines', with: { format: 'json', fields: { '@timestamp': 'ts', 'source.ip': 'client', 'url.original': 'url' } } },
  ],
  check(cfg) {
    const issues: ConfigIssue[] = [];
    if (cfg.fields) {
      for (const t of Object.keys(cfg.fields)) {
        if (!(t in JSON_TARGETS))
          issues.push({
            path: `/fields/${t.replace(/~/g, '~0').replace(/\//g, '~1')}`,
            code: 'PROXY_LOG_FIELD',
            message: `unknown target '${t}'`,
            hint: `one of: ${Object.keys(JSON_TARGETS).join(', ')}`,
          });
      }
      if (!('@timestamp' in cfg.fields)) issues.push({ path: '/fields', code: 'PROXY_LOG_FIELD', message: 'fields must map @timestamp' });
    }
    if (cfg.format === 'json' && !cfg.fields)
      issues.push({
        path: '/fields',
        code: 'PROXY_LOG_FIELD',
        message: "format 'json' needs a fields mapping",
        hint: "or use format 'zscaler-nss' for Zscaler NSS feeds",
      });
    if (cfg.logformat !== undefined) {
      if (cfg.format !== 'squid')
        issues.push({
          path: '/logformat',
          code: 'PROXY_LOG_FIELD',
          message: `logformat is for format 'squid' (format is '${cfg.format}')`,
          hint: 'set format: squid',
        });
      try {
        compileLogformat(cfg.logformat);
      } catch (e) {
        issues.push({
          path: '/logformat',
          code: 'PROXY_LOG_FIELD',
          message: (e as Error).message,
          hint: 'squid logformat codes: http://www.squid-cache.org/Doc/config/logformat/',
        });
      }
    }
    if (cfg.elff_fields !== undefined && ELFF_PRESETS[cfg.elff_fields] === undefined && cfg.elff_fields.trim().split(/\s+/).length < 2) {
      issues.push({
        path: '/elff_fields',
        code: 'PROXY_LOG_FIELD',
        message: `'${cfg.elff_fields}' is neither a preset nor a field list`,
        hint: `presets: ${Object.keys(ELFF_PRESETS).join(', ')}`,
      });
    }
    return issues;
  },
  create(cfg, ctx) {
    return new ProxyLogParser(cfg, ctx);
  },
});
