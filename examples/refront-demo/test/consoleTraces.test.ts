/**
 * One ticket's journey is one trace across the processes of the distributed topology, on either
 * request lane: the gateway's HTTP span, its client call, tickets' server span (over mux or gRPC),
 * the event's producer span, and the consumers in the ai, reporting and notifications processes
 * (over RabbitMQ), each under its own `service.name`, all received by the console process.
 */
import { describe, expect, it } from 'vitest';
import { waitTraced } from './consoleTopologies.js';
import { startSystem } from './fixtures.js';
import { devToken, http } from './http.js';
import { freePortBlock } from './ports.js';
import { infrastructure } from './topology.js';

const infra = await infrastructure('the console trace test');

interface Span {
  readonly service: string;
  readonly kind: string;
  readonly name: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly links: readonly { readonly spanId: string }[];
  readonly attributes: Record<string, unknown>;
  readonly resource: Record<string, unknown>;
}

describe.skipIf(!infra)('traces across processes, received by the console process', () => {
  it.each(['mux', 'grpc'] as const)(
    'one trace per ticket with requests on %s',
    { timeout: 180_000 },
    async (rpc) => {
      await using system = await startSystem(`refront_traces_${rpc}`, {
        rpc,
        instances: { invoicing: 1 },
        consolePort: await freePortBlock(1),
        output: 'capture',
      });
      const { topology } = system;
      const token = await devToken(topology.gatewayUrl, 'acme', ['admin']);
      const customer = await http(topology.gatewayUrl, 'POST', '/v1/customers', {
        token,
        body: { name: 'Initech', hourlyRateMinor: 9_000, currency: 'EUR' },
      });
      const created = await http(topology.gatewayUrl, 'POST', '/v1/tickets', {
        token,
        body: { customerId: customer.body.id, title: 'Printer on fire', description: 'Smoke everywhere.' },
      });
      expect(created.status).toBe(201);
      const traceId = created.headers.get('traceparent')?.split('-')[1] ?? '';
      const consoleUrl = topology.consoleUrl as string;
      const journey = ['gateway', 'tickets', 'ai', 'reporting', 'notifications'];
      await waitTraced(consoleUrl, topology.consoleToken, traceId, journey);

      const res = await fetch(`${consoleUrl}/api/traces/${traceId}`, {
        headers: { authorization: `Bearer ${topology.consoleToken}` },
      });
      const { spans } = (await res.json()) as { spans: Span[] };
      const byId = new Map(spans.map((s) => [s.spanId, s]));
      // Each span came from its own process.
      for (const s of spans) expect(s.resource['service.name'], s.name).toBe(s.service);
      const root = spans.filter((s) => !s.parentSpanId || !byId.has(s.parentSpanId));
      expect(root.map((s) => [s.service, s.kind, s.name])).toEqual([
        ['gateway', 'server', 'POST /v1/tickets'],
      ]);
      const server = spans.find((s) => s.service === 'tickets' && s.kind === 'server');
      expect(server?.attributes['rpc.system']).toBe(rpc === 'mux' ? 'refront_mux' : 'grpc');
      expect(byId.get(server?.parentSpanId ?? '')?.service).toBe('gateway');
      const producer = spans.find(
        (s) => s.kind === 'producer' && s.name === 'create refront.tickets.v1.TicketCreated',
      );
      expect(producer?.service).toBe('tickets');
      // Every consumer of TicketCreated hangs under its producer span and links it.
      const consumers = spans.filter((s) => s.kind === 'consumer' && s.parentSpanId === producer?.spanId);
      expect(consumers.map((s) => s.service).sort()).toEqual(['ai', 'reporting']);
      for (const c of consumers) expect(c.links.map((l) => l.spanId)).toEqual([producer?.spanId]);
      console.log(
        `[traces ${rpc}] ${spans.length} spans from ${new Set(spans.map((s) => s.service)).size} processes in one trace`,
      );
    },
  );
});
