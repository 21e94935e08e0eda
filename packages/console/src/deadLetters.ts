import type { InProcessEventBus } from '@refront/core';
import type { DeadLetter } from '@refront/core/transport';

/** One dead letter as the console shows it. */
export interface DeadLetterView {
  readonly group: string;
  readonly eventId: string;
  readonly type: string;
  readonly source: string;
  readonly tenant: string | undefined;
  readonly reason: string;
  readonly error: string;
  readonly attempts: number;
  readonly deadLetteredAt: number;
  /** The trace the event was published in, from its `traceparent`. */
  readonly traceId: string | undefined;
  /** The body: JSON when it decodes as JSON, else base64. */
  readonly body: { readonly json?: unknown; readonly base64: string };
}

/**
 * Where the console reads dead letters and sends replays and discards: an event bus's
 * dead-letter store behind a small interface, so each bus adapts to it.
 */
export interface DeadLetterSource {
  /** Dead letters of every group, or of one, oldest first. */
  list(group?: string): Promise<readonly DeadLetter[]>;
  /**
   * Puts one back into its group's queue as a first attempt.
   * @throws RefrontError NOT_FOUND when the group has no dead letter with that event id.
   */
  replay(group: string, eventId: string): Promise<void>;
  /**
   * Drops one for good.
   * @throws RefrontError NOT_FOUND when the group has no dead letter with that event id.
   */
  discard(group: string, eventId: string): Promise<void>;
  /**
   * Replays every dead letter of a group in one pass, returning their event ids; without it the
   * console lists the group and replays each.
   */
  replayAll?(group: string): Promise<readonly string[]>;
}

/**
 * The dead letters of the in-process event bus (the modular monolith's).
 *
 * @example
 * createConsole({ development: true, deadLetters: inProcessDeadLetters(platform.bus) });
 */
export function inProcessDeadLetters(bus: InProcessEventBus): DeadLetterSource {
  return {
    list: async (group) => bus.deadLetters(group),
    replay: async (group, eventId) => bus.replay(group, eventId),
    discard: async (group, eventId) => bus.discard(group, eventId),
  };
}

/** The view of one dead letter: its envelope's facts and its body, JSON-decoded when it is JSON. */
export function viewOf(d: DeadLetter): DeadLetterView {
  const base64 = Buffer.from(d.body).toString('base64');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(d.body).toString('utf8'));
  } catch {
    json = undefined;
  }
  return {
    group: d.group,
    eventId: d.envelope.id,
    type: d.envelope.type,
    source: d.envelope.source,
    tenant: d.envelope.tenant,
    reason: d.reason,
    error: d.error,
    attempts: d.attempts,
    deadLetteredAt: d.deadLetteredAt,
    traceId: d.envelope.traceparent?.split('-')[1],
    body: json === undefined ? { base64 } : { json, base64 },
  };
}
