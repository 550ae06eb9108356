import { describe, it, expect } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BoundedQueue } from '../../src/runtime/queue.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('BoundedQueue', () => {
  it('keeps no item already taken, even when it never runs empty (a producer ahead of its consumer)', async () => {
    const q = new BoundedQueue<{ payload: number[] }>(4);
    const taken: Array<WeakRef<object>> = [];
    await q.push({ payload: [0] });
    for (let i = 1; i < 200; i++) {
      await q.push({ payload: [i] });
      const [item] = (await q.pull(1))!;
      taken.push(new WeakRef(item!));
    }
    expect(q.length).toBe(1); // never emptied: the array was not reset
    await new Promise((r) => setImmediate(r));
    gc();
    const alive = taken.filter((w) => w.deref() !== undefined).length;
    expect(alive).toBeLessThanOrEqual(1); // the last one may still sit in a register
    const [last] = (await q.pull(1))!;
    expect(last!.payload).toEqual([199]);
  });
});
