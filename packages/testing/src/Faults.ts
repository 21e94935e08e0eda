import type { MessageType, ServiceDefinition } from '@refront/core';

/**
 * What a fault does to the call, publish or delivery it hits:
 * - `drop`: a call is lost on the way (the caller waits until its deadline or signal); a published
 *   event is lost (the publisher is told it went out); a delivery is acknowledged unhandled.
 * - `delay`: waits `ms` on the test's clock (`setTimeout`, faked once the clock is installed), then goes on.
 * - `duplicate`: a call reaches the server twice (the caller gets the second answer); an event is
 *   published twice with the same envelope (same id); a delivery runs its handler twice.
 * - `fail`: rejects with `error`, by default `TESTING_INJECTED_FAULT` (UNAVAILABLE, unprocessed),
 *   so retry policies and retry ladders act on it; a failed delivery counts as a failed attempt.
 */
export type Fault =
  | { readonly kind: 'drop' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'fail'; readonly error?: unknown };

/** Which of the matching calls or messages a fault hits. @default every one */
export interface FaultSchedule {
  /** Hit only the nth match (1 = the first), counted from when the fault was added. */
  readonly nth?: number;
  /** Hit the first `times` matches. Ignored when `nth` is set. @default Infinity */
  readonly times?: number;
}

/** Calls a fault applies to; every field left out matches anything. */
export interface CallMatch {
  /** The service called: its definition, or its full (`refront.tickets.v1.TicketsService`) or short (`TicketsService`) name. */
  readonly service?: ServiceDefinition | string;
  /** The method, as in the contract (`CreateTicket`). */
  readonly method?: string;
  /** The calling module's name (`time-tracking`; `test` for the test's own clients). */
  readonly caller?: string;
}

/** Events a fault applies to; every field left out matches anything. */
export interface EventMatch {
  /** The event type, or its fully-qualified name. */
  // biome-ignore lint/suspicious/noExplicitAny: any message type
  readonly type?: MessageType<any> | string;
  /** The publishing module's name. Set with `group`, it matches the envelope's source. */
  readonly source?: string;
  /**
   * The consumer group: when set, the fault hits deliveries to that group's handlers (a `fail`
   * is a failed attempt, retried then dead-lettered); when left out, it hits publishes.
   */
  readonly group?: string;
}

/** A fault in place; {@link FaultHandle.hits} counts the calls or messages it has hit so far. */
export interface FaultHandle {
  /** Calls or messages this fault has hit. */
  readonly hits: number;
  /** Calls or messages that matched, hit or not. */
  readonly matches: number;
  /** Takes the fault out; later traffic passes untouched. */
  remove(): void;
}

/**
 * The faults of one test app, applied on its in-process lanes: the channel every client calls
 * through, every module's publisher (outbox relays included), and every module's subscriptions.
 * Faults apply in the order they were added; the first that hits decides.
 *
 * @example
 * const lost = app.faults.call({ service: TicketsServiceDefinition, method: 'GetTicket' }, { kind: 'fail' }, { nth: 1 });
 * await time.logTime(…); // the first GetTicket fails, the client's retry policy calls again
 * expect(lost.hits).toBe(1);
 */
export interface Faults {
  /** Adds a fault on calls matching `match`. */
  call(match: CallMatch, fault: Fault, schedule?: FaultSchedule): FaultHandle;
  /** Adds a fault on publishes (no `group`) or deliveries (`group`) matching `match`. */
  event(match: EventMatch, fault: Fault, schedule?: FaultSchedule): FaultHandle;
  /** Removes every fault. */
  clear(): void;
}
