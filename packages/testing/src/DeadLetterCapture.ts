import type { MessageType } from '@refront/core';
import type { DeadLetter } from '@refront/core/transport';
import type { WaitOptions } from './EventCapture.js';
import { DEFAULT_WAIT_MS, Recorder } from './internal/Recorder.js';

/** Which dead letters {@link DeadLetterCapture.waitFor} and {@link DeadLetterCapture.of} look for; fields left out match anything. */
export interface DeadLetterMatch {
  /** The consumer group that gave up on the event. */
  readonly group?: string;
  /** The event type, or its fully-qualified name. */
  // biome-ignore lint/suspicious/noExplicitAny: any message type
  readonly type?: MessageType<any> | string;
  /** The reason code (`CORE_ATTEMPTS_EXHAUSTED`, `CORE_INVALID_MESSAGE`, a handler's own…). */
  readonly reason?: string;
}

/**
 * Every event a consumer group of the app gave up on, with the reason and the attempts made,
 * oldest first (on RabbitMQ: as each bus reports it when it dead-letters).
 *
 * @example
 * const dead = await app.deadLetters.waitFor({ group: 'reporting', type: InvoiceIssued });
 * expect([dead.reason, dead.attempts]).toEqual(['REPORTING_BAD_EVENT', 1]);
 */
export interface DeadLetterCapture {
  /** The dead letters so far, optionally those `match` accepts. */
  of(match?: DeadLetterMatch): readonly DeadLetter[];
  /**
   * The first dead letter (so far or from now on) that `match` accepts.
   * @throws RefrontError DEADLINE_EXCEEDED `TESTING_WAIT_TIMEOUT` when none comes in time.
   */
  waitFor(match?: DeadLetterMatch, options?: WaitOptions): Promise<DeadLetter>;
  /** Forgets what was captured so far. */
  clear(): void;
}

function test(match: DeadLetterMatch): (d: DeadLetter) => boolean {
  const type = typeof match.type === 'object' ? match.type.$type : match.type;
  return (d) =>
    (match.group === undefined || d.group === match.group) &&
    (type === undefined || d.envelope.type === type) &&
    (match.reason === undefined || d.reason === match.reason);
}

/** The app's dead-letter capture; the buses' `onDeadLetter` feeds `record`. */
export class DeadLetterRecorder implements DeadLetterCapture {
  private readonly recorder = new Recorder<DeadLetter>();

  readonly record = (d: DeadLetter): void => this.recorder.record(d);

  of(match: DeadLetterMatch = {}): readonly DeadLetter[] {
    return this.recorder.all().filter(test(match));
  }

  waitFor(match: DeadLetterMatch = {}, options: WaitOptions = {}): Promise<DeadLetter> {
    return this.recorder.waitFor(
      test(match),
      `a dead letter ${JSON.stringify({ ...match, type: typeof match.type === 'object' ? match.type.$type : match.type })}`,
      options.timeoutMs ?? DEFAULT_WAIT_MS,
    );
  }

  clear(): void {
    this.recorder.clear();
  }
}
