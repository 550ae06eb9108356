/**
 * The kafka connection helpers (src/net/kafka.ts): broker lists, and which kafkajs failures the
 * runtime retries. Errors are built by hand in kafkajs's shapes (fakes: no broker involved).
 */
import { describe, it, expect } from 'vitest';
import { brokerList, kafkaFailure, kafkaClientConfig } from '../../../src/net/kafka.js';

const kafkajsError = (name: string, message: string, extra: object = {}) => Object.assign(new Error(message), { name, ...extra });

describe('kafka client helpers, with fake kafkajs errors', () => {
  it('splits an interpolated comma-separated broker list', () => {
    expect(brokerList(['a:9092,b:9093', ' c:9094 '])).toEqual(['a:9092', 'b:9093', 'c:9094']);
  });

  it('connection losses and exhausted retries are transient; the root cause is named', () => {
    const conn = kafkajsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092', { retriable: true });
    const exhausted = kafkajsError('KafkaJSNumberOfRetriesExceeded', 'Connection error: connect ECONNREFUSED', { retriable: false, cause: conn });
    const f = kafkaFailure('kafka sink: produce failed', exhausted);
    expect(f.transient).toBe(true);
    expect(f.message).toMatch(/^kafka sink: produce failed: .*ECONNREFUSED/);
  });

  it('authentication, authorisation and oversized records are permanent', () => {
    expect(kafkaFailure('x', kafkajsError('KafkaJSSASLAuthenticationError', 'SASL SCRAM SHA512 authentication failed: invalid credentials')).transient).toBe(
      false,
    );
    expect(
      kafkaFailure(
        'x',
        kafkajsError('KafkaJSProtocolError', 'Not authorized to access topics: [Topic authorization failed]', { type: 'TOPIC_AUTHORIZATION_FAILED' }),
      ).transient,
    ).toBe(false);
    expect(
      kafkaFailure(
        'x',
        kafkajsError('KafkaJSProtocolError', 'The request included a message larger than the max message size the server will accept', {
          type: 'MESSAGE_TOO_LARGE',
        }),
      ).transient,
    ).toBe(false);
    expect(kafkaFailure('x', Object.assign(new Error('topic missing'), { transient: false })).transient).toBe(false);
  });

  it('builds the kafkajs config: SASL and TLS passed on, timeouts parsed', () => {
    const ctx = { pipeline: 'p', node: 'n', logger: { debug() {}, info() {}, warn() {} }, resolvePath: (p: string) => p };
    const c = kafkaClientConfig(
      {
        brokers: ['a:1,b:2'],
        tls: true,
        sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'pw' },
        connection_timeout: '2s',
        request_timeout: '10s',
      },
      ctx,
    );
    expect(c).toMatchObject({
      clientId: 'sluice-p-n',
      brokers: ['a:1', 'b:2'],
      ssl: true,
      sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'pw' },
      connectionTimeout: 2000,
      requestTimeout: 10000,
    });
  });
});
