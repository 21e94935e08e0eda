import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInProcessNetwork, createLogger, createMetricsRegistry, RefrontError } from '@refront/core';
import { EchoServiceDefinition, FILE_DESCRIPTOR_SET } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import type { ConsoleContractsOptions } from './contracts.js';
import { createConsole } from './createConsole.js';
import { flowOf } from './flow.js';
import type { TraceSpan } from './TraceStore.js';

const logger = createLogger({ service: 'console-test', level: 'silent' });

/** A console over the test contracts, an Echo server on an in-process network, and its token. */
async function setup(token?: string, extra: Pick<ConsoleContractsOptions, 'explorer' | 'gateway'> = {}) {
  const network = createInProcessNetwork();
  const server = network.createServer({
    service: 'testing',
    logger,
    metrics: createMetricsRegistry({ processMetrics: false }),
  });
  const seen: unknown[] = [];
  server.add(EchoServiceDefinition, {
    async echo(request, ctx) {
      seen.push({ message: request.message, tenant: ctx.tenant, caller: ctx.caller });
      return { message: request.message, payload: request.payload, seen: {} };
    },
    async sleep() {
      return { aborted: false };
    },
    async fail(request) {
      throw new RefrontError(request.status as 'NOT_FOUND', request.reason, request.message);
    },
  });
  await server.start();
  const contracts: ConsoleContractsOptions = {
    descriptors: [FILE_DESCRIPTOR_SET],
    channel: network.channel(),
    services: [
      {
        name: 'testing',
        publishes: ['refront.testing.v1.ThingHappened'],
        consumes: [],
        callers: { gateway: '*' },
      },
    ],
    ...extra,
  };
  const console = createConsole({
    enabled: true,
    port: 0,
    logger,
    contracts,
    ...(token ? { token, development: false } : { development: true }),
  });
  await console.start();
  const api = async (path: string, body?: unknown, auth = token) => {
    const res = await fetch(`${console.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(auth ? { authorization: `Bearer ${auth}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read loosely as the page does
    return { status: res.status, json: (await res.json()) as any };
  };
  return {
    api,
    seen,
    [Symbol.asyncDispose]: async () => {
      await console.close();
      await server.close();
    },
  };
}

describe('the console contract routes', () => {
  it("lists each service's methods from the descriptors beside the events and callers it declares", async () => {
    await using s = await setup();
    const { json } = await s.api('/api/contracts');
    const testing = json.services.find((x: { name: string }) => x.name === 'testing');
    expect(testing.methods.map((m: { name: string }) => m.name)).toEqual(['Echo', 'Sleep', 'Fail']);
    expect(testing.publishes).toEqual(['refront.testing.v1.ThingHappened']);
    expect(testing.callers).toEqual({ gateway: '*' });
    const targets = await s.api('/api/explorer/targets');
    expect(targets.json.callable).toBe(true);
    expect(targets.json.methods.find((m: { name: string }) => m.name === 'Echo').body).toEqual({
      message: '',
      payload: '',
    });
  });

  it('calls a method as the chosen tenant and answers the response with the trace id of the call', async () => {
    await using s = await setup();
    const { status, json } = await s.api('/api/explorer/call', {
      kind: 'rpc',
      target: 'refront.testing.v1.EchoService/Echo',
      body: '{"message":"hi"}',
      tenant: 'acme',
    });
    expect(status).toBe(200);
    expect(json).toMatchObject({ ok: true, httpStatus: 200, response: { message: 'hi', payload: '' } });
    expect(json.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(s.seen).toEqual([{ message: 'hi', tenant: 'acme', caller: 'console' }]);
  });

  it("answers a failed call's typed error: status, reason, message and HTTP status", async () => {
    await using s = await setup();
    const { status, json } = await s.api('/api/explorer/call', {
      target: 'testing/Fail',
      body: '{"status":"NOT_FOUND","reason":"ECHO_GONE","message":"gone"}',
      tenant: 'acme',
    });
    expect(status).toBe(200);
    expect(json).toMatchObject({
      ok: false,
      httpStatus: 404,
      error: { status: 'NOT_FOUND', reason: 'ECHO_GONE', message: 'gone' },
    });
  });

  it('refuses invalid JSON and a body that does not fit the message with 400 INVALID_ARGUMENT, sending nothing', async () => {
    await using s = await setup();
    for (const body of ['{"message":', '{"messag":"typo"}', '{"message":7}']) {
      const { status, json } = await s.api('/api/explorer/call', {
        target: 'testing/Echo',
        body,
        tenant: 'acme',
      });
      expect(status).toBe(400);
      expect(json.error).toMatchObject({ status: 'INVALID_ARGUMENT', reason: 'VALIDATE_INVALID_JSON' });
    }
    const unknown = await s.api('/api/explorer/call', { target: 'testing/Nope', body: '{}', tenant: 'acme' });
    expect([unknown.status, unknown.json.error.reason]).toEqual([404, 'VALIDATE_CONTRACT_NOT_FOUND']);
    expect(s.seen).toEqual([]);
  });

  it('needs the console token outside development', async () => {
    await using s = await setup('s3cret');
    const call = { target: 'testing/Echo', body: '{}', tenant: 'acme' };
    expect((await s.api('/api/explorer/call', call, '')).status).toBe(401);
    expect((await s.api('/api/explorer/call', call, 'wrong')).status).toBe(401);
    expect((await s.api('/api/explorer/call', call)).status).toBe(200);
    expect(s.seen).toHaveLength(1);
  });

  it('with the explorer off, lists every target but refuses every call with 403 CONSOLE_EXPLORER_OFF, sending nothing', async () => {
    // A gateway that answers its (empty) OpenAPI document and counts every other request.
    const gatewayCalls: string[] = [];
    const gateway = createServer((req, res) => {
      if (req.url !== '/openapi.json') gatewayCalls.push(`${req.method} ${req.url}`);
      res.setHeader('content-type', 'application/json').end('{}');
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    await using _ = { [Symbol.asyncDispose]: () => new Promise<void>((r) => gateway.close(() => r())) };
    await using s = await setup(undefined, {
      explorer: false,
      gateway: {
        url: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`,
        token: async ({ tenant }) => {
          gatewayCalls.push(`token for ${tenant}`);
          return 'never';
        },
      },
    });
    const targets = await s.api('/api/explorer/targets');
    expect(targets.json).toMatchObject({ explorer: false, callable: false });
    expect(targets.json.methods.map((m: { name: string }) => m.name)).toContain('Echo');
    for (const call of [
      { kind: 'rpc', target: 'testing/Echo', body: '{"message":"hi"}', tenant: 'acme' },
      { kind: 'http', method: 'POST', path: '/v1/tickets', body: '{}', tenant: 'acme' },
      // Refused before it is read: not even a broken body gets further.
      { kind: 'rpc', target: 'testing/Echo', body: '{"message":', tenant: '' },
    ]) {
      const { status, json } = await s.api('/api/explorer/call', call);
      expect(status).toBe(403);
      expect(json.error).toMatchObject({ status: 'PERMISSION_DENIED', reason: 'CONSOLE_EXPLORER_OFF' });
    }
    expect(s.seen).toEqual([]);
    expect(gatewayCalls).toEqual([]);
    // The rest of the contracts API still answers.
    expect((await s.api('/api/contracts')).status).toBe(200);
  });
});

function span(
  spanId: string,
  service: string,
  kind: TraceSpan['kind'],
  parentSpanId?: string,
  extra: { error?: boolean; type?: string } = {},
): TraceSpan {
  return {
    traceId: 't',
    spanId,
    ...(parentSpanId ? { parentSpanId } : {}),
    name: spanId,
    kind,
    service,
    startMs: 0,
    durationMs: 1,
    status: { code: extra.error ? 'error' : 'unset', message: '' },
    attributes: extra.type ? { 'refront.event.type': extra.type } : {},
    resource: {},
    links: [],
    events: [],
  } as TraceSpan;
}

describe('flowOf', () => {
  it('counts observed calls and events with their errors beside the declared ones', () => {
    const trace = [
      span('http', 'gateway', 'server'),
      span('client', 'gateway', 'client', 'http'),
      span('create', 'tickets', 'server', 'client'),
      span('ai', 'ai', 'consumer', 'create', { type: 'T.Created', error: true }),
      span('rep', 'reporting', 'consumer', 'create', { type: 'T.Created' }),
    ];
    const flow = flowOf(
      [
        { name: 'tickets', publishes: ['T.Created'], consumes: [], callers: { gateway: '*' } },
        { name: 'ai', publishes: [], consumes: ['T.Created'] },
        { name: 'notifications', publishes: [], consumes: ['T.Created'] },
      ],
      [trace, trace],
    );
    expect(flow.calls).toEqual([{ from: 'gateway', to: 'tickets', allowed: '*', count: 2, errors: 0 }]);
    expect(flow.events).toEqual([
      {
        type: 'T.Created',
        publishers: ['tickets'],
        consumers: [
          { group: 'ai', declared: true, count: 2, errors: 2 },
          { group: 'notifications', declared: true, count: 0, errors: 0 },
          { group: 'reporting', declared: false, count: 2, errors: 0 },
        ],
      },
    ]);
    expect(flow.services).toEqual(['ai', 'gateway', 'notifications', 'reporting', 'tickets']);
  });
});
