import type { MessageType } from '@refront/core';
import { decodeEventBody, type EventEnvelope } from '@refront/core/transport';
import { DEFAULT_WAIT_MS, Recorder } from './internal/Recorder.js';

/** An event a module (or the test) published, as it went out. */
export interface PublishedEvent {
  /** The envelope as published (id, type, source, tenant, traceparent…). */
  readonly envelope: EventEnvelope;
  /** The body as published. */
  readonly body: Uint8Array;
}

/** A published event of a known type, decoded. */
export interface CapturedEvent<T> extends PublishedEvent {
  /** The decoded event. */
  readonly event: T;
}

/** Options of {@link EventCapture.waitFor}. */
export interface WaitOptions {
  /** Gives up (`TESTING_WAIT_TIMEOUT`) after this long, in ms of real time. @default 10000 */
  readonly timeoutMs?: number;
}

/**
 * Every event published in a test app, oldest first: by modules (their outbox relays included)
 * and through {@link TestApp.bus}. One publish is one record, whatever faults did to it on the way.
 *
 * @example
 * const logged = await app.events.waitFor(TimeLogged, (e) => e.ticketId === ticketId);
 * expect(logged.envelope.source).toBe('time-tracking');
 */
export interface EventCapture {
  /** Every event published so far, not decoded (see {@link EventCapture.of}). */
  all(): readonly PublishedEvent[];
  /** The events of `type` published so far, decoded, optionally those `where` accepts. */
  of<T>(type: MessageType<T>, where?: (event: T, envelope: EventEnvelope) => boolean): CapturedEvent<T>[];
  /**
   * The first event of `type` (published already or from now on) that `where` accepts.
   * @throws RefrontError DEADLINE_EXCEEDED `TESTING_WAIT_TIMEOUT` when none comes in time.
   */
  waitFor<T>(
    type: MessageType<T>,
    where?: (event: T, envelope: EventEnvelope) => boolean,
    options?: WaitOptions,
  ): Promise<CapturedEvent<T>>;
  /** Forgets what was captured so far. */
  clear(): void;
}

type Raw = PublishedEvent;

function decoded<T>(type: MessageType<T>, raw: Raw): CapturedEvent<T> {
  return { ...raw, event: decodeEventBody(type, raw.envelope.contentType, raw.body) };
}

/** The app's capture; its lanes call `record` once per publish. */
export class EventRecorder implements EventCapture {
  private readonly recorder = new Recorder<Raw>();

  record(envelope: EventEnvelope, body: Uint8Array): void {
    this.recorder.record({ envelope, body: new Uint8Array(body) });
  }

  all(): readonly PublishedEvent[] {
    return this.recorder.all();
  }

  of<T>(type: MessageType<T>, where?: (event: T, envelope: EventEnvelope) => boolean): CapturedEvent<T>[] {
    return this.recorder
      .all()
      .filter((r) => r.envelope.type === type.$type)
      .map((r) => decoded(type, r))
      .filter((c) => where === undefined || where(c.event, c.envelope));
  }

  async waitFor<T>(
    type: MessageType<T>,
    where?: (event: T, envelope: EventEnvelope) => boolean,
    options: WaitOptions = {},
  ): Promise<CapturedEvent<T>> {
    const raw = await this.recorder.waitFor(
      (r) =>
        r.envelope.type === type.$type && (where === undefined || where(decoded(type, r).event, r.envelope)),
      `an event ${type.$type}${where ? ' that matches' : ''}`,
      options.timeoutMs ?? DEFAULT_WAIT_MS,
    );
    return decoded(type, raw);
  }

  clear(): void {
    this.recorder.clear();
  }
}
