import { createMetricsRegistry, histogramOf } from '@refront/core';
import { describe, expect, it } from 'vitest';
import { redRows } from './red.js';

describe('redRows', () => {
  it("reads calls, errors, mean and p95 per method and per consumer group from a registry's exposition", async () => {
    const registry = createMetricsRegistry({ defaultLabels: { service: 'tickets' } });
    const rpc = histogramOf(registry, 'refront_rpc_server_duration_seconds', 'RPC', [
      'rpc_service',
      'rpc_method',
      'status',
    ]);
    const labels = { rpc_service: 'refront.tickets.v1.TicketsService', rpc_method: 'CreateTicket' };
    for (let i = 0; i < 19; i++) rpc.observe({ ...labels, status: 'OK' }, 0.002);
    rpc.observe({ ...labels, status: 'INVALID_ARGUMENT' }, 0.2);
    const ev = histogramOf(registry, 'refront_event_handler_duration_seconds', 'Events', [
      'group',
      'event_type',
      'status',
    ]);
    const event = { group: 'ai', event_type: 'refront.tickets.v1.TicketCreated' };
    ev.observe({ ...event, status: 'ack' }, 0.01);
    ev.observe({ ...event, status: 'retry' }, 0.01);
    ev.observe({ ...event, status: 'dead' }, 0.01);
    ev.observe({ ...event, status: 'ack' }, 0.01);
    const rows = redRows(await registry.metrics());
    expect(rows).toHaveLength(2);
    const [handled, call] = rows;
    expect(handled).toMatchObject({
      kind: 'event',
      scope: 'ai',
      name: 'refront.tickets.v1.TicketCreated',
      // ack is a success; retry and dead are errors.
      count: 4,
      errors: 2,
    });
    expect(call).toMatchObject({
      kind: 'rpc',
      scope: labels.rpc_service,
      name: 'CreateTicket',
      count: 20,
      errors: 1,
    });
    expect(call?.meanMs).toBeCloseTo((19 * 2 + 200) / 20, 5);
    // 19 of 20 runs took 2 ms: the 95th percentile is in the bucket that holds 2 ms.
    expect(call?.p95Ms).toBeGreaterThanOrEqual(2);
    expect(call?.p95Ms).toBeLessThan(200);
  });
});
