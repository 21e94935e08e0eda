import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@refront/core';
import { FILE_DESCRIPTOR_SET } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import type { ConsoleGateway } from './contracts.js';
import { createConsole } from './createConsole.js';

const logger = createLogger({ service: 'console-test', level: 'silent' });

const OPENAPI = {
  openapi: '3.1.0',
  components: {
    schemas: {
      Ticket: {
        type: 'object',
        properties: {
          title: { type: 'string' },
          priority: { type: 'string', enum: ['low', 'high'] },
          hours: { type: 'integer' },
          tags: { type: 'array', items: { type: 'string' } },
          dueAt: { type: ['string', 'null'], format: 'date-time' },
        },
      },
    },
  },
  paths: {
    '/v1/tickets': {
      post: {
        summary: 'Open a ticket',
        security: [{ bearerAuth: [] }],
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Ticket' } } } },
      },
      get: { summary: 'List tickets' },
    },
  },
};

/** A stand-in gateway on loopback: its OpenAPI document, and POST /v1/tickets answering 201 or 400. */
async function fakeGateway() {
  const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      if (req.url === '/openapi.json') return res.end(JSON.stringify(OPENAPI));
      seen.push({ headers: req.headers, body });
      res.setHeader('content-type', 'application/json');
      if (body.includes('"bad"')) {
        res.statusCode = 400;
        return res.end(
          JSON.stringify({ error: { status: 'INVALID_ARGUMENT', reason: 'GATEWAY_BAD', message: 'bad' } }),
        );
      }
      res.statusCode = 201;
      res.end(JSON.stringify({ id: 't-1' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, [Symbol.asyncDispose]: () => new Promise<void>((r) => server.close(() => r())) };
}

async function consoleFor(gateway: ConsoleGateway) {
  const c = createConsole({
    enabled: true,
    development: true,
    port: 0,
    logger,
    contracts: { descriptors: [FILE_DESCRIPTOR_SET], gateway },
  });
  await c.start();
  const post = async (body: unknown) => {
    const res = await fetch(`${c.url}/api/explorer/call`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read loosely as the page does
    return { status: res.status, json: (await res.json()) as any };
  };
  return { url: c.url as string, post, [Symbol.asyncDispose]: () => c.close() };
}

describe('the API explorer on gateway routes', () => {
  it("lists the gateway's routes with a body skeleton made from each one's schema", async () => {
    await using gw = await fakeGateway();
    await using c = await consoleFor({ url: gw.url });
    const targets = (await (await fetch(`${c.url}/api/explorer/targets`)).json()) as {
      callable: boolean;
      routes: unknown[];
    };
    expect(targets.callable).toBe(false);
    expect(targets.routes).toEqual([
      {
        method: 'POST',
        path: '/v1/tickets',
        summary: 'Open a ticket',
        auth: true,
        body: { title: '', priority: 'low', hours: 0, tags: [''], dueAt: '1970-01-01T00:00:00.000Z' },
      },
      { method: 'GET', path: '/v1/tickets', summary: 'List tickets', auth: false },
    ]);
  });

  it('calls a route as the chosen user with a sampled traceparent whose trace id it answers', async () => {
    await using gw = await fakeGateway();
    const asked: unknown[] = [];
    await using c = await consoleFor({
      url: () => gw.url,
      token: async (who) => {
        asked.push(who);
        return 'tok-1';
      },
    });
    const { status, json } = await c.post({
      kind: 'http',
      method: 'post',
      path: '/v1/tickets',
      body: '{"title":"x"}',
      tenant: 'acme',
      user: 'ann',
      roles: 'admin, member',
    });
    expect(status).toBe(200);
    expect(json).toMatchObject({ ok: true, httpStatus: 201, response: { id: 't-1' } });
    expect(asked).toEqual([{ tenant: 'acme', user: 'ann', roles: ['admin', 'member'] }]);
    expect(gw.seen).toHaveLength(1);
    expect(gw.seen[0]?.headers.authorization).toBe('Bearer tok-1');
    expect(gw.seen[0]?.body).toBe('{"title":"x"}');
    expect(gw.seen[0]?.headers.traceparent).toMatch(new RegExp(`^00-${json.traceId}-[0-9a-f]{16}-01$`));
  });

  it("answers the gateway's typed error, and a typed error of its own when there is no token or gateway", async () => {
    await using gw = await fakeGateway();
    await using c = await consoleFor({ url: gw.url });
    const refused = await c.post({
      kind: 'http',
      method: 'POST',
      path: '/v1/tickets',
      body: '{"bad":1}',
      tenant: 'acme',
    });
    expect(refused.json).toMatchObject({
      ok: false,
      httpStatus: 400,
      error: { status: 'INVALID_ARGUMENT', reason: 'GATEWAY_BAD' },
    });
    await using noToken = await consoleFor({
      url: gw.url,
      token: async () => {
        throw new Error('dev tokens are off');
      },
    });
    const tokenless = await noToken.post({
      kind: 'http',
      method: 'POST',
      path: '/v1/tickets',
      body: '{}',
      tenant: 'acme',
    });
    expect([tokenless.status, tokenless.json.error.reason]).toEqual([503, 'CONSOLE_GATEWAY_UNAVAILABLE']);
    expect(tokenless.json.error.message).toContain('dev tokens are off');
    await using gone = await consoleFor({ url: 'http://127.0.0.1:1' });
    const unreachable = await gone.post({ kind: 'http', method: 'GET', path: '/v1/tickets', tenant: 'acme' });
    expect([unreachable.status, unreachable.json.error.reason]).toEqual([503, 'CONSOLE_GATEWAY_UNAVAILABLE']);
    const noTenant = await gone.post({ kind: 'http', method: 'GET', path: '/v1/tickets', tenant: ' ' });
    expect([noTenant.status, noTenant.json.error.reason]).toEqual([400, 'CONSOLE_BAD_REQUEST']);
    expect(gw.seen).toHaveLength(1);
  });
});
