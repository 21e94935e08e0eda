import { type Call, type Channel, isRefrontError } from '@refront/core';
import type { ClientMethod } from '@refront/core/transport';
import { describe, expect, it } from 'vitest';
import { parseDns, parseEndpoints } from './endpoints.js';
import { createRoutingChannel, demoServiceOf } from './routingChannel.js';

describe('discovery configuration', () => {
  it('parses REFRONT_ENDPOINTS with several instances per service', () => {
    expect(parseEndpoints('tickets=127.0.0.1:50051; invoicing=10.0.0.5:50061,10.0.0.6:50062')).toEqual({
      tickets: [{ address: '127.0.0.1', port: 50051 }],
      invoicing: [
        { address: '10.0.0.5', port: 50061 },
        { address: '10.0.0.6', port: 50062 },
      ],
    });
  });

  it('parses REFRONT_DNS for headless services', () => {
    expect(parseDns('tickets=tickets.refront.svc.cluster.local:50051')).toEqual({
      tickets: { name: 'tickets.refront.svc.cluster.local', port: 50051 },
    });
  });

  it.each(['tickets', 'tickets=host', 'tickets=host:99999', '=1.2.3.4:5'])(
    'refuses %s with a typed error',
    (value) => {
      let error: unknown;
      try {
        parseEndpoints(value);
      } catch (e) {
        error = e;
      }
      expect(isRefrontError(error) && error.reason).toBe('PLATFORM_BAD_ENDPOINTS');
    },
  );
});

describe('routing channel', () => {
  it('maps each contract to its service and opens one channel per service, once', async () => {
    const opened: string[] = [];
    const channel = createRoutingChannel(demoServiceOf, (service) => {
      opened.push(service);
      return { unary: async () => service } as unknown as Channel;
    });
    const call = (contract: string) =>
      channel.unary({ info: { service: contract } } as ClientMethod<unknown, unknown>, {} as Call<unknown>);
    expect(await call('refront.tickets.v1.TicketsService')).toBe('tickets');
    expect(await call('refront.timetracking.v1.TimeTrackingService')).toBe('time-tracking');
    expect(await call('refront.tickets.v1.TicketsService')).toBe('tickets');
    expect(opened).toEqual(['tickets', 'time-tracking']);
  });
});
