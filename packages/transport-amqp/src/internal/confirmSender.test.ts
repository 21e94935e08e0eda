import type { EventEnvelope } from '@refront/core/transport';
import { type ConfirmChannel, connect, type Options } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { AMQP_URL, infraAvailable } from '../testing/broker.js';
import { toPublishOptions } from './amqpEnvelope.js';
import { confirmSender } from './confirmSender.js';

const up = await infraAvailable('rabbitmq');

type Sent = { fields: Record<string, unknown>; properties: unknown; content: Buffer };

/** The fields with the headers flattened (amqplib's codec reads them with for…in, inherited or not). */
function normalized(fields: Record<string, unknown>): Record<string, unknown> {
  const headers: Record<string, unknown> = {};
  const h = fields.headers as Record<string, unknown>;
  for (const k in h) headers[k] = h[k];
  return { ...fields, headers };
}

const envelope: EventEnvelope = {
  id: '0b8f3c1e-7a8d-4f53-9d62-1a2b3c4d5e6f',
  type: 'refront.testing.v1.ThingHappened',
  schemaVersion: 2,
  contentType: 'application/x-protobuf',
  timestamp: 1_764_000_000_123,
  source: 'tickets',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  causationId: 'c-1',
  correlationId: 'k-1',
  tenant: 't-1',
  key: 'order-1',
};

const cases: [string, Options.Publish][] = [
  ['an event', toPublishOptions(envelope)],
  ['a command', { ...toPublishOptions(envelope), mandatory: true }],
  ['no headers', { persistent: false, messageId: 'm', type: 't' }],
  [
    'deliveryMode and expiration',
    { deliveryMode: 2, expiration: 5000, priority: 3, replyTo: 'r', userId: 'guest' },
  ],
  ['truthy deliveryMode', { deliveryMode: true, contentEncoding: 'gzip', headers: { a: 1, b: 'x' } }],
];

describe.skipIf(!up)('confirmSender (real amqplib channel)', () => {
  it('hands amqplib the fields ConfirmChannel#publish would, in the same calls and order', async () => {
    const conn = await connect(AMQP_URL);
    try {
      const ch: ConfirmChannel = await conn.createConfirmChannel();
      const proto = Object.getPrototypeOf(ch) as ConfirmChannel;
      const content = Buffer.from('body');
      for (const [name, options] of cases) {
        // What the public publish passes down, recorded on a stand-in channel.
        const expected: Sent[] = [];
        const expectedCalls: string[] = [];
        const standIn = {
          sendMessage: (fields: Record<string, unknown>, properties: unknown, c: Buffer) => {
            expectedCalls.push('sendMessage');
            expected.push({ fields, properties, content: c });
            return true;
          },
          pushConfirmCallback: () => expectedCalls.push('pushConfirmCallback'),
        };
        const cb = () => {};
        proto.publish.call(standIn, 'ex', 'rk', content, options, cb);

        // What the fast path passes down on the same kind of channel.
        const actual: Sent[] = [];
        const actualCalls: string[] = [];
        const spied = Object.create(ch) as ConfirmChannel & typeof standIn;
        spied.sendMessage = (fields, properties, c) => {
          actualCalls.push('sendMessage');
          actual.push({ fields, properties, content: c });
          return true;
        };
        spied.pushConfirmCallback = () => actualCalls.push('pushConfirmCallback');
        expect(confirmSender(spied)('ex', 'rk', content, options, cb), name).toBe(true);

        expect(actualCalls, name).toEqual(expectedCalls);
        expect(actual[0]!.fields, name).toBe(actual[0]!.properties);
        expect(normalized(actual[0]!.fields), name).toEqual(normalized(expected[0]!.fields));
        expect(actual[0]!.content, name).toBe(content);
        // The fast path, not publish: the headers go down as they are, not as a prototype.
        if (options.headers) expect(actual[0]!.fields.headers, name).toBe(options.headers);
      }
      await ch.close();
    } finally {
      await conn.close();
    }
  });

  it('uses the public publish for CC/BCC, which amqplib rewrites into headers', async () => {
    const conn = await connect(AMQP_URL);
    try {
      const ch: ConfirmChannel = await conn.createConfirmChannel();
      const spied = Object.create(ch) as ConfirmChannel;
      let viaPublish = 0;
      spied.publish = () => {
        viaPublish++;
        return true;
      };
      confirmSender(spied)('ex', 'rk', Buffer.from('x'), { CC: 'other' }, () => {});
      expect(viaPublish).toBe(1);
      await ch.close();
    } finally {
      await conn.close();
    }
  });
});
