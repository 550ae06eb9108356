/**
 * The real broker works with the project's Kafka client (kafkajs): admin, idempotent acks=-1
 * producer, consumer group with eachBatch + manual commits, a second member joining (rebalance).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Kafka, logLevel, type Consumer, type EachBatchPayload } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { describeWithServices, useServices, restartService, servicePid, stopKafka, kafkaUp, KAFKA_BROKERS } from './services.js';
import { again } from './kafka-helpers.js';

const waitUntil = async (what: string, cond: () => boolean, ms = 30_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describeWithServices(['kafka'], 'kafka (real broker) with kafkajs', () => {
  const id = randomUUID().slice(0, 8);
  const topic = `sluice-smoke-${id}`;
  const groupId = `sluice-smoke-group-${id}`;
  let kafka: Kafka;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    await useServices(['kafka']);
    kafka = new Kafka({ clientId: 'sluice-smoke', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING, retry: { retries: 8 } });
  });

  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.disconnect().catch(() => {})));
    const admin = kafka?.admin();
    if (admin) {
      await admin.connect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.deleteGroups([groupId]).catch(() => {});
      await admin.disconnect();
    }
  });

  it('admin, idempotent producer (acks=-1), eachBatch + manual commit, rebalance on a second member', async () => {
    const admin = kafka.admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true })).toBe(true);
    expect(await admin.listTopics()).toContain(topic);
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]!.partitions).toHaveLength(2);

    const waitCommitted = async (n: number) => {
      const t0 = Date.now();
      for (;;) {
        const c = await admin.fetchOffsets({ groupId, topics: [topic] });
        const sum = c[0]!.partitions.reduce((k, p) => k + Math.max(0, Number(p.offset)), 0);
        if (sum === n) return;
        if (Date.now() - t0 > 15_000) throw new Error(`committed offsets add up to ${sum}, expected ${n}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    const produce = async (from: number, n: number) => {
      const messages = Array.from({ length: n }, (_, i) => ({ key: `k${(from + i) % 7}`, value: `line ${from + i}` }));
      const res = await producer.send({ topic, acks: -1, messages });
      expect(res.every((r) => r.errorCode === 0)).toBe(true);
    };
    await produce(0, 200);

    // member A: eachBatch, manual resolve + commit
    const seen = new Map<string, number>(); // value -> times seen
    const assignments: Record<string, number[]> = {};
    const member = (name: string) => {
      const c = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000, rebalanceTimeout: 20_000, retry: { retries: 10 } });
      consumers.push(c);
      c.on(c.events.GROUP_JOIN, (e) => {
        assignments[name] = (e.payload.memberAssignment[topic] ?? []).slice().sort();
      });
      return c;
    };
    // manual commit: after the batch is processed, its partition's next offset is committed
    const eachBatchOf =
      (c: Consumer) =>
      async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
        let last: string | undefined;
        for (const m of batch.messages) {
          if (!isRunning() || isStale()) break;
          const v = m.value!.toString();
          seen.set(v, (seen.get(v) ?? 0) + 1);
          resolveOffset(m.offset);
          last = m.offset;
        }
        if (last !== undefined) {
          await c.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
        }
        await heartbeat();
      };

    const a = member('a');
    await a.connect();
    await a.subscribe({ topic, fromBeginning: true });
    await a.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: eachBatchOf(a) });
    await waitUntil('member a to read the first 200', () => seen.size === 200);
    expect(assignments.a).toEqual([0, 1]);

    // what a has read is committed: the group's offsets reach the topic's end offsets
    const ends = await admin.fetchTopicOffsets(topic);
    expect(ends.reduce((n, p) => n + Number(p.high), 0)).toBe(200);
    await waitCommitted(200);

    // member B joins: the group rebalances and splits the two partitions
    const b = member('b');
    await b.connect();
    await b.subscribe({ topic, fromBeginning: true });
    await b.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: eachBatchOf(b) });
    await waitUntil('the rebalance to split the partitions', () => assignments.a?.length === 1 && assignments.b?.length === 1);
    expect([...assignments.a!, ...assignments.b!].sort()).toEqual([0, 1]);
    const group = await admin.describeGroups([groupId]);
    expect(group.groups[0]!.members).toHaveLength(2);
    expect(group.groups[0]!.state).toBe('Stable');

    await produce(200, 200);
    await waitUntil('both members to read the next 200', () => seen.size === 400);
    // committed offsets: nothing re-read after the rebalance (a committed before b joined)
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    await waitCommitted(400);
    await producer.disconnect();
    await admin.disconnect();
  });

  it('keeps topics, messages and committed offsets across stopKafka() / startKafka()', async (ctx) => {
    if (!servicePid('kafka')) ctx.skip(); // a broker these scripts did not start: not ours to stop
    await Promise.all(consumers.splice(0).map((c) => c.disconnect()));
    expect(await stopKafka()).toBe(true);
    expect(await kafkaUp()).toBe(false);
    await restartService('kafka');
    expect(await kafkaUp()).toBe(true);
    const admin = kafka.admin();
    await admin.connect();
    expect(await admin.listTopics()).toContain(topic);
    // the partition's leader may not be elected yet right after the restart ("not the leader": retriable)
    const ends = await again('end offsets after the restart', () => admin.fetchTopicOffsets(topic));
    expect(ends.reduce((n, p) => n + Number(p.high), 0)).toBe(400);
    // Right after a restart the group coordinator is still loading the offsets topic and says so
    // (a retriable error kafkajs's admin does not retry here): ask again until it has loaded.
    let committed: Awaited<ReturnType<typeof admin.fetchOffsets>> | undefined;
    for (let i = 0; committed === undefined; i++) {
      try {
        committed = await admin.fetchOffsets({ groupId, topics: [topic] });
      } catch (err) {
        if (!(err as { retriable?: boolean }).retriable || i >= 60) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    expect(committed[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0)).toBe(400);
    await admin.disconnect();
  });
});
