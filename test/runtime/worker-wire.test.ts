/**
 * Records crossing between threads in the shaped form (src/runtime/wire.ts): what arrives is what
 * was sent — the same keys in the same order (keys holding `undefined` included), the same values
 * (-0, NaN, unicode, empty strings), origins, nested objects and arrays — as a structured clone
 * would have given. `structuredClone(wire, { transfer })` stands for postMessage between threads.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { decodeBatch, decodeShaped, encodeBatch, encodeForWorker, encodeShaped, transferOf, type ShapedWire, type WireBatch } from '../../src/runtime/wire.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { makeContext } from '../../src/runtime/context.js';
import { findSegments, segmentLabel } from '../../src/runtime/segments.js';
import { forwardedPorts } from '../../src/runtime/worker-pool.js';
import { loadSpec } from '../../src/spec/validate.js';
import type { ProcessorInstance, Rec } from '../../src/api.js';
import { ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** Every key path with the kind of what it holds, in enumeration order: equal lists mean equal layouts. */
function layout(v: unknown, at = ''): string[] {
  if (v === null || typeof v !== 'object') return [`${at}:${v === undefined ? 'undefined' : typeof v}`];
  const out: string[] = [`${at}:${Array.isArray(v) ? 'array' : 'object'}`];
  for (const k of Object.keys(v)) out.push(...layout((v as Rec)[k], `${at}/${k}`));
  return out;
}

/** Send a wire batch to "another thread": cloned, its memory transferred. */
function cross(w: WireBatch): WireBatch {
  return structuredClone(w, { transfer: transferOf(w) });
}

const leaf = fc.oneof(
  fc.string({ unit: 'binary' }), // any UTF-16 code units, lone surrogates included
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constant(''),
  fc.double(), // -0, NaN, infinities included
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('arr'), tie('obj')),
  arr: fc.array(tie('v'), { maxLength: 4 }),
  obj: fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('a', 'b', '0', '10', 'url', 'origin')), tie('v'), { maxKeys: 5 }),
})).v;
const record = fc.record(
  {
    message: fc.string(),
    origin: fc.oneof(
      fc.record({ file: fc.string(), line: fc.nat() }),
      fc.record({ topic: fc.string(), partition: fc.nat(), offset: fc.string() }),
      fc.constant(null),
    ),
    extra: value,
    nested: fc.dictionary(fc.constantFrom('x', 'y', 'z'), value, { maxKeys: 3 }),
  },
  { requiredKeys: ['message'] },
);

describe('records in the shaped wire form', () => {
  it('arrive identical to a structured clone: values, keys and their order (property)', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 30 }), (records) => {
        const sent = encodeBatch(records);
        expect(sent.kind).not.toBe('records'); // shaped (or the Kafka or line form), never cloned record by record
        const back = decodeBatch(cross(sent));
        const clone = structuredClone(records);
        expect(back).toStrictEqual(clone);
        expect(back.map((r) => layout(r))).toEqual(clone.map((r) => layout(r)));
        // the loop that stands in where code generation is refused builds the same records
        const again = cross(encodeShaped(records)!) as ShapedWire;
        expect(decodeShaped(again, false)).toStrictEqual(clone);
      }),
      { numRuns: 300 },
    );
  });

  it('numbers keep -0, NaN and the infinities; strings keep lone surrogates; repeated strings stay equal', () => {
    const recs = [
      { n: -0, a: Number.NaN, b: Number.POSITIVE_INFINITY, c: Number.NEGATIVE_INFINITY, s: '\uD800x', t: '' },
      { n: 0, a: 1.5, b: 2 ** 53 + 2, c: -1e-300, s: 'é😀', t: 'same' },
      { n: 1, a: 2, b: 3, c: 4, s: 'é😀', t: 'same' },
    ];
    const back = decodeBatch(cross(encodeBatch(recs)));
    expect(Object.is(back[0]!.n, -0)).toBe(true);
    expect(back).toStrictEqual(recs);
  });

  it('parsed proxy records arrive with their layout, origins and every value (all sample formats)', async () => {
    const def = builtinRegistry().get('transform', 'proxy-log')!.def;
    const logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} };
    const ctx = makeContext({
      pipeline: 'p',
      node: 'parse',
      logger,
      metrics: { add() {}, set() {}, observe() {} },
      signal: new AbortController().signal,
      stateDir: tempDir('wire-state'),
      once: true,
    });
    const inst = (await def.create(Object.freeze({ format: 'auto', keep_original: true }), ctx)) as ProcessorInstance;
    let total = 0;
    for (const name of ['squid-access.log', 'combined-access.log', 'proxysg-elff.log', 'zscaler-nss.jsonl']) {
      const file = resolve(ROOT, 'examples/logs', name);
      const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
      const out = (await inst.process(lines.map((message, i) => ({ message, origin: { file, line: i + 1 } })))) as Record<string, Rec[]>;
      for (const port of ['out', 'invalid']) {
        const recs = out[port] ?? [];
        if (recs.length === 0) continue;
        total += recs.length;
        const sent = encodeBatch(recs);
        expect(sent.kind).toBe('shaped');
        const back = decodeBatch(cross(sent));
        expect(back).toStrictEqual(structuredClone(recs));
        expect(back.map((r) => layout(r))).toEqual(recs.map((r) => layout(r))); // keys holding undefined kept, in order
        expect(JSON.stringify(back)).toBe(JSON.stringify(recs));
      }
    }
    expect(total).toBeGreaterThan(20);
  });

  it('what the form cannot carry is structured-cloned as before', () => {
    const proto = JSON.parse('{"__proto__": {"x": 1}, "y": 2}'); // an own "__proto__" key
    const cyclic: Rec = { a: 1 };
    cyclic.self = cyclic;
    class Thing {
      x = 1;
    }
    for (const odd of [[{ ok: 1 }, proto], [cyclic], [new Thing()]]) {
      const w = encodeBatch(odd);
      expect(w.kind).toBe('records');
      expect(decodeBatch(structuredClone(w))).toStrictEqual(structuredClone(odd));
    }
    // Dates, Maps and typed arrays inside a record travel beside the shaped values, cloned
    const rich = [{ when: new Date(0), m: new Map([[1, 'a']]), bytes: new Uint8Array([1, 2]), list: [1, undefined, { deep: null }] }];
    const w = encodeBatch(rich);
    expect(w.kind).toBe('shaped');
    const back = decodeBatch(cross(w));
    expect(back).toStrictEqual(structuredClone(rich));
    expect(back[0]!.when).toBeInstanceOf(Date);
  });

  it('records that came from a worker go on to another worker as they came, once, and only if unchanged', () => {
    const recs = Array.from({ length: 50 }, (_, i) => ({ a: `v${i % 3}`, n: i, o: { file: 'f', line: i } }));
    const arrived = cross(encodeBatch(recs));
    const built = decodeBatch(arrived, true);
    // fan-out hands each consumer its own array of the same records
    const first = encodeForWorker(built.slice());
    expect(first.wire).toBe(arrived);
    expect(first.transfer.length).toBe(4);
    expect(decodeBatch(cross(first.wire))).toStrictEqual(recs);
    // a second consumer (the wire's memory went with the first) gets a fresh encoding
    const second = encodeForWorker(built.slice());
    expect(second.wire === arrived).toBe(false);
    expect(decodeBatch(cross(second.wire))).toStrictEqual(recs);
    // an array with one record replaced is encoded afresh, not taken for the one that arrived
    const again = decodeBatch(cross(encodeBatch(recs)), true);
    const changed = again.slice();
    changed[7] = { a: 'other', n: 7, o: { file: 'f', line: 7 } };
    const sent = encodeForWorker(changed);
    expect(decodeBatch(cross(sent.wire))[7]).toStrictEqual(changed[7]);
  });
});

describe('which outputs keep their wire to go on to other workers', () => {
  it("parsed records read by another segment's head are kept; the default pipeline's and an archive's are not", async () => {
    const ports = async (file: string) => {
      const { spec } = await loadSpec(file, { registry: builtinRegistry() });
      return findSegments(spec!, 2).map((seg) => [segmentLabel(seg), [...forwardedPorts(spec!, seg, 2)]]);
    };
    // the rules run in the parse's copies (one segment): nothing goes on to other workers
    expect(await ports(resolve(ROOT, 'pipelines/proxy-ioc-sweep.yaml'))).toEqual([['parse→{sweep, detect}', []]]);
    expect(await ports(resolve(ROOT, 'pipelines/proxy-archive.hdfs.yaml'))).toEqual([['parse', []]]);
    // rules reading two ports cannot join the parse's segment: they head their own, fed from it
    const dir = tempDir('fwd-');
    const file = resolve(dir, 'two.yaml');
    writeFileSync(
      file,
      [
        'version: 1',
        'name: two',
        'nodes:',
        '  src: { source: file, with: { paths: [x.log] } }',
        '  parse: { transform: proxy-log, from: src, with: { format: squid } }',
        '  detect:',
        '    analyse: rules',
        '    from: [parse.out, parse.invalid]',
        '    with: { rules: [{ name: r, when: { "==": [{ var: url.domain }, x] } }] }',
        '  alerts: { sink: file, from: detect.alerts, with: { path: out.jsonl } }',
        '',
      ].join('\n'),
    );
    expect(await ports(file)).toEqual([
      ['parse', ['parse\u0000out', 'parse\u0000invalid']],
      ['detect', []],
    ]);
  });
});
