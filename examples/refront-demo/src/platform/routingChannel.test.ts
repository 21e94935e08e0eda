import {
  type CallOptions,
  type Channel,
  createClient,
  createInProcessNetwork,
  createLogger,
  createRequestContext,
  type Interceptor,
  isRefrontError,
  RefrontError,
  runWithContext,
} from '@refront/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiServiceDefinition } from '../gen/refront/ai/v1/ai.js';
import { createRoutingChannel, demoServiceOf } from './routingChannel.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const network = createInProcessNetwork();
const server = network.createServer({ service: 'ai', logger });

beforeAll(async () => {
  // Answers with what it received, so both paths can be compared on what reached the server.
  server.add(AiServiceDefinition, {
    async classify() {
      throw new RefrontError('UNAVAILABLE', 'TEST_DOWN', 'the model is down', { retryable: true });
    },
    async summarize(request, ctx) {
      return { summary: `${request.text} from ${ctx.caller} for ${ctx.tenant}`, provider: 'echo' };
    },
    async getTicketClassification(request) {
      throw new RefrontError(
        'NOT_FOUND',
        'TEST_NO_CLASSIFICATION',
        `ticket ${request.ticketId} does not exist`,
      );
    },
  });
  await server.start();
});
afterAll(() => server.close());

/** The in-process channel, counting the calls that reach it by each path. */
function counting(inner: Channel, withSend = true): Channel & { sends: number; unaries: number } {
  const counted = {
    sends: 0,
    unaries: 0,
    unary: ((method, call) => {
      counted.unaries++;
      return inner.unary(method, call);
    }) as Channel['unary'],
  };
  if (!withSend) return counted;
  return Object.assign(counted, {
    send: ((method, call, reply) => {
      counted.sends++;
      inner.unary(method, call).then(
        (res) => reply.ok(res),
        (e: unknown) => reply.fail(e),
      );
    }) as NonNullable<Channel['send']>,
  });
}

/** An interceptor that only passes the call on: with it, createClient takes the unary path. */
const passThrough: Interceptor = (call, next) => next(call);

/** What a client call ended with, comparable across paths. */
async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await p };
  } catch (e: unknown) {
    if (!isRefrontError(e)) throw e;
    return { status: e.status, reason: e.reason, message: e.message, retryable: e.retryable };
  }
}

/** The same three calls (a success, two kinds of failure) as a user of tenant `acme`. */
function calls(channel: Channel, interceptors: Interceptor[]): Promise<unknown[]> {
  const ai = createClient(AiServiceDefinition, channel, { caller: 'gateway', interceptors });
  const ctx = createRequestContext({ service: 'gateway', logger, tenant: 'acme' });
  const opts: CallOptions = { timeoutMs: 5_000 };
  return runWithContext(ctx, () =>
    Promise.all([
      outcome(ai.summarize({ text: 'printer on fire', maxLength: 0 }, opts)),
      outcome(ai.classify({ title: 'x', description: 'y' }, opts)),
      outcome(ai.getTicketClassification({ ticketId: 't-1' }, opts)),
    ]),
  );
}

describe('routing channel: send', () => {
  it("takes createClient's fast path to the service channel's send", async () => {
    const ai = counting(network.channel());
    const routing = createRoutingChannel(demoServiceOf, () => ai);
    await calls(routing, []);
    expect([ai.sends, ai.unaries]).toEqual([3, 0]);
    expect([...routing.channels.keys()]).toEqual(['ai']);
  });

  it('ends every call as the unary path does: the same responses, the same errors', async () => {
    const viaSend = counting(network.channel());
    const viaUnary = counting(network.channel());
    const sent = await calls(
      createRoutingChannel(demoServiceOf, () => viaSend),
      [],
    );
    const unary = await calls(
      createRoutingChannel(demoServiceOf, () => viaUnary),
      [passThrough],
    );
    expect([viaSend.sends, viaUnary.unaries]).toEqual([3, 3]);
    expect(sent).toEqual(unary);
    expect(sent).toEqual([
      { ok: { summary: 'printer on fire from gateway for acme', provider: 'echo' } },
      { status: 'UNAVAILABLE', reason: 'TEST_DOWN', message: 'the model is down', retryable: true },
      {
        status: 'NOT_FOUND',
        reason: 'TEST_NO_CLASSIFICATION',
        message: 'ticket t-1 does not exist',
        retryable: false,
      },
    ]);
  });

  it("sends through the service channel's unary when it has no send", async () => {
    const ai = counting(network.channel(), false);
    const results = await calls(
      createRoutingChannel(demoServiceOf, () => ai),
      [],
    );
    expect([ai.sends, ai.unaries]).toEqual([0, 3]);
    expect(results[0]).toEqual({
      ok: { summary: 'printer on fire from gateway for acme', provider: 'echo' },
    });
  });

  it('fails the call, on both paths alike, when the service channel cannot be opened', async () => {
    const open = () => {
      throw new RefrontError('INVALID_ARGUMENT', 'TEST_BAD_ENDPOINT', 'no endpoint for ai');
    };
    const sent = await calls(createRoutingChannel(demoServiceOf, open), []);
    const unary = await calls(createRoutingChannel(demoServiceOf, open), [passThrough]);
    expect(sent).toEqual(unary);
    expect(sent[0]).toMatchObject({ status: 'INVALID_ARGUMENT', reason: 'TEST_BAD_ENDPOINT' });
  });
});
