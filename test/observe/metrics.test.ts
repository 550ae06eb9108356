/**
 * `--metrics`: a test scrapes /metrics during a run made slow on purpose (a sink that waits per
 * batch), sees the counters move, and at the end finds them equal to the run summary.
 */
import { describe, it, expect } from 'vitest';
import { compileSlow, parseProm, sleep, startObservedRun } from '../helpers/observed-run.js';

describe('metrics during a run', () => {
  it('counters move while it runs and equal the run summary at the end; health, readiness, rejects, latencies', async () => {
    const { spec, dir } = await compileSlow({ copies: 20, msPerBatch: 15 });
    const { obs, base, run } = await startObservedRun(spec, dir);
    try {
      const seen: number[] = [];
      let ready = false;
      let finished = false;
      run.finally(() => (finished = true)).catch(() => undefined);
      while (!finished) {
        const text = await (await fetch(`${base}/metrics`)).text();
        const m = parseProm(text);
        const v = m.get('sluice_records_out_total{node="logs",port="out"}');
        if (v !== undefined && !finished) seen.push(v);
        if (!ready && !finished) ready = (await fetch(`${base}/readyz`)).status === 200;
        await sleep(150);
      }
      const summary = await run;
      // Moving: several distinct, increasing values before the end.
      const distinct = [...new Set(seen)];
      expect(distinct.length).toBeGreaterThanOrEqual(3);
      expect(distinct).toEqual([...distinct].sort((a, b) => a - b));
      expect(ready).toBe(true);

      const res = await fetch(`${base}/metrics`);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const m = parseProm(await res.text());
      // Equal to the summary, node by node and port by port.
      for (const n of summary.nodes) {
        if (n.kind !== 'source') expect(m.get(`sluice_records_in_total{node="${n.node}"}`), n.node).toBe(n.in);
        for (const [port, count] of Object.entries(n.out))
          expect(m.get(`sluice_records_out_total{node="${n.node}",port="${port}"}`), `${n.node}.${port}`).toBe(count);
        for (const [name, value] of Object.entries(n.metrics))
          expect(m.get(`sluice_node_metric{name="${name}",node="${n.node}"}`), `${n.node} ${name}`).toBe(value);
      }
      expect(summary.invalid).toBeGreaterThan(0);
      expect(summary.alerts).toBeGreaterThan(0);
      // Rejects by reason add up to the invalid records, per node.
      for (const n of summary.nodes) {
        const byReason = [...m].filter(([k]) => k.startsWith('sluice_rejects_total{') && k.includes(`node="${n.node}"`)).reduce((a, [, v]) => a + v, 0);
        expect(byReason, n.node).toBe(n.out.invalid ?? 0);
      }
      expect([...m.keys()].some((k) => k.startsWith('sluice_rejects_total{node="parse",reason="PARSE_'))).toBe(true);
      // One detection latency per alert; batch and flush histograms filled.
      expect(m.get('sluice_detection_latency_seconds_count{node="sweep"}')).toBe(summary.alerts);
      expect(m.get('sluice_alert_event_lag_seconds_count{node="sweep"}')).toBe(summary.alerts);
      expect(m.get('sluice_batch_duration_seconds_count{node="parse",stage="process"}')).toBeGreaterThan(10);
      expect(m.get('sluice_batch_duration_seconds_count{node="records",stage="write"}')).toBeGreaterThan(10);
      expect(m.get('sluice_sink_flush_duration_seconds_count{node="records"}')).toBeGreaterThan(0);
      // The slow sink spends ≥ 15 ms per batch.
      expect(
        m.get('sluice_batch_duration_seconds_sum{node="records",stage="write"}')! / m.get('sluice_batch_duration_seconds_count{node="records",stage="write"}')!,
      ).toBeGreaterThan(0.012);
      // Feeds: sizes and the outcome of the last load, per feed.
      expect(m.get('sluice_feed_indicators{feed="bad-ips",node="sweep"}')).toBeGreaterThan(0);
      expect(m.get('sluice_feed_last_refresh_success{feed="feodo",node="sweep"}')).toBe(1);
      expect(m.get('sluice_feed_last_refresh_timestamp_seconds{feed="feodo",node="sweep"}')).toBeGreaterThan(Date.now() / 1000 - 600);
      // Queues: gauges per edge and capacity.
      expect(m.get('sluice_queue_capacity_batches{node="records"}')).toBe(4);
      expect(m.has('sluice_queue_batches{from="sweep.out",node="records"}')).toBe(true);
      expect(m.get('sluice_run_phase{phase="done"}')).toBe(1);
      expect(m.get('sluice_ready{}')).toBe(0);
      expect(m.has('process_cpu_seconds_total{}')).toBe(true);
      // Healthy after a good run; not ready (nothing running).
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
    } finally {
      await run.catch(() => undefined);
      await obs.close();
    }
  });

  it('a failed run makes /healthz answer 503 with the error', async () => {
    const { spec, dir } = await compileSlow({ copies: 1, msPerBatch: 0 });
    // A feed that cannot be read: the run fails while preparing.
    const sweep = spec.nodes.get('sweep')!;
    (sweep as { config: unknown }).config = { ...(sweep.config as object), feeds: [{ name: 'gone', path: `${dir}/missing.txt`, format: 'list' }] };
    const { obs, base, run } = await startObservedRun(spec, dir);
    try {
      await expect(run).rejects.toThrow();
      const r = await fetch(`${base}/healthz`);
      expect(r.status).toBe(503);
      const body = (await r.json()) as { status: string; error?: string };
      expect(body.status).toBe('failed');
      expect(body.error).toMatch(/missing\.txt|gone/);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
    } finally {
      await obs.close();
    }
  });
});

describe('metrics with worker threads', () => {
  it('counts from parallel segments equal the summary; their batch times come back; a port inside the segment cannot be tapped', async () => {
    const { spec, dir } = await compileSlow({ copies: 10, msPerBatch: 5, workers: 2 });
    const { obs, base, run } = await startObservedRun(spec, dir);
    try {
      const refused = await fetch(`${base}/tap?node=parse&port=out`);
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: string }).error).toMatch(/inside worker threads/);
      const summary = await run;
      const m = parseProm(await (await fetch(`${base}/metrics`)).text());
      for (const n of summary.nodes)
        for (const [port, count] of Object.entries(n.out))
          expect(m.get(`sluice_records_out_total{node="${n.node}",port="${port}"}`), `${n.node}.${port}`).toBe(count);
      expect(m.get('sluice_batch_duration_seconds_count{node="parse",stage="process"}')).toBeGreaterThan(0);
      expect(m.get('sluice_batch_duration_seconds_count{node="sweep",stage="process"}')).toBeGreaterThan(0);
      expect(m.get('sluice_detection_latency_seconds_count{node="sweep"}')).toBe(summary.alerts);
      expect(m.get('sluice_rejects_total{node="parse",reason="PARSE_TIMESTAMP"}')).toBeGreaterThan(0);
    } finally {
      await run.catch(() => undefined);
      await obs.close();
    }
  });
});
