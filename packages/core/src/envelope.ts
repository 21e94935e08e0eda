import { randomUUID } from 'node:crypto';
import { currentContext } from './context.js';
import type { DeepPartial, MessageType } from './contracts.js';
import { METADATA_CORRELATION_ID, METADATA_EVENT_ID } from './EventDispatcher.js';
import { encodeMessage } from './encodeMessage.js';
import { type EventEnvelope, PROTOBUF_CONTENT_TYPE, type PublishOptions } from './events.js';
import { formatTraceparent } from './trace.js';

/**
 * Builds the envelope and body of an event about to be published: ids, the publishing span's
 * traceparent, causation and correlation from the handler being run (if any), and the tenant.
 * Shared by every event transport and the outbox.
 *
 * @example
 * const { envelope, body } = encodeEvent('tickets', TicketCreated, { ticketId }, {});
 */
export function encodeEvent<T>(
  source: string,
  type: MessageType<T>,
  event: DeepPartial<T>,
  options: PublishOptions = {},
): { envelope: EventEnvelope; body: Uint8Array } {
  const ctx = currentContext();
  const body = encodeMessage(type, type.fromPartial(event));
  const sc = ctx?.spanContext;
  const envelope: EventEnvelope = {
    id: options.id ?? randomUUID(),
    type: type.$type,
    schemaVersion: options.schemaVersion ?? 1,
    contentType: PROTOBUF_CONTENT_TYPE,
    timestamp: Date.now(),
    source,
    traceparent: sc ? formatTraceparent(sc) : undefined,
    causationId: options.causationId ?? ctx?.metadata[METADATA_EVENT_ID],
    correlationId: options.correlationId ?? ctx?.metadata[METADATA_CORRELATION_ID],
    tenant: options.tenant ?? ctx?.tenant,
    key: options.key,
  };
  return { envelope, body };
}
