/**
 * The hdfs sink and source where no cluster is needed: records of one stream out of origin order are
 * refused (ORIGIN_ORDER) before any is taken, and an unreachable WebHDFS is a transient error (the
 * address is a closed local port, not a fake server).
 */
import { describe, it, expect } from 'vitest';
import hdfsSink from '../../../plugins/sink/hdfs/index.js';
import { createSink, configFor } from '../../helpers/harness.js';

const rec = (line: number, extra: object = {}) => ({ '@timestamp': '2026-12-05T10:00:00.000Z', origin: { file: '/logs/a.log', line }, ...extra });
const CLOSED = 'http://127.0.0.1:9';

describe('hdfs sink without a cluster', () => {
  it('refuses records of one stream that arrive out of origin order, naming the remedies, before any I/O', async () => {
    const sink = await createSink(hdfsSink, { url: CLOSED, path: '/d/dt=%Y-%m-%d/' });
    const err = await Promise.resolve(sink.write([rec(1), rec(2), rec(2), rec(5), rec(3)])).catch((e: any) => e);
    expect(err.code).toBe('ORIGIN_ORDER');
    expect(err.transient).toBe(false);
    expect(err.message).toMatch(/stream_fields/);
    // other streams, other directories and split streams are independent: these reach the
    // directory listing, which fails (transiently: no WebHDFS there) instead
    for (const batch of [
      [rec(5), rec(3, { origin: { file: '/logs/b.log', line: 3 } })],
      [rec(5), rec(3, { '@timestamp': '2026-12-06T10:00:00.000Z' })],
    ])
      expect((await Promise.resolve(sink.write(batch)).catch((e: any) => e)).transient).toBe(true);
    await sink.close();
    const split = await createSink(hdfsSink, { url: CLOSED, path: '/d/', stream_fields: ['error.node'] });
    expect(
      (await Promise.resolve(split.write([rec(5, { error: { node: 'parse' } }), rec(3, { error: { node: 'proxy' } })])).catch((e: any) => e)).transient,
    ).toBe(true);
    await split.close();
    const loose = await createSink(hdfsSink, { url: CLOSED, path: '/d/', idempotent: false });
    expect((await Promise.resolve(loose.write([rec(5), rec(3)])).catch((e: any) => e)).transient).toBe(true);
    await loose.close();
  });

  it('an unreachable WebHDFS makes write fail with a transient error before it takes anything; flush has nothing to do', async () => {
    const sink = await createSink(hdfsSink, { url: CLOSED, path: '/d/dt=%Y-%m-%d/', timeout_ms: 2000 });
    for (let i = 0; i < 2; i++) {
      const err = await Promise.resolve(sink.write([rec(1), rec(2)])).catch((e) => e);
      expect(err.transient).toBe(true);
      expect(err.message).toMatch(/ECONNREFUSED/);
    }
    await sink.flush();
    await sink.close();
  });

  it('config checks: bad templates, CSV without columns', () => {
    expect(() => configFor(hdfsSink, { path: '/d/%Q' })).toThrow(/unknown escape/);
    expect(() => configFor(hdfsSink, { path: '/d/', format: 'csv' })).toThrow(/at least one column/);
    expect(() => configFor(hdfsSink, { path: 'relative/x' })).toThrow();
    expect(configFor(hdfsSink, { path: '/d/', format: 'csv', csv: { columns: ['a'] } })).toBeTruthy();
  });
});

describe('hdfs source without a cluster', () => {
  it('retries an unreachable WebHDFS with backoff until the run is stopped, then returns without emitting', async () => {
    const { default: hdfsSource } = await import('../../../plugins/source/hdfs/index.js');
    const { createSource, testContext } = await import('../../helpers/harness.js');
    const ac = new AbortController();
    const ctx = testContext('src', { signal: ac.signal });
    const src = await createSource(hdfsSource, { url: CLOSED, paths: ['/data/x'], max_backoff: '300ms', timeout_ms: 1000 }, ctx);
    setTimeout(() => ac.abort(), 1500);
    let emitted = 0;
    await src.run(async () => {
      emitted++;
    });
    expect(emitted).toBe(0);
    expect(ctx.counters.retries).toBeGreaterThanOrEqual(3);
    expect(ctx.logs.some((l: any) => l.level === 'warn' && /retrying/.test(l.msg))).toBe(true);
  });
});
