/**
 * The Kafka bench's agreement check between sluice and Spark Structured Streaming
 * (bench/kafka/spark.ts): alerts are matched by the message they came from (partition, offset —
 * a number or kafkajs's string) and by the indicators they name in sluice's canonical form; both
 * sides are multisets, so a duplicate or a missing alert is a difference.
 */
import { describe, expect, it } from 'vitest';
import { compare, keysFrom } from '../../bench/kafka/spark.js';

const alert = (partition: number, offset: string | number, ...indicators: [string, string][]) => ({
  origin: { topic: 't', partition, offset },
  threat: { enrichments: indicators.map(([type, value]) => ({ indicator: { type, value }, matched: { field: 'url.domain' } })) },
});
const reject = (partition: number, offset: string | number) => ({ origin: { topic: 't', partition, offset }, error: { code: 'X' } });

describe('Kafka bench agreement (sluice vs Spark streaming)', () => {
  const sluice = keysFrom(
    [alert(0, '17', ['ipv4-addr', '10.1.2.3']), alert(3, '5', ['domain-name', 'evil.top'], ['url', 'http://evil.top/gate.php'])],
    [reject(1, '2')],
  );

  it('agrees when the same messages raised the same indicators, whatever their text form and order', () => {
    const spark = keysFrom(
      [alert(3, 5, ['url', 'HTTP://Evil.Top:80/gate.php'], ['domain-name', 'EVIL.top.']), alert(0, 17, ['ipv4-addr', '10.1.2.3/32'])],
      [reject(1, 2)],
    );
    const a = compare(sluice, spark);
    expect(a).toMatchObject({ ok: true, missingAlerts: 0, extraAlerts: 0, missingRejects: 0, extraRejects: 0 });
  });

  it('finds an alert raised for another message, a missing reject and a duplicate', () => {
    const spark = keysFrom([alert(0, '18', ['ipv4-addr', '10.1.2.3']), alert(3, '5', ['domain-name', 'evil.top'], ['url', 'http://evil.top/gate.php'])], []);
    expect(compare(sluice, spark)).toMatchObject({ ok: false, missingAlerts: 1, extraAlerts: 1, missingRejects: 1, extraRejects: 0 });
    const twice = keysFrom(
      [
        alert(0, '17', ['ipv4-addr', '10.1.2.3']),
        alert(0, '17', ['ipv4-addr', '10.1.2.3']),
        alert(3, '5', ['domain-name', 'evil.top'], ['url', 'http://evil.top/gate.php']),
      ],
      [reject(1, '2')],
    );
    expect(compare(sluice, twice)).toMatchObject({ ok: false, missingAlerts: 0, extraAlerts: 1 });
  });

  it('finds an alert that names other indicators for the same message', () => {
    const spark = keysFrom([alert(0, '17', ['ipv4-addr', '10.1.2.3']), alert(3, '5', ['domain-name', 'evil.top'])], [reject(1, '2')]);
    const a = compare(sluice, spark);
    expect(a.ok).toBe(false);
    expect(a.examples.join('\n')).toContain('3:5');
  });
});
