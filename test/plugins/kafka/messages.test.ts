/**
 * How the kafka source turns messages into records (kafkajs message objects built by hand: no
 * broker needed for this part; the integration suite sends the same shapes through a real one).
 */
import { describe, it, expect } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { messageToRecord } from '../../../plugins/source/kafka/index.js';

const msg = (value: Buffer | null, extra: Partial<KafkaMessage> = {}): KafkaMessage =>
  ({ key: null, value, timestamp: '1764979200000', attributes: 0, offset: '42', headers: {}, ...extra }) as KafkaMessage;
const conv = (m: KafkaMessage, max = 1024, keep = 64) => messageToRecord('src', 'web', 3, m, max, keep);

describe('kafka source: messages to records, with fake kafkajs messages', () => {
  it('a text line becomes { message, origin, timestamp }, its line end removed', () => {
    const { rec, invalid } = conv(msg(Buffer.from('GET http://a.example/ 200\r\n')));
    expect(invalid).toBe(false);
    expect(rec).toEqual({ message: 'GET http://a.example/ 200', origin: { topic: 'web', partition: 3, offset: '42' }, timestamp: '2025-12-06T00:00:00.000Z' });
  });

  it('keeps the key and headers as text', () => {
    const { rec } = conv(msg(Buffer.from('x'), { key: Buffer.from('10.0.0.1'), headers: { a: Buffer.from('1'), b: [Buffer.from('2'), Buffer.from('3')] } }));
    expect(rec.key).toBe('10.0.0.1');
    expect(rec.headers).toEqual({ a: '1', b: ['2', '3'] });
  });

  it('UTF-8 text passes', () => {
    const { rec, invalid } = conv(msg(Buffer.from('user=José host=bücher.example')));
    expect(invalid).toBe(false);
    expect(rec.message).toBe('user=José host=bücher.example');
  });

  it.each([
    ['null value (tombstone)', null, 'EMPTY_MESSAGE'],
    ['empty value', Buffer.alloc(0), 'EMPTY_MESSAGE'],
    ['only a line end', Buffer.from('\r\n'), 'EMPTY_MESSAGE'],
    ['invalid UTF-8', Buffer.from([0x47, 0x45, 0x54, 0x20, 0xff, 0xfe, 0x41]), 'NOT_UTF8'],
    ['binary with NUL bytes', Buffer.from([0x00, 0x01, 0x02, 0x41]), 'BINARY_MESSAGE'],
    ['over max_message_bytes', Buffer.alloc(2048, 0x61), 'MESSAGE_TOO_LARGE'],
  ])('%s goes to invalid with topic/partition/offset', (_label, value, code) => {
    const { rec, invalid } = conv(msg(value as Buffer | null));
    expect(invalid).toBe(true);
    expect(rec.error).toMatchObject({ code, node: 'src' });
    expect(rec.origin).toEqual({ topic: 'web', partition: 3, offset: '42' });
  });

  it('keeps the exact bytes of an invalid UTF-8 message in base64, up to invalid_keep_bytes', () => {
    const bytes = Buffer.from([0x41, 0xc3, 0x28, 0x42]);
    const { rec } = conv(msg(bytes));
    expect(Buffer.from(rec.event.original_base64, 'base64')).toEqual(bytes);
    const long = Buffer.concat([Buffer.alloc(100, 0x41), Buffer.from([0xff])]);
    const r2 = conv(msg(long)).rec;
    expect(Buffer.from(r2.event.original_base64, 'base64').length).toBe(64);
    expect(r2.error.message).toMatch(/first 64 of 101 bytes/);
  });

  it('an oversized message keeps only a prefix and says where the whole message is', () => {
    const { rec } = conv(msg(Buffer.alloc(4096, 0x62)));
    expect(rec.event.original).toBe('b'.repeat(64));
    expect(rec.error.message).toMatch(/4096 bytes.*web\/3@42/);
  });
});

describe('isoTime (the cached message timestamp)', () => {
  it('is new Date(ms).toISOString() for any millisecond, in any order', async () => {
    const { isoTime } = await import('../../../plugins/source/kafka/index.js');
    const cases = [
      1, 9, 99, 999, 1000, 1001, 86_399_999, 1_764_990_000_000, 1_764_990_000_009, 1_764_990_000_090, 253_402_300_799_999, 253_402_300_800_000, 1.5, 8.64e15,
    ];
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 5000; i++) {
      const base = Math.floor(rnd() * 2.5e14) + 1;
      cases.push(base, base, base + 1, base + 999, base - 1000);
    }
    for (const ms of cases) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });
});
