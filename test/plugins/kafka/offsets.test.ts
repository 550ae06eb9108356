/**
 * The kafka source's offset tracking on its own (no broker, no kafkajs: the tracker is plain
 * bookkeeping). A commit never passes a message that is not durable.
 */
import { describe, it, expect } from 'vitest';
import { OffsetTracker, partitionKey } from '../../../plugins/source/kafka/offsets.js';

const offsets = (t: OffsetTracker) => Object.fromEntries(t.take().map((p) => [`${p.topic}/${p.partition}`, p.offset]));

describe('kafka offset tracker, with fake batches (plain bookkeeping: no broker, no kafkajs)', () => {
  it('commits the end of a durable batch', () => {
    const t = new OffsetTracker();
    const a = t.register('web', 0, 0n, 99n);
    expect(offsets(t)).toEqual({});
    t.durable(a);
    expect(offsets(t)).toEqual({ 'web/0': '100' });
    expect(offsets(t)).toEqual({}); // nothing new
  });

  it('holds the commit at the oldest outstanding batch when later ones complete first (out of order)', () => {
    const t = new OffsetTracker();
    const a = t.register('web', 0, 0n, 99n);
    const b = t.register('web', 0, 100n, 199n);
    const c = t.register('web', 0, 200n, 299n);
    t.durable(c);
    t.durable(b);
    expect(offsets(t)).toEqual({});
    t.durable(a);
    expect(offsets(t)).toEqual({ 'web/0': '300' });
  });

  it('advances through the contiguous prefix only', () => {
    const t = new OffsetTracker();
    const a = t.register('web', 0, 0n, 9n);
    const b = t.register('web', 0, 10n, 19n);
    const c = t.register('web', 0, 20n, 29n);
    t.durable(a);
    t.durable(c);
    expect(offsets(t)).toEqual({ 'web/0': '10' });
    t.durable(b);
    expect(offsets(t)).toEqual({ 'web/0': '30' });
  });

  it('keeps partitions apart', () => {
    const t = new OffsetTracker();
    const p0 = t.register('web', 0, 0n, 9n);
    const p1 = t.register('web', 1, 50n, 59n);
    const q0 = t.register('dns', 0, 0n, 4n);
    t.durable(p1);
    t.durable(q0);
    expect(offsets(t)).toEqual({ 'web/1': '60', 'dns/0': '5' });
    t.durable(p0);
    expect(offsets(t)).toEqual({ 'web/0': '10' });
  });

  it('a batch read twice (re-read after a rebalance) holds the commit until its second reading is durable too', () => {
    const t = new OffsetTracker();
    const a = t.register('web', 0, 0n, 99n);
    const b = t.register('web', 0, 100n, 199n);
    t.durable(a);
    expect(offsets(t)).toEqual({ 'web/0': '100' });
    // the group re-reads from 100 while b is still in the pipeline
    const b2 = t.register('web', 0, 100n, 199n);
    t.durable(b);
    expect(offsets(t)).toEqual({}); // b2 outstanding: still 100
    t.durable(b2);
    expect(offsets(t)).toEqual({ 'web/0': '200' });
  });

  it('a revoked partition commits nothing for batches that become durable after the revoke', () => {
    const t = new OffsetTracker();
    const a = t.register('web', 0, 0n, 9n);
    const b = t.register('web', 1, 0n, 9n);
    const dropped = t.assigned(new Set([partitionKey('web', 1)]));
    expect(dropped).toEqual(['web/0']);
    t.durable(a);
    t.durable(b);
    expect(offsets(t)).toEqual({ 'web/1': '10' });
    // assigned again later: starts afresh
    const a2 = t.register('web', 0, 0n, 9n);
    t.durable(a2);
    expect(offsets(t)).toEqual({ 'web/0': '10' });
  });

  it('a kept partition commits its durable prefix again after a rejoin (a commit may have been dropped)', () => {
    const t = new OffsetTracker();
    t.durable(t.register('web', 0, 0n, 9n));
    expect(offsets(t)).toEqual({ 'web/0': '10' });
    t.assigned(new Set([partitionKey('web', 0)]));
    expect(offsets(t)).toEqual({ 'web/0': '10' });
  });

  it('a failed commit is offered again', () => {
    const t = new OffsetTracker();
    t.durable(t.register('web', 0, 0n, 9n));
    const pts = t.take();
    expect(pts).toEqual([{ topic: 'web', partition: 0, offset: '10' }]);
    t.untake(pts);
    expect(t.take()).toEqual(pts);
  });

  it('a batch never emitted (dropped at stop) holds its partition back for good', () => {
    const t = new OffsetTracker();
    t.register('web', 0, 0n, 9n); // handed over, then dropped at stop
    t.durable(t.register('web', 0, 10n, 19n));
    expect(offsets(t)).toEqual({});
    expect(t.outstanding).toBe(1);
  });

  it('offsets beyond 2^53 stay exact', () => {
    const t = new OffsetTracker();
    const big = 2n ** 60n;
    t.durable(t.register('web', 0, big, big + 1n));
    expect(offsets(t)).toEqual({ 'web/0': (big + 2n).toString() });
  });

  it('random completion orders never commit past an outstanding batch (property)', () => {
    for (let round = 0; round < 200; round++) {
      const t = new OffsetTracker();
      const refs = [];
      let off = 0n;
      const n = 1 + Math.floor(Math.random() * 20);
      for (let i = 0; i < n; i++) {
        const size = BigInt(1 + Math.floor(Math.random() * 5));
        refs.push(t.register('web', 0, off, off + size - 1n));
        off += size;
      }
      const order = refs.map((_, i) => i).sort(() => Math.random() - 0.5);
      let last = -1n;
      for (const i of order) {
        t.durable(refs[i]!);
        for (const p of t.take()) {
          const c = BigInt(p.offset);
          expect(c).toBeGreaterThan(last);
          last = c;
        }
        const firstOpen = refs.find((r) => !r.done);
        if (firstOpen) expect(last).toBeLessThanOrEqual(firstOpen.first);
      }
      expect(last).toBe(off);
    }
  });
});
