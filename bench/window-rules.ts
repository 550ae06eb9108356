/**
 * Micro-benchmark of the `window` and `rules` analysers, in-process, on one core:
 *   node dist/bench/window-rules.js [records=500000] [rounds=3]
 *
 * Records (nested ECS, as proxy-log emits them) are generated seeded in memory: 100,000 distinct
 * clients, event time advancing ~1 ms per record with up to 20 s of disorder. Each scenario is fed
 * the same records in batches of 1000, and is measured beside, in the same run and interleaved
 * round by round:
 *   - pass-through: a processor that returns its batch (the floor any analyser sits on),
 *   - naive window: a plain Map of counters per (client, 1-minute bucket), summed into 5-minute
 *     windows at the end — what a hand-written script would do, with no lateness, no sliding
 *     state release, no distinct.
 * The sliding window is also run over the same volume from 1,000 clients (many records per window,
 * as in a busy proxy's log), where the cost per emitted window no longer dominates.
 * The best round counts. Prints records/s and ns/record.
 */
import windowPlugin from '../plugins/analyse/window/index.js';
import rulesPlugin from '../plugins/analyse/rules/index.js';
import { compileConfigSchema, describeAjvErrors } from '../src/spec/ajv.js';
import type { PluginDef, ProcessorInstance, Rec } from '../src/api.js';
import { mulberry32, int, pick } from './lib/prng.js';
import { quietContext } from './lib/context.js';

const N = Number(process.argv[2] ?? 500_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const BATCH = 1000;
const KEYS = 100_000;
let fewKeysData: Rec[][] = [];

const ctx = quietContext('bench');

function configure(def: PluginDef, withConfig: unknown): unknown {
  const copy = structuredClone(withConfig);
  const validate = compileConfigSchema(def.schema);
  if (!validate(copy)) throw new Error(`${def.name}: ${describeAjvErrors(validate.errors)}`);
  const issues = def.check?.(copy) ?? [];
  if (issues.length) throw new Error(`${def.name}: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`);
  return copy;
}

async function make(def: PluginDef, withConfig: unknown): Promise<ProcessorInstance> {
  return (await def.create(configure(def, withConfig), ctx)) as ProcessorInstance;
}

// ------------------------------------------------------------------------------------------------
// Data

const DOMAINS = [
  'www.example.com',
  'cdn.example.net',
  'api.example.org',
  'login.example.com',
  '198.51.100.23',
  'upload.unknown-host.example',
  'img.example.net',
  'updates.example.org',
];
const PATHS = ['/', '/index.html', '/a/b/c.js', '/images/logo.png', '/files/invoice.exe', '/put', '/api/v1/items', '/dl/setup.msi'];
const METHODS = ['GET', 'GET', 'GET', 'GET', 'POST', 'CONNECT', 'HEAD'];
const STATUS = [200, 200, 200, 304, 404, 407, 503];

function generate(n: number, keys: number): Rec[][] {
  const rng = mulberry32(42);
  const base = Date.parse('2024-03-01T00:00:00Z');
  const batches: Rec[][] = [];
  let batch: Rec[] = [];
  for (let i = 0; i < n; i++) {
    const k = int(rng, keys);
    const t = base + i + int(rng, 20_000) - 10_000; // up to ±10 s out of order
    const domain = pick(rng, DOMAINS);
    batch.push({
      '@timestamp': new Date(t).toISOString(),
      source: { ip: `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}` },
      destination: { ip: `203.0.113.${int(rng, 256)}` },
      url: { domain, path: pick(rng, PATHS), original: `http://${domain}/` },
      http: { request: { method: pick(rng, METHODS), bytes: int(rng, 4000) }, response: { status_code: pick(rng, STATUS), bytes: int(rng, 200_000) } },
      user_agent: { original: 'Mozilla/5.0' },
      event: { dataset: 'squid.access', action: 'TCP_MISS' },
    });
    if (batch.length === BATCH) {
      batches.push(batch);
      batch = [];
    }
  }
  if (batch.length) batches.push(batch);
  return batches;
}

// ------------------------------------------------------------------------------------------------
// Scenarios

const passThrough: ProcessorInstance = { process: (records) => ({ out: records }) };

/** What a hand-written script would do: counters per (client, minute), summed to 5-minute windows at the end. */
function naiveWindow(): ProcessorInstance {
  const buckets = new Map<string, number>();
  return {
    process(records) {
      for (const r of records) {
        const minute = Math.floor(Date.parse(r['@timestamp']) / 60_000);
        const k = `${r.source.ip}|${minute}`;
        buckets.set(k, (buckets.get(k) ?? 0) + 1);
      }
      return { out: records };
    },
    finish() {
      let alerts = 0;
      const perKey = new Map<string, Map<number, number>>();
      for (const [k, c] of buckets) {
        const [ip, m] = k.split('|') as [string, string];
        let mm = perKey.get(ip);
        if (!mm) perKey.set(ip, (mm = new Map()));
        mm.set(Number(m), c);
      }
      for (const mm of perKey.values()) {
        for (const m of mm.keys()) {
          let sum = 0;
          for (let i = 0; i < 5; i++) sum += mm.get(m - i) ?? 0;
          if (sum > 600) alerts++;
        }
      }
      return { alerts: new Array(alerts) };
    },
  };
}

const WINDOW_SLIDING = {
  key: ['source.ip'],
  size: '5m',
  slide: '1m',
  allowed_lateness: '30s',
  aggregate: { requests: 'count', bytes: { sum: 'http.response.bytes' } },
  alert_when: { '>': [{ var: 'requests' }, 600] },
  max_keys: 1_000_000,
};
const WINDOW_FULL = {
  ...WINDOW_SLIDING,
  aggregate: { requests: 'count', bytes: { sum: 'http.response.bytes' }, max_bytes: { max: 'http.response.bytes' }, hosts: { distinct: 'url.domain' } },
};
const WINDOW_TUMBLING = { key: ['source.ip'], size: '5m', allowed_lateness: '30s', aggregate: { requests: 'count' }, max_keys: 1_000_000 };

/** 50 rules of the kinds analysts write: comparisons, CIDRs, affixes, lists, extensions. */
function fiftyRules(): unknown[] {
  const rules: unknown[] = [];
  for (let i = 0; i < 10; i++)
    rules.push({
      name: `status-${i}`,
      when: { and: [{ '==': [{ var: 'http.response.status_code' }, 400 + i] }, { '==': [{ var: 'http.request.method' }, 'GET'] }] },
    });
  for (let i = 0; i < 10; i++)
    rules.push({ name: `cidr-${i}`, when: { cidr_match: [{ var: 'destination.ip' }, [`192.0.${i}.0/24`, `198.18.${i}.0/24`, '2001:db8::/32']] } });
  for (let i = 0; i < 10; i++)
    rules.push({ name: `suffix-${i}`, when: { ends_with: [{ lower: { var: 'url.domain' } }, [`.bad${i}.example`, `.evil${i}.test`]] } });
  for (let i = 0; i < 10; i++)
    rules.push({
      name: `upload-${i}`,
      when: { and: [{ '==': [{ var: 'http.request.method' }, 'POST'] }, { '>': [{ var: 'http.request.bytes' }, 1_000_000 + i] }] },
    });
  for (let i = 0; i < 5; i++) rules.push({ name: `prefix-${i}`, when: { starts_with: [{ var: 'url.path' }, [`/wp-admin${i}`, `/cgi-bin/${i}`]] } });
  for (let i = 0; i < 5; i++)
    rules.push({
      name: `raw-ip-exe-${i}`,
      when: { and: [{ is_ip: { var: 'url.domain' } }, { in_list: [{ file_extension: { var: 'url.path' } }, 'executables'] }] },
    });
  return rules;
}

// ------------------------------------------------------------------------------------------------

interface Result {
  name: string;
  best: number;
  alerts: number;
  windows: number;
}

async function run(name: string, make: () => Promise<ProcessorInstance>, batches: Rec[][], results: Map<string, Result>): Promise<void> {
  if (name.includes('1k keys')) batches = fewKeysData;
  const p = await make();
  let alerts = 0;
  let windows = 0;
  const t0 = process.hrtime.bigint();
  for (const b of batches) {
    const o = await p.process(b);
    alerts += o.alerts?.length ?? 0;
    windows += o.windows?.length ?? 0;
  }
  if (p.finish) {
    const o = await p.finish();
    alerts += o.alerts?.length ?? 0;
    windows += o.windows?.length ?? 0;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const r = results.get(name) ?? { name, best: Infinity, alerts, windows };
  r.best = Math.min(r.best, ms);
  results.set(name, r);
}

async function main(): Promise<void> {
  const batches = generate(N, KEYS);
  // The same volume over 1,000 clients: many records per window, as in a busy proxy's log.
  fewKeysData = generate(N, 1000);
  const total = batches.reduce((a, b) => a + b.length, 0);
  const lists = { executables: 'examples/lists/executable-extensions.txt' };
  const scenarios: [string, () => Promise<ProcessorInstance>][] = [
    ['pass-through (baseline)', async () => passThrough],
    ['naive window (Map per client+minute)', async () => naiveWindow()],
    ['window 5m/1m count+sum, 100k keys', () => make(windowPlugin, WINDOW_SLIDING)],
    ['window 5m/1m count+sum+max+distinct', () => make(windowPlugin, WINDOW_FULL)],
    ['window 5m tumbling count', () => make(windowPlugin, WINDOW_TUMBLING)],
    ['pass-through, 1k keys data (baseline)', async () => passThrough],
    ['window 5m/1m count+sum, 1k keys', () => make(windowPlugin, WINDOW_SLIDING)],
    ['rules, 1 rule', () => make(rulesPlugin, { lists, rules: fiftyRules().slice(45, 46) })],
    ['rules, 50 rules', () => make(rulesPlugin, { lists, rules: fiftyRules() })],
  ];
  const results = new Map<string, Result>();
  // Warm-up: one pass of each on a slice, so that the first measured round is not the JIT's.
  for (const [name, mk] of scenarios) await run(name, mk, batches.slice(0, 50), new Map());
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, mk] of scenarios) await run(name, mk, batches, results);
  }
  const base = results.get('pass-through (baseline)')!.best;
  console.log(
    `window-rules: ${total.toLocaleString('en')} records, ${KEYS.toLocaleString('en')} distinct clients, batches of ${BATCH}, best of ${ROUNDS} rounds (node ${process.version})`,
  );
  console.log('');
  console.log('| scenario | records/s | ns/record | ns/record over pass-through | alerts | windows |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of results.values()) {
    const rate = total / (r.best / 1000);
    const ns = (r.best * 1e6) / total;
    const over = ((r.best - base) * 1e6) / total;
    console.log(`| ${r.name} | ${Math.round(rate).toLocaleString('en')} | ${ns.toFixed(0)} | ${over.toFixed(0)} | ${r.alerts} | ${r.windows} |`);
  }
  const naive = results.get('naive window (Map per client+minute)')!.best;
  const win = results.get('window 5m/1m count+sum, 100k keys')!.best;
  console.log('');
  console.log(`window 5m/1m vs naive window: ${(naive / win).toFixed(2)}× the naive script's speed`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
