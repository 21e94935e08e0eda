/**
 * The Idempotency-Key header from outside: the whole platform (real services, their database)
 * behind the gateway, driven over HTTP as any client does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, startPlatform } from '../src/platform/startPlatform.js';

let platform: Platform;
let token: string;

// biome-ignore lint/suspicious/noExplicitAny: the test reads the public JSON as an outside client
type Json = any;

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${platform.gatewayUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  platform = await startPlatform({ gatewayPort: 0, opsPort: false, handleSignals: false });
  token = (await call('POST', '/v1/dev/tokens', { tenant: 'acme', user: 'ann@acme.example' })).json.token;
});
afterAll(() => platform?.stop());

async function ticketsOf(customerId: string): Promise<Json[]> {
  return (await call('GET', `/v1/tickets?customerId=${customerId}&pageSize=100`)).json.tickets;
}

describe('gateway: Idempotency-Key', () => {
  it('answers a POST retried with the same key with the first 201 body, and stores one ticket', async () => {
    const customer = (
      await call('POST', '/v1/customers', { name: 'Globex', hourlyRateMinor: 9_000, currency: 'EUR' })
    ).json;
    const body = { customerId: customer.id, title: 'Printer on fire' };
    const key = { 'idempotency-key': `"create-${customer.id}"` };
    const first = await call('POST', '/v1/tickets', body, key);
    const retried = await call('POST', '/v1/tickets', body, key);
    expect(first.status).toBe(201);
    expect(retried).toEqual(first);
    expect((await ticketsOf(customer.id)).map((t) => t.id)).toEqual([first.json.id]);

    const reused = await call('POST', '/v1/tickets', { ...body, title: 'Another' }, key);
    expect(reused.status).toBe(422);
    expect(reused.json.error.reason).toBe('DATA_IDEMPOTENCY_KEY_REUSED');
    expect(await ticketsOf(customer.id)).toHaveLength(1);

    // Without the header every POST is a new request.
    await call('POST', '/v1/tickets', body);
    await call('POST', '/v1/tickets', body);
    expect(await ticketsOf(customer.id)).toHaveLength(3);
  });

  it('keeps keys apart per user and refuses a malformed key with 400', async () => {
    const customer = (
      await call('POST', '/v1/customers', { name: 'Initech', hourlyRateMinor: 1, currency: 'EUR' })
    ).json;
    const body = { customerId: customer.id, title: 'Same key, other user' };
    const key = { 'idempotency-key': `shared-${customer.id}` };
    const mine = await call('POST', '/v1/tickets', body, key);
    const other = (await call('POST', '/v1/dev/tokens', { tenant: 'acme', user: 'bob@acme.example' })).json
      .token;
    const theirs = await call('POST', '/v1/tickets', body, { ...key, authorization: `Bearer ${other}` });
    expect([mine.status, theirs.status]).toEqual([201, 201]);
    expect(theirs.json.id).not.toBe(mine.json.id);

    for (const bad of ['x'.repeat(256), 'ü']) {
      const refused = await call('POST', '/v1/tickets', body, { 'idempotency-key': bad });
      expect(refused.status).toBe(400);
      expect(refused.json.error.reason).toBe('GATEWAY_INVALID_IDEMPOTENCY_KEY');
    }
    expect(await ticketsOf(customer.id)).toHaveLength(2);
  });
});
