/**
 * The plugin-facing metrics path (API 1.1): labelled counters and gauges and observations from a
 * source in the main thread and from a transform in worker threads reach /metrics; unlabelled ones
 * stay in the summary; without an observer, labelled calls are dropped at no cost. Also: a
 * scheduled pipeline's counters carry on across runs.
 */
import { describe, it, expect } from 'vitest';
import { join, resolve } from 'node:path';
import { loadSpec } from '../../src/spec/validate.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { runPipeline } from '../../src/runtime/run.js';
import { observe } from '../../src/observe/index.js';
import { layoutGraph } from '../../src/graph/layout.js';
import { testContext } from '../helpers/harness.js';
import { tempDir } from '../helpers/tmp.js';
import { compileSlow, parseProm, ROOT } from '../helpers/observed-run.js';

async function compile(workers: number) {
  const dir = tempDir('plugin-metrics-');
  const mod = resolve(ROOT, 'test/fixtures/plugins/metrics.mjs');
  const text = `version: 1
name: plugin-metrics
plugins: [${JSON.stringify(mod)}]
settings: { workers: ${workers} }
nodes:
  src: { source: lagging-source, with: { batches: 3 } }
  pass: { transform: counting-pass, from: src }
  pass2: { transform: counting-pass, from: pass }
  sink: { sink: file, from: pass2, with: { path: "${dir}/out.jsonl" } }
`;
  const { spec, issues } = await loadSpec(join(dir, 'spec.yaml'), { text, registry: builtinRegistry() });
  expect(issues).toEqual([]);
  return { spec: spec!, dir };
}

describe('plugin metrics', () => {
  for (const workers of [1, 2]) {
    it(`labelled metrics and observations reach /metrics (workers: ${workers})`, async () => {
      const { spec, dir } = await compile(workers);
      const obs = await observe(spec, { metrics: '127.0.0.1:0' });
      try {
        const summary = await runPipeline(spec, { stateDir: dir, logger: testContext().logger, observer: obs.monitor });
        const m = parseProm(await obs.metrics!.text());
        expect(m.get('sluice_kafka_consumer_lag{node="src",partition="0",topic="proxy"}')).toBe(0);
        expect(m.get('sluice_kafka_consumer_lag{node="src",partition="1",topic="proxy"}')).toBe(1);
        expect(m.get('sluice_node_observation_count{labels="topic=proxy",name="fetch_seconds",node="src"}')).toBe(3);
        expect(m.get('sluice_node_labelled_metric{labels="parity=even",name="seen",node="pass"}')).toBe(15);
        expect(m.get('sluice_node_labelled_metric{labels="parity=odd",name="seen",node="pass2"}')).toBe(15);
        expect(m.get('sluice_plugin_flush_duration_seconds_count{node="pass"}')).toBe(3);
        // Unlabelled: the summary's, and sluice_node_metric.
        const pass = summary.nodes.find((n) => n.node === 'pass')!;
        expect(pass.metrics).toEqual({ batches: 3 });
        expect(m.get('sluice_node_metric{name="batches",node="pass"}')).toBe(3);
      } finally {
        await obs.close();
      }
    });
  }

  it('without an observer, labelled metrics and observations are dropped; the summary is unchanged', async () => {
    const { spec, dir } = await compile(1);
    const summary = await runPipeline(spec, { stateDir: dir, logger: testContext().logger });
    expect(summary.nodes.find((n) => n.node === 'src')!.metrics).toEqual({});
    expect(summary.nodes.find((n) => n.node === 'pass')!.metrics).toEqual({ batches: 3 });
  });

  it('counters carry on across the runs of a schedule (one monitor, several runs)', async () => {
    const { spec, dir } = await compile(1);
    const obs = await observe(spec, { metrics: '127.0.0.1:0' });
    try {
      const a = await runPipeline(spec, { stateDir: dir, logger: testContext().logger, observer: obs.monitor });
      const b = await runPipeline(spec, { stateDir: dir, logger: testContext().logger, observer: obs.monitor });
      const m = parseProm(await obs.metrics!.text());
      const sinkIn = (s: typeof a) => s.nodes.find((n) => n.node === 'sink')!.in;
      expect(m.get('sluice_records_in_total{node="sink"}')).toBe(sinkIn(a) + sinkIn(b));
      expect(m.get('sluice_runs_total{}')).toBe(2);
    } finally {
      await obs.close();
    }
  });
});

describe('layout', () => {
  it('puts each node after its inputs, sinks in the last column, and draws every edge', async () => {
    const { spec } = await compileSlow({ copies: 1, msPerBatch: 0 });
    const l = layoutGraph(spec);
    const at = new Map(l.nodes.map((n) => [n.name, n]));
    for (const n of spec.order) for (const i of spec.nodes.get(n)!.inputs) expect(at.get(i.node)!.x).toBeLessThan(at.get(n)!.x);
    const sinks = l.nodes.filter((n) => n.kind === 'sink');
    expect(new Set(sinks.map((n) => n.x)).size).toBe(1);
    expect(Math.max(...l.nodes.map((n) => n.x + n.w))).toBeLessThanOrEqual(l.width);
    expect(l.edges).toHaveLength([...spec.nodes.values()].reduce((a, n) => a + n.inputs.length, 0));
    // No two nodes overlap.
    for (const a of l.nodes)
      for (const b of l.nodes) if (a !== b) expect(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y).toBe(true);
  });
});

describe('addresses', () => {
  it('HOST:PORT, :PORT, PORT, [v6]:PORT; anything else is refused', async () => {
    const { parseAddress } = await import('../../src/observe/server.js');
    expect(parseAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseAddress('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
    expect(parseAddress(':9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseAddress('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseAddress('localhost:8080')).toEqual({ host: 'localhost', port: 8080 });
    expect(parseAddress('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    for (const bad of ['', 'host', 'a:b', '1.2.3.4:', '1:2:3', '99999', '[::1]']) expect(() => parseAddress(bad), bad).toThrow(/HOST:PORT/);
  });
});
