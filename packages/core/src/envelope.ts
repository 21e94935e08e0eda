import { randomUUID } from 'node:crypto';
import { type SpanContext, SpanKind } from '@opentelemetry/api';
import { currentContext } from './context.js';
import type { DeepPartial, MessageType } from './contracts.js';
import { METADATA_CORRELATION_ID, METADATA_EVENT_ID } from './EventDispatcher.js';
import { encodeMessage } from './encodeMessage.js';
import { type EventEnvelope, PROTOBUF_CONTENT_TYPE, type PublishOptions } from './events.js';
import { formatTraceparent, startSpan, tracingIsNoop } from './trace.js';

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
  const id = options.id ?? randomUUID();
  const tenant = options.tenant ?? ctx?.tenant;
  const sc = producerSpan(ctx?.spanContext, type.$type, id, tenant, options.key);
  const envelope: EventEnvelope = {
    id,
    type: type.$type,
    schemaVersion: options.schemaVersion ?? 1,
    contentType: PROTOBUF_CONTENT_TYPE,
    timestamp: Date.now(),
    source,
    traceparent: sc ? formatTraceparent(sc) : undefined,
    causationId: options.causationId ?? ctx?.metadata[METADATA_EVENT_ID],
    correlationId: options.correlationId ?? ctx?.metadata[METADATA_CORRELATION_ID],
    tenant,
    key: options.key,
  };
  return { envelope, body };
}

/**
 * The context an event carries: a producer span (`create <type>`, ended at once) under the
 * publishing span, so each consumer's span is the child of the event's own span, in the
 * publisher's service, and a trace shows who published what. Without an SDK, the publishing
 * span's context as it is (no span would be recorded anyway).
 */
function producerSpan(
  parent: SpanContext | undefined,
  type: string,
  id: string,
  tenant: string | undefined,
  key: string | undefined,
): SpanContext | undefined {
  if (!parent || tracingIsNoop()) return parent;
  const span = startSpan(`create ${type}`, {
    kind: SpanKind.PRODUCER,
    parent,
    attributes: {
      'messaging.system': 'refront',
      'messaging.operation.type': 'create',
      'messaging.message.id': id,
      'refront.event.type': type,
      ...(tenant ? { 'refront.tenant': tenant } : {}),
      ...(key ? { 'refront.event.key': key } : {}),
    },
  });
  span.end();
  return span.spanContext();
}
