import { EchoServiceDefinition } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { CoreReason } from './coreErrors.js';
import { createDispatcher } from './Dispatcher.js';
import { RefrontError } from './errors.js';
import type { Interceptor } from './Interceptor.js';
import { createLogger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';
import { echoImplementation, sleepObservations } from './testing/echo.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const SLEEP = `/${EchoServiceDefinition.fullName}/Sleep`;
const ECHO = `/${EchoServiceDefinition.fullName}/Echo`;

function dispatcher(interceptors: Interceptor[] = []) {
  const d = createDispatcher({ service: 'echo', logger, system: 'test', interceptors });
  d.add(EchoServiceDefinition, echoImplementation);
  return d;
}

/** An inbound call whose transport cancels through onCancel, as gRPC's does. */
function cancellable() {
  let cancel: ((reason: RefrontError) => void) | undefined;
  return {
    onCancel: (c: (reason: RefrontError) => void) => {
      cancel = c;
    },
    cancel: (reason: RefrontError) => cancel?.(reason),
  };
}

describe('Dispatcher with a transport that cancels through onCancel', () => {
  it('aborts the handler signal and answers at once with the transport reason', async () => {
    const d = dispatcher();
    const t = cancellable();
    const before = sleepObservations.length;
    const pending = d.invoke(SLEEP, {
      request: { durationMs: 60_000 },
      metadata: {},
      deadline: Date.now() + 60_000,
      onCancel: t.onCancel,
    });
    await new Promise((r) => setTimeout(r, 5));
    const reason = new RefrontError('CANCELLED', CoreReason.CANCELLED, 'client went away');
    t.cancel(reason);
    await expect(pending).rejects.toBe(reason);
    await new Promise((r) => setTimeout(r, 5));
    expect(sleepObservations[before]).toEqual({ aborted: true, reason });
    expect(d.inflight).toBe(0);
  });

  it('reports a deadline the transport enforced as DEADLINE_EXCEEDED', async () => {
    const d = dispatcher();
    const t = cancellable();
    const pending = d.invoke(SLEEP, {
      request: { durationMs: 60_000 },
      metadata: {},
      deadline: Date.now() + 60_000,
      onCancel: t.onCancel,
    });
    t.cancel(new RefrontError('DEADLINE_EXCEEDED', CoreReason.DEADLINE_EXCEEDED, 'deadline passed'));
    await expect(pending).rejects.toMatchObject({ status: 'DEADLINE_EXCEEDED' });
  });

  it('gives interceptors a call.signal that aborts with the cancel, made when read', async () => {
    let signal: AbortSignal | undefined;
    const peek: Interceptor = (call, next) => {
      signal = call.signal;
      return next(call);
    };
    const d = dispatcher([peek]);
    const t = cancellable();
    const pending = d.invoke(SLEEP, {
      request: { durationMs: 60_000 },
      metadata: {},
      deadline: undefined,
      onCancel: t.onCancel,
    });
    expect(signal?.aborted).toBe(false);
    const reason = new RefrontError('CANCELLED', CoreReason.CANCELLED, 'client went away');
    t.cancel(reason);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('serves calls nobody cancels, and ignores a cancel after the answer', async () => {
    const d = dispatcher();
    const t = cancellable();
    const res = await d.invoke(ECHO, {
      request: { message: 'hi' },
      metadata: {},
      deadline: Date.now() + 5_000,
      onCancel: t.onCancel,
    });
    expect(res).toMatchObject({ message: 'hi' });
    t.cancel(new RefrontError('CANCELLED', CoreReason.CANCELLED, 'late'));
    expect(d.inflight).toBe(0);
  });

  it('still aborts in-flight calls when a drain runs out of time', async () => {
    const d = dispatcher();
    const t = cancellable();
    const pending = d.invoke(SLEEP, {
      request: { durationMs: 60_000 },
      metadata: {},
      deadline: undefined,
      onCancel: t.onCancel,
    });
    await d.drain(AbortSignal.abort());
    await expect(pending).rejects.toMatchObject({ status: 'UNAVAILABLE', reason: CoreReason.LOST_IN_FLIGHT });
  });
});

describe('Dispatcher.dispatch (callback form, as mux serves)', () => {
  function replyRecorder() {
    const outcomes: { ok?: unknown; fail?: unknown }[] = [];
    let settle: () => void = () => {};
    const settled = new Promise<void>((r) => {
      settle = r;
    });
    return {
      outcomes,
      settled,
      reply: {
        ok: (response: unknown) => {
          outcomes.push({ ok: response });
          settle();
        },
        fail: (error: unknown) => {
          outcomes.push({ fail: error });
          settle();
        },
      },
    };
  }

  it('answers once, with the completed response, and returns a handle that cancels', async () => {
    const d = dispatcher();
    const r = replyRecorder();
    const handle = d.dispatch(
      ECHO,
      { request: { message: 'hi' }, metadata: {}, deadline: undefined, cancelsThroughHandle: true },
      r.reply,
    );
    expect(handle).toBeDefined();
    await r.settled;
    expect(r.outcomes).toHaveLength(1);
    expect(r.outcomes[0]?.ok).toMatchObject({ message: 'hi', payload: expect.any(Uint8Array) });
    handle?.cancel(new RefrontError('CANCELLED', CoreReason.CANCELLED, 'late'));
    await new Promise((res) => setTimeout(res, 5));
    expect(r.outcomes).toHaveLength(1);
    expect(d.inflight).toBe(0);
  });

  it('aborts the handler through the handle and fails the call with the reason at once', async () => {
    const d = dispatcher();
    const r = replyRecorder();
    const before = sleepObservations.length;
    const handle = d.dispatch(
      SLEEP,
      {
        request: { durationMs: 60_000 },
        metadata: {},
        deadline: Date.now() + 60_000,
        cancelsThroughHandle: true,
      },
      r.reply,
    );
    const reason = new RefrontError('DEADLINE_EXCEEDED', CoreReason.DEADLINE_EXCEEDED, 'deadline passed');
    handle?.cancel(reason);
    await r.settled;
    expect(r.outcomes).toEqual([{ fail: reason }]);
    expect(d.inflight).toBe(0);
    await new Promise((res) => setTimeout(res, 5));
    expect(sleepObservations[before]).toEqual({ aborted: true, reason });
  });

  it('refuses an unknown method through the reply, before returning', () => {
    const d = dispatcher();
    const r = replyRecorder();
    const handle = d.dispatch(
      '/nope.Service/Nope',
      { request: {}, metadata: {}, deadline: undefined },
      r.reply,
    );
    expect(handle).toBeUndefined();
    expect(r.outcomes).toHaveLength(1);
    expect(r.outcomes[0]?.fail).toMatchObject({ status: 'UNIMPLEMENTED' });
  });

  it('fails a handler whose answer does not complete with INTERNAL, and records INTERNAL, not OK', async () => {
    const metrics = createMetricsRegistry({ processMetrics: false });
    const d = createDispatcher({ service: 'echo', logger, system: 'test', metrics });
    d.add(EchoServiceDefinition, {
      ...echoImplementation,
      echo: async () => undefined as never,
    });
    const r = replyRecorder();
    d.dispatch(ECHO, { request: { message: 'x' }, metadata: {}, deadline: undefined }, r.reply);
    await r.settled;
    expect(r.outcomes[0]?.fail).toMatchObject({ status: 'INTERNAL' });
    const text = await metrics.metrics();
    expect(text).toMatch(
      /refront_rpc_server_duration_seconds_count\{[^}]*rpc_method="Echo"[^}]*status="INTERNAL"[^}]*\} 1/,
    );
    expect(text).not.toMatch(/refront_rpc_server_duration_seconds_count\{[^}]*status="OK"/);
  });
});
