import { EchoResponse, EchoServiceDefinition, ThingHappened } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { createRequestContext, runWithContext } from './context.js';
import type { HandlerContext } from './contracts.js';
import { type Channel, type ClientMethod, createClient } from './createClient.js';
import { createEventDispatcher } from './EventDispatcher.js';
import { isRefrontError, type RefrontError } from './errors.js';
import { on } from './events.js';
import { createInProcessNetwork } from './InProcessNetwork.js';
import type { Call, Interceptor } from './Interceptor.js';
import { deriveIdempotencyKey, isValidIdempotencyKey } from './idempotencyKey.js';
import { createLogger } from './logger.js';
import { METADATA_IDEMPOTENCY_KEY } from './metadataKeys.js';
import type { Reply } from './Reply.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const ECHO = '/refront.testing.v1.EchoService/Echo';
const SLEEP = '/refront.testing.v1.EchoService/Sleep';

/** Channels that record the key of every attempt they send; `attempts` sends each call that often. */
function recordingChannels(attempts: number) {
  const keys: string[] = [];
  const answer = (call: Call<unknown>): unknown => {
    keys.push(call.metadata[METADATA_IDEMPOTENCY_KEY] ?? '<none>');
    return EchoResponse.fromPartial({ message: 'ok' });
  };
  const withSend: Channel = {
    unary: () => Promise.reject(new Error('unused')),
    send: (_m: ClientMethod, call: Call<unknown>, reply: Reply) => {
      // What runPolicy does on a retryable failure: the same call object, sent again.
      for (let i = 1; i < attempts; i++) answer(call);
      reply.ok(answer(call));
    },
  };
  const unaryOnly: Channel = {
    unary: async (_m, call) => {
      for (let i = 1; i < attempts; i++) answer(call as Call<unknown>);
      return answer(call as Call<unknown>) as never;
    },
  };
  return { keys, withSend, unaryOnly };
}

/** A retry interceptor that sends every call twice, as a resilience policy after a lost reply. */
const sendTwice: Interceptor = (call, next) => next(call).then(() => next(call));

async function rejection(p: Promise<unknown>): Promise<RefrontError> {
  try {
    await p;
  } catch (e: unknown) {
    if (isRefrontError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('idempotency keys of outgoing calls', () => {
  it.each([
    ['a channel with send (the gRPC and mux path)', 'withSend', []],
    ['the interceptor chain with a retrying interceptor (the monolith path)', 'unaryOnly', [sendTwice]],
  ] as const)(
    'carries one fresh key per logical call, the same on every attempt: %s',
    async (_, kind, extra) => {
      const channels = recordingChannels(kind === 'withSend' ? 2 : 1);
      const client = createClient(EchoServiceDefinition, channels[kind], {
        caller: 'me',
        interceptors: [...extra],
      });
      await client.echo({ message: 'a' });
      await client.echo({ message: 'b' });
      const [a1, a2, b1, b2] = channels.keys;
      expect(channels.keys).toHaveLength(4);
      expect(a1).toMatch(/^[0-9a-f-]{36}$/);
      expect(a2).toBe(a1);
      expect(b2).toBe(b1);
      expect(b1).not.toBe(a1);
    },
  );

  it("passes the caller's key through unchanged, on every attempt", async () => {
    const channels = recordingChannels(2);
    const client = createClient(EchoServiceDefinition, channels.withSend, { caller: 'me' });
    await client.echo({ message: 'a' }, { idempotencyKey: 'order-42/charge' });
    await client.echo({ message: 'a' }, { metadata: { [METADATA_IDEMPOTENCY_KEY]: 'from-metadata' } });
    expect(channels.keys).toEqual(['order-42/charge', 'order-42/charge', 'from-metadata', 'from-metadata']);
  });

  it('refuses a malformed caller key before sending anything', async () => {
    const channels = recordingChannels(1);
    const client = createClient(EchoServiceDefinition, channels.withSend, { caller: 'me' });
    for (const key of ['', 'é', 'x'.repeat(256), 'tab\there']) {
      const err = await rejection(client.echo({ message: 'a' }, { idempotencyKey: key }));
      expect([err.status, err.reason, err.retryable]).toEqual([
        'INVALID_ARGUMENT',
        'CORE_INVALID_IDEMPOTENCY_KEY',
        false,
      ]);
    }
    expect(channels.keys).toEqual([]);
    expect(isValidIdempotencyKey('x'.repeat(255))).toBe(true);
  });

  it("derives the keys of a keyed call's outgoing calls from its key, the method and their order", async () => {
    const channels = recordingChannels(1);
    const client = createClient(EchoServiceDefinition, channels.withSend, { caller: 'me' });
    const serve = async (parent: string) => {
      const ctx = createRequestContext({
        service: 'up',
        logger,
        metadata: { [METADATA_IDEMPOTENCY_KEY]: parent },
      });
      await runWithContext(ctx, async () => {
        await client.echo({ message: '1' });
        await client.sleep({ durationMs: 0 });
        await client.echo({ message: '2' });
      });
    };
    await serve('parent-key');
    await serve('parent-key'); // the handler retried: the same keys downstream
    await serve('other-key');
    const [first, retried, other] = [
      channels.keys.slice(0, 3),
      channels.keys.slice(3, 6),
      channels.keys.slice(6),
    ];
    expect(first).toEqual([
      deriveIdempotencyKey('parent-key', ECHO, 0),
      deriveIdempotencyKey('parent-key', SLEEP, 0),
      deriveIdempotencyKey('parent-key', ECHO, 1),
    ]);
    expect(new Set(first).size).toBe(3);
    expect(first[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(retried).toEqual(first);
    expect(other.some((k) => first.includes(k))).toBe(false);
  });
});

describe('idempotency keys of served calls', () => {
  async function serveEcho(onCall: (ctx: HandlerContext) => void) {
    const network = createInProcessNetwork();
    const server = network.createServer({ service: 'echo', logger });
    let runs = 0;
    server.add(EchoServiceDefinition, {
      async echo(request: { message: string }, ctx: HandlerContext) {
        runs++;
        onCall(ctx);
        return { message: request.message };
      },
      async sleep() {
        return {};
      },
      async fail() {
        return {};
      },
    } as never);
    await server.start();
    const client = createClient(EchoServiceDefinition, network.channel(), { caller: 'me' });
    return { client, runs: () => runs, [Symbol.asyncDispose]: () => server.close() };
  }

  it("gives the handler the call's key", async () => {
    const seen: (string | undefined)[] = [];
    await using env = await serveEcho((ctx) => seen.push(ctx.idempotencyKey));
    await env.client.echo({ message: 'x' }, { idempotencyKey: 'k-1' });
    await env.client.echo({ message: 'x' });
    expect(seen[0]).toBe('k-1');
    expect(seen[1]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a malformed inbound key with INVALID_ARGUMENT before the handler runs', async () => {
    await using env = await serveEcho(() => undefined);
    const bad = { [METADATA_IDEMPOTENCY_KEY]: 'x'.repeat(256) };
    const err = await rejection(env.client.echo({ message: 'x' }, { metadata: bad }));
    expect([err.status, err.reason, err.retryable]).toEqual([
      'INVALID_ARGUMENT',
      'CORE_INVALID_IDEMPOTENCY_KEY',
      false,
    ]);
    expect(env.runs()).toBe(0);
  });

  it("derives an event handler's keys from its group and the event id: a redelivery sends the same keys", async () => {
    const seen: (string | undefined)[] = [];
    await using env = await serveEcho((ctx) => seen.push(ctx.idempotencyKey));
    const handler = () => env.client.echo({ message: 'x' }).then(() => undefined);
    const deliver = (group: string, id: string) =>
      createEventDispatcher({
        group,
        service: 'invoicing',
        logger,
        bindings: [on(ThingHappened, handler)],
        handlerTimeoutMs: 5_000,
      }).dispatch(
        {
          id,
          type: ThingHappened.$type,
          schemaVersion: 1,
          contentType: 'application/x-protobuf',
          timestamp: Date.now(),
          source: 'producer',
        },
        ThingHappened.encode(ThingHappened.fromPartial({ id })).finish(),
        1,
        5,
      );
    expect(await deliver('billing', 'e-1')).toEqual({ kind: 'ack' });
    expect(await deliver('billing', 'e-1')).toEqual({ kind: 'ack' });
    await deliver('billing', 'e-2');
    await deliver('reports', 'e-1');
    const [first, redelivered, otherEvent, otherGroup] = seen;
    expect(seen).toHaveLength(4);
    expect(first).toBe(deriveIdempotencyKey('billing:e-1', ECHO, 0));
    expect(redelivered).toBe(first);
    expect(otherEvent).not.toBe(first);
    expect(otherGroup).not.toBe(first);
  });
});
