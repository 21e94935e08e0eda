import { join } from 'node:path';
import protobuf from 'protobufjs';
import { ConsoleErrors } from './consoleErrors.js';
import { packageDir } from './packageDir.js';
import { nanosToMs, spanRecord } from './spanRecord.js';
import type { Attributes, AttributeValue, SpanRecord } from './spans.js';

let requestType: protobuf.Type | undefined;

/**
 * `ExportTraceServiceRequest`, loaded once from the OTLP `.proto` files vendored in `proto/`
 * (opentelemetry-proto, Apache-2.0) by protobufjs.
 */
function exportTraceServiceRequest(): protobuf.Type {
  if (requestType) return requestType;
  const dir = join(packageDir(), 'proto');
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(dir, target);
  root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto', { keepCase: false });
  requestType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  return requestType;
}

/** OTLP's JSON mapping of a request, as parsed (loosely typed: it comes from outside). */
// biome-ignore lint/suspicious/noExplicitAny: OTLP JSON is read field by field and checked as it goes
type Json = any;

/**
 * Decodes an OTLP/HTTP trace export body (`POST /v1/traces`): protobuf for
 * `application/x-protobuf`, else OTLP/JSON. Span and trace ids come out in hex.
 *
 * @throws RefrontError INVALID_ARGUMENT `CONSOLE_BAD_OTLP` for a body that is neither.
 */
export function decodeOtlpTraces(body: Uint8Array, contentType: string | undefined): SpanRecord[] {
  const protobufBody = (contentType ?? '').toLowerCase().includes('protobuf');
  let request: Json;
  try {
    if (protobufBody) {
      const type = exportTraceServiceRequest();
      request = type.toObject(type.decode(body), {
        longs: String,
        bytes: String,
        enums: Number,
        defaults: false,
      });
    } else {
      request = JSON.parse(Buffer.from(body).toString('utf8'));
    }
  } catch (error) {
    throw ConsoleErrors.BAD_OTLP.with(
      { cause: error },
      error instanceof Error ? error.message : String(error),
    );
  }
  if (typeof request !== 'object' || request === null)
    throw ConsoleErrors.BAD_OTLP('the body is not an object');
  const id = protobufBody ? base64ToHex : (s: unknown) => (typeof s === 'string' ? s.toLowerCase() : '');
  const out: SpanRecord[] = [];
  for (const rs of arrayOf(request.resourceSpans)) {
    const resource = attributesOf(rs?.resource?.attributes);
    for (const ss of arrayOf(rs?.scopeSpans)) {
      for (const s of arrayOf(ss?.spans)) {
        const traceId = id(s?.traceId);
        const spanId = id(s?.spanId);
        if (traceId.length !== 32 || spanId.length !== 16)
          throw ConsoleErrors.BAD_OTLP('a span has no valid ids');
        out.push(
          spanRecord({
            traceId,
            spanId,
            parentSpanId: id(s.parentSpanId),
            name: String(s.name ?? ''),
            kind: Number(s.kind ?? 0),
            startMs: nanosToMs(s.startTimeUnixNano),
            endMs: nanosToMs(s.endTimeUnixNano),
            statusCode: Number(s.status?.code ?? 0),
            statusMessage: String(s.status?.message ?? ''),
            attributes: attributesOf(s.attributes),
            resource,
            events: arrayOf(s.events).map((e: Json) => ({
              name: String(e?.name ?? ''),
              timeMs: nanosToMs(e?.timeUnixNano),
              attributes: attributesOf(e?.attributes),
            })),
            links: arrayOf(s.links).map((l: Json) => ({
              traceId: id(l?.traceId),
              spanId: id(l?.spanId),
              attributes: attributesOf(l?.attributes),
            })),
          }),
        );
      }
    }
  }
  return out;
}

function arrayOf(v: unknown): Json[] {
  return Array.isArray(v) ? v : [];
}

function base64ToHex(v: unknown): string {
  return typeof v === 'string' ? Buffer.from(v, 'base64').toString('hex') : '';
}

function attributesOf(list: unknown): Attributes {
  const out: Record<string, AttributeValue> = {};
  for (const kv of arrayOf(list)) {
    if (typeof kv?.key === 'string') out[kv.key] = attributeValue(kv.value);
  }
  return out;
}

function attributeValue(v: Json): AttributeValue {
  if (v === null || typeof v !== 'object') return null;
  if ('stringValue' in v) return String(v.stringValue);
  if ('boolValue' in v) return Boolean(v.boolValue);
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('arrayValue' in v) return arrayOf(v.arrayValue?.values).map(attributeValue);
  if ('bytesValue' in v) return String(v.bytesValue);
  if ('kvlistValue' in v) return JSON.stringify(attributesOf(v.kvlistValue?.values));
  return null;
}
