import type { EventEnvelope } from '@refront/core/transport';
import type { Options } from 'amqplib';

/**
 * One publish until it settles. A class, so every publish has the same shape (monomorphic). An
 * event's AMQP properties and Buffer are made when it is sent, not when it is queued: what waits
 * behind a full window is only the envelope and the body.
 */
export class Pending {
  done = false;
  returned = false;
  cleanup: (() => void) | undefined = undefined;
  /** The `ConfirmPublisher.settled` calls waiting for this one. */
  waiters: Waiter[] | undefined = undefined;

  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly content: Uint8Array,
    /** The properties, or undefined to derive them from `envelope` when sent. */
    readonly options: Options.Publish | undefined,
    readonly envelope: EventEnvelope | undefined,
    readonly deadline: number,
    readonly value: unknown,
    readonly resolve: (value: unknown) => void,
    readonly reject: (e: unknown) => void,
  ) {}
}

/** One `ConfirmPublisher.settled` call: waits for a set of publishes to settle. */
export class Waiter {
  remaining = 0;
  constructor(readonly resolve: () => void) {}
}

/**
 * The body as a Buffer, which amqplib requires. A body of up to 64 bytes is copied into Node's
 * pooled slab: V8 keeps typed arrays that small on the heap, and taking a view of one
 * (`Buffer.from(u8.buffer, …)`) first moves its bytes to a new ArrayBuffer, which costs three
 * times the copy. A larger body already has its own ArrayBuffer, so it gets a view.
 */
export function toBuffer(body: Uint8Array): Buffer {
  if (Buffer.isBuffer(body)) return body;
  return body.byteLength <= 64
    ? Buffer.from(body)
    : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}
