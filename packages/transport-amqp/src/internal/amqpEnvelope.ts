import type { DeadLetter, EventEnvelope } from '@refront/core/transport';
import { PROTOBUF_CONTENT_TYPE, TRACEPARENT } from '@refront/core/transport';
import type { ConsumeMessage, GetMessage, MessageProperties, Options } from 'amqplib';
import { AmqpErrors } from '../errors.js';

/** AMQP header names Refront writes. Exported through {@link HEADERS} for tools reading a DLQ. */
export const HEADERS = {
  traceparent: TRACEPARENT,
  schemaVersion: 'x-refront-schema-version',
  causationId: 'x-refront-causation-id',
  tenant: 'x-refront-tenant',
  key: 'x-refront-key',
  timestampMs: 'x-refront-ts',
  attempt: 'x-refront-attempt',
  deadReason: 'x-refront-dead-reason',
  deadError: 'x-refront-dead-error',
  deadAttempts: 'x-refront-attempts',
  deadGroup: 'x-refront-group',
  deadAt: 'x-refront-dead-lettered-at',
  originalExchange: 'x-refront-original-exchange',
  originalRoutingKey: 'x-refront-original-routing-key',
  /** Set by replayUnrouted on what it republishes: finds the copies the broker parked again. */
  replayRun: 'x-refront-replay-run',
  /**
   * The broker user that published a message first (its validated `user_id`), written by the
   * consumer that forwards it to a retry queue: what comes back from there carries the consumer's
   * own `user_id`, so this header is trusted only on a message whose `user_id` is the consumer's.
   */
  publisherUser: 'x-refront-publisher-user',
} as const;

/**
 * AMQP publish properties carrying an envelope (only the headers that have a value), with
 * `userId` as `user_id` when given (the broker refuses it unless it is the connection's user).
 */
export function toPublishOptions(envelope: EventEnvelope, userId?: string): Options.Publish {
  // The ms timestamp as a double: amqplib writes an integer this large as int64 through BigInt on
  // both ends (about 1 µs per message); a double holds it exactly and decodes to a number.
  const headers: Record<string, unknown> = {
    [HEADERS.timestampMs]: { '!': 'double', value: envelope.timestamp },
  };
  if (envelope.traceparent !== undefined) headers[HEADERS.traceparent] = envelope.traceparent;
  if (envelope.schemaVersion !== 1) headers[HEADERS.schemaVersion] = envelope.schemaVersion;
  if (envelope.causationId !== undefined) headers[HEADERS.causationId] = envelope.causationId;
  if (envelope.tenant !== undefined) headers[HEADERS.tenant] = envelope.tenant;
  if (envelope.key !== undefined) headers[HEADERS.key] = envelope.key;
  const options: Options.Publish = {
    persistent: true,
    messageId: envelope.id,
    type: envelope.type,
    contentType: envelope.contentType,
    appId: envelope.source,
    timestamp: Math.floor(envelope.timestamp / 1000),
    headers,
  };
  if (envelope.correlationId !== undefined) options.correlationId = envelope.correlationId;
  if (userId !== undefined) options.userId = userId;
  return options;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

/** The envelope of a delivery, or undefined when it lacks a message id or type. */
export function fromProperties(p: MessageProperties): EventEnvelope | undefined {
  const id = str(p.messageId);
  const type = str(p.type);
  if (!id || !type) return undefined;
  const h: Record<string, unknown> = p.headers ?? {};
  const seconds = num(p.timestamp);
  return {
    id,
    type,
    schemaVersion: num(h[HEADERS.schemaVersion]) ?? 1,
    contentType: str(p.contentType) ?? PROTOBUF_CONTENT_TYPE,
    timestamp: num(h[HEADERS.timestampMs]) ?? (seconds === undefined ? 0 : seconds * 1000),
    source: str(p.appId) ?? 'unknown',
    traceparent: str(h[HEADERS.traceparent]),
    causationId: str(h[HEADERS.causationId]),
    correlationId: str(p.correlationId),
    tenant: str(h[HEADERS.tenant]),
    key: str(h[HEADERS.key]),
  };
}

/** The attempt a delivery is (1 unless it came back from a retry queue). */
export function attemptOf(p: MessageProperties): number {
  const n = num(p.headers?.[HEADERS.attempt]);
  return n !== undefined && n >= 1 ? Math.floor(n) : 1;
}

/** Publish options of a message moving to a retry queue or the DLQ: the original's plus `extra` headers. */
export function forwardOptions(
  p: MessageProperties,
  extra: Record<string, string | number>,
): Options.Publish {
  const headers: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p.headers ?? {})) {
    // The broker's own dead-letter history would grow on every round trip through a retry queue.
    if (k === 'x-death' || k.startsWith('x-first-death') || k.startsWith('x-last-death')) continue;
    headers[k] = v;
  }
  Object.assign(headers, extra);
  const options: Options.Publish = { persistent: true, headers };
  if (p.messageId !== undefined) options.messageId = p.messageId;
  if (p.type !== undefined) options.type = p.type;
  if (p.contentType !== undefined) options.contentType = p.contentType;
  if (p.appId !== undefined) options.appId = p.appId;
  if (p.correlationId !== undefined) options.correlationId = p.correlationId;
  if (p.timestamp !== undefined) options.timestamp = p.timestamp;
  return options;
}

interface XDeath {
  readonly reason?: unknown;
  readonly count?: unknown;
  readonly exchange?: unknown;
  readonly 'routing-keys'?: unknown;
}

/** Reads a message of a dead-letter queue back into a {@link DeadLetter}. */
export function deadLetterOf(group: string, msg: ConsumeMessage | GetMessage): DeadLetter {
  const p = msg.properties;
  const h: Record<string, unknown> = p.headers ?? {};
  const envelope = fromProperties(p) ?? {
    id: str(p.messageId) ?? '',
    type: str(p.type) ?? '',
    schemaVersion: 1,
    contentType: str(p.contentType) ?? '',
    timestamp: 0,
    source: str(p.appId) ?? 'unknown',
  };
  const reason = str(h[HEADERS.deadReason]);
  if (reason !== undefined) {
    return {
      group,
      envelope,
      body: new Uint8Array(msg.content),
      reason,
      error: str(h[HEADERS.deadError]) ?? '',
      attempts: num(h[HEADERS.deadAttempts]) ?? attemptOf(p),
      deadLetteredAt: num(h[HEADERS.deadAt]) ?? 0,
    };
  }
  // Dead-lettered by the broker itself: the quorum queue's delivery limit, or an operator's policy
  // (x-death lists the latest death first).
  const deaths = Array.isArray(h['x-death']) ? (h['x-death'] as XDeath[]) : [];
  const why = str(deaths[0]?.reason) ?? 'unknown';
  const dead = why === 'delivery_limit' ? AmqpErrors.DELIVERY_LIMIT : undefined;
  return {
    group,
    envelope,
    body: new Uint8Array(msg.content),
    reason: dead ? dead.reason : AmqpErrors.BROKER_DEAD_LETTERED.reason,
    error: dead ? dead.format() : AmqpErrors.BROKER_DEAD_LETTERED.format(why),
    attempts: attemptOf(p),
    deadLetteredAt: 0,
  };
}
