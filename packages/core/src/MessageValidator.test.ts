import { EchoRequest, EchoServiceDefinition, ThingHappened } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import type { MessageType } from './contracts.js';
import { CoreReason } from './coreErrors.js';
import { createDispatcher } from './Dispatcher.js';
import { createEventDispatcher } from './EventDispatcher.js';
import { type FieldViolation, isRefrontError, RefrontError } from './errors.js';
import type { EventEnvelope } from './events.js';
import { on } from './events.js';
import type { Interceptor } from './Interceptor.js';
import { createLogger } from './logger.js';
import type { MessageCheck, MessageValidator } from './MessageValidator.js';
import { createMetricsRegistry } from './metrics.js';
import { echoImplementation } from './testing/echo.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const ECHO = `/${EchoServiceDefinition.fullName}/Echo`;
const TOO_LONG: FieldViolation = {
  field: 'message',
  description: 'must be at most 3 characters',
  reason: 'string.max_len',
};

/** Refuses an EchoRequest message longer than 3 and a ThingHappened without id; counts checks. */
function validator(): MessageValidator & { readonly asked: string[]; checks: number } {
  const v = {
    asked: [] as string[],
    checks: 0,
    checkFor<T>(type: MessageType<T>): MessageCheck<T> | undefined {
      v.asked.push(type.$type);
      if (type.$type === EchoRequest.$type) {
        return ((m: EchoRequest) => {
          v.checks++;
          return m.message.length > 3 ? [TOO_LONG] : [];
        }) as MessageCheck<T>;
      }
      if (type.$type === ThingHappened.$type) {
        return ((m: ThingHappened) =>
          m.id === ''
            ? [{ field: 'id', description: 'value is required', reason: 'required' }]
            : []) as MessageCheck<T>;
      }
      return undefined;
    },
  };
  return v;
}

function echoServer(v: MessageValidator, interceptors: Interceptor[] = []) {
  let handled = 0;
  const metrics = createMetricsRegistry({ processMetrics: false });
  const d = createDispatcher({
    service: 'echo',
    logger,
    metrics,
    system: 'test',
    validator: v,
    interceptors,
  });
  d.add(EchoServiceDefinition, {
    ...echoImplementation,
    echo: (req, ctx) => {
      handled++;
      return echoImplementation.echo(req, ctx);
    },
  });
  return { d, metrics, handled: () => handled };
}

async function rejection(p: Promise<unknown>): Promise<RefrontError> {
  try {
    await p;
  } catch (e: unknown) {
    if (isRefrontError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('a server with a validator', () => {
  it('refuses a request that breaks its rules with INVALID_ARGUMENT CORE_INVALID_MESSAGE, before the handler', async () => {
    const { d, metrics, handled } = echoServer(validator());
    const e = await rejection(
      d.invoke(ECHO, { request: { message: 'four' }, metadata: {}, deadline: undefined }),
    );
    expect([e.status, e.reason, e.retryable]).toEqual([
      'INVALID_ARGUMENT',
      CoreReason.INVALID_MESSAGE,
      false,
    ]);
    expect(e.message).toBe(
      'refront.testing.v1.EchoRequest is invalid: message: must be at most 3 characters [string.max_len]',
    );
    expect(e.details.fieldViolations).toEqual([TOO_LONG]);
    expect(handled()).toBe(0);
    // The refusal is served like any failure: the RED metrics count it.
    expect(await metrics.metrics()).toMatch(
      /refront_rpc_server_duration_seconds_count\{[^}]*status="INVALID_ARGUMENT"\} 1/,
    );
  });

  it('runs the handler for a request that keeps its rules', async () => {
    const { d, handled } = echoServer(validator());
    const res = await d.invoke(ECHO, { request: { message: 'ok' }, metadata: {}, deadline: undefined });
    expect(res).toMatchObject({ message: 'ok' });
    expect(handled()).toBe(1);
  });

  it('asks the validator once per request type when a contract is added, and checks nothing else', async () => {
    const v = validator();
    const { d } = echoServer(v);
    expect(v.asked.sort()).toEqual([
      'refront.testing.v1.EchoRequest',
      'refront.testing.v1.FailRequest',
      'refront.testing.v1.SleepRequest',
    ]);
    await d.invoke(`/${EchoServiceDefinition.fullName}/Sleep`, {
      request: { durationMs: 0 },
      metadata: {},
      deadline: undefined,
    });
    expect(v.checks).toBe(0);
  });

  it('checks after the interceptors, so an unauthenticated caller learns nothing of the rules', async () => {
    const deny: Interceptor = () =>
      Promise.reject(new RefrontError('UNAUTHENTICATED', CoreReason.MISSING_TOKEN, 'no token'));
    const v = validator();
    const { d, handled } = echoServer(v, [deny]);
    const e = await rejection(
      d.invoke(ECHO, { request: { message: 'four' }, metadata: {}, deadline: undefined }),
    );
    expect(e.reason).toBe(CoreReason.MISSING_TOKEN);
    expect([v.checks, handled()]).toEqual([0, 0]);
  });

  it('fails a call whose check throws with INTERNAL, without running the handler', async () => {
    let handled = 0;
    const d = createDispatcher({
      service: 'echo',
      logger,
      system: 'test',
      validator: {
        checkFor: () => () => {
          throw new Error('rule exploded');
        },
      },
    });
    d.add(EchoServiceDefinition, {
      ...echoImplementation,
      echo: (req, ctx) => {
        handled++;
        return echoImplementation.echo(req, ctx);
      },
    });
    const e = await rejection(
      d.invoke(ECHO, { request: { message: 'ok' }, metadata: {}, deadline: undefined }),
    );
    expect([e.status, e.reason, handled]).toEqual(['INTERNAL', CoreReason.INTERNAL, 0]);
  });

  it('fails add() when the validator refuses a type, so a missing contract fails at start-up', () => {
    const d = createDispatcher({
      service: 'echo',
      logger,
      system: 'test',
      validator: {
        checkFor: (type) => {
          throw new RefrontError('INVALID_ARGUMENT', CoreReason.INVALID_OPTION, `${type.$type} is unknown`);
        },
      },
    });
    expect(() => d.add(EchoServiceDefinition, echoImplementation)).toThrow(/is unknown/);
  });
});

function envelope(id: string): EventEnvelope {
  return {
    id,
    type: ThingHappened.$type,
    schemaVersion: 1,
    contentType: 'application/x-protobuf',
    timestamp: Date.now(),
    source: 'producer',
  };
}

describe('an event dispatcher with a validator', () => {
  function dispatcher(v: MessageValidator) {
    const seen: string[] = [];
    const metrics = createMetricsRegistry({ processMetrics: false });
    const d = createEventDispatcher({
      group: 'billing',
      service: 'invoicing',
      logger,
      metrics,
      validator: v,
      handlerTimeoutMs: 30_000,
      bindings: [on(ThingHappened, async (e) => void seen.push(e.id))],
    });
    return { d, seen, metrics };
  }
  const encode = (id: string) =>
    ThingHappened.encode(ThingHappened.fromPartial({ id, sequence: 1 })).finish();

  it('dead-letters an event that breaks its rules at once, naming the field, without running the handler', async () => {
    const { d, seen, metrics } = dispatcher(validator());
    // Attempt 1 of 5: not retried, since the same event fails the same way every time.
    expect(await d.dispatch(envelope('e-1'), encode(''), 1, 5)).toEqual({
      kind: 'dead',
      reason: CoreReason.INVALID_MESSAGE,
      error: 'refront.testing.v1.ThingHappened is invalid: id: value is required [required]',
    });
    expect(seen).toEqual([]);
    expect(await metrics.metrics()).toMatch(
      /refront_event_handler_duration_seconds_count\{[^}]*status="dead"\} 1/,
    );
  });

  it('hands an event that keeps its rules to its handler', async () => {
    const { d, seen } = dispatcher(validator());
    expect(await d.dispatch(envelope('e-2'), encode('t-2'), 1, 5)).toEqual({ kind: 'ack' });
    expect(seen).toEqual(['t-2']);
  });

  it('dead-letters an event whose check throws (it would throw again on every attempt)', async () => {
    const { d, seen } = dispatcher({
      checkFor: () => () => {
        throw new Error('rule exploded');
      },
    });
    const outcome = await d.dispatch(envelope('e-3'), encode('t-3'), 1, 5);
    expect(outcome).toMatchObject({ kind: 'dead', reason: CoreReason.INTERNAL });
    expect(outcome.kind === 'dead' && outcome.error).toContain('rule exploded');
    expect(seen).toEqual([]);
  });
});
