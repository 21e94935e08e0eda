import type { RefrontError } from './errors.js';

/** What a transport does with a delivery after the handler ran. */
export type DeliveryOutcome =
  /** Handled: acknowledge it. */
  | { readonly kind: 'ack' }
  /** Failed but may succeed later: redeliver after the next retry delay. */
  | { readonly kind: 'retry'; readonly error: RefrontError }
  /** Give up: move it to the dead-letter queue with the reason. */
  | { readonly kind: 'dead'; readonly reason: string; readonly error: string };
