import type { EventBus, EventHandler, MessageType } from '@refront/core';
import { type EventBinding, type EventEnvelope, encodeEvent, sleep } from '@refront/core/transport';
import type { EventRecorder } from '../EventCapture.js';
import { TestingErrors } from '../errors.js';
import type { FaultTable } from './FaultTable.js';

/** Sends one publish through the table's faults: `go` publishes it once. */
async function publishThrough(
  faults: FaultTable,
  envelope: EventEnvelope,
  go: () => Promise<unknown>,
): Promise<void> {
  const fault = faults.forEvent({ type: envelope.type, source: envelope.source, group: undefined });
  if (!fault) {
    await go();
    return;
  }
  switch (fault.kind) {
    case 'drop':
      return;
    case 'delay':
      // The publisher is answered at once; the event goes out once the clock has moved on.
      void sleep(fault.ms).then(go, () => undefined);
      return;
    case 'duplicate':
      await go();
      await go();
      return;
    case 'fail':
      throw (
        fault.error ??
        TestingErrors.INJECTED_FAULT.with(
          { unprocessed: true },
          `publish of ${envelope.type} by ${envelope.source}`,
        )
      );
  }
}

function faultyHandler<T>(
  faults: FaultTable,
  group: string,
  type: MessageType<T>,
  handler: EventHandler<T>,
): EventHandler<T> {
  return async (event, ctx) => {
    const fault = faults.forEvent({ type: type.$type, source: ctx.envelope.source, group });
    if (!fault) return handler(event, ctx);
    switch (fault.kind) {
      case 'drop':
        return;
      case 'delay':
        await sleep(fault.ms, ctx.signal);
        return handler(event, ctx);
      case 'duplicate':
        await handler(event, ctx);
        return handler(event, ctx);
      case 'fail':
        throw (
          fault.error ??
          TestingErrors.INJECTED_FAULT.with(
            { unprocessed: true },
            `delivery of ${type.$type} to ${group} (attempt ${ctx.attempt})`,
          )
        );
    }
  };
}

/**
 * `inner` as one module (`source`) uses it: what it publishes is captured and goes through the
 * table's publish faults; what its groups consume goes through the delivery faults.
 */
export function faultyBus(
  inner: EventBus,
  source: string,
  faults: FaultTable,
  events: EventRecorder,
): EventBus {
  const raw = (envelope: EventEnvelope, body: Uint8Array, signal?: AbortSignal): Promise<void> =>
    publishThrough(faults, envelope, () =>
      inner.publishRaw(envelope, body, signal ? { signal } : undefined),
    ).then(() => events.record(envelope, body));
  return {
    async publish(type, event, options) {
      options?.signal?.throwIfAborted();
      const { envelope, body } = encodeEvent(source, type, event, options);
      await raw(envelope, body, options?.signal);
      return envelope;
    },
    publishRaw: (envelope, body, options) => raw(envelope, body, options?.signal),
    async send(group, type, message, options) {
      const id = options?.id ?? crypto.randomUUID();
      let sent: EventEnvelope | undefined;
      const probe = encodeEvent(source, type, message, { ...options, id });
      await publishThrough(faults, probe.envelope, async () => {
        sent = await inner.send(group, type, message, { ...options, id });
      });
      const envelope = sent ?? probe.envelope;
      events.record(envelope, probe.body);
      return envelope;
    },
    subscribe: (group, bindings, options) =>
      inner.subscribe(
        group,
        // biome-ignore lint/suspicious/noExplicitAny: each binding carries its own event type
        bindings.map((b: EventBinding<any>) => ({
          type: b.type,
          handler: faultyHandler(faults, group, b.type, b.handler),
        })),
        options,
      ),
    close: () => inner.close(),
  };
}
