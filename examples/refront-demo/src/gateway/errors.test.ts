import { RefrontError } from '@refront/core';
import { DataReason } from '@refront/data';
import { describe, expect, it } from 'vitest';
import { toHttpError } from './errors.js';
import { startGateway } from './testing/fixture.js';

const TRACE_ID = /^[0-9a-f]{32}$/;

/** Well-formed ids: one the fakes do not know (404), one for calls that never get that far. */
const UNKNOWN_ID = '8a0f3c52-3d4e-4b7a-9c1d-2e5f6a7b8c90';
const SOME_ID = '0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a';

describe('gateway: validation', () => {
  it('answers 400 listing every field problem of the body at once', async () => {
    await using gw = await startGateway();
    const res = await gw.call('POST', '/v1/customers', {
      token: await gw.tokenFor('acme'),
      body: { name: '', hourlyRateMinor: -5, currency: 'euro', tenant: 'other' },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({
      status: 'INVALID_ARGUMENT',
      reason: 'GATEWAY_VALIDATION_FAILED',
      traceId: expect.stringMatching(TRACE_ID),
    });
    expect(res.json.error.fieldViolations).toEqual(
      expect.arrayContaining([
        { field: 'name', description: expect.stringContaining('fewer than 1') },
        { field: 'hourlyRateMinor', description: 'must be >= 0' },
        { field: 'currency', description: 'must be an ISO 4217 code of three capital letters, e.g. EUR' },
        { field: 'tenant', description: 'is not a known field' },
      ]),
    );
    expect(res.json.error.fieldViolations).toHaveLength(4);
    expect(gw.fakes.control.seen).toEqual([]);
  });

  it('reports missing fields, wrong types without coercion, and bad enums', async () => {
    await using gw = await startGateway();
    const res = await gw.call('POST', '/v1/tickets', {
      token: await gw.tokenFor('acme'),
      body: { title: 42, priority: 'asap' },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.fieldViolations).toEqual([
      { field: 'customerId', description: 'is required' },
      { field: 'title', description: 'must be string' },
      { field: 'priority', description: 'must be one of low, normal, high, urgent' },
    ]);
    const minutes = await gw.call('POST', `/v1/tickets/${SOME_ID}/time-entries`, {
      token: await gw.tokenFor('acme'),
      body: { minutes: '30', workDate: '2025-13-01' },
    });
    expect(minutes.json.error.fieldViolations).toEqual([
      { field: 'minutes', description: 'must be integer' },
      { field: 'workDate', description: 'must be a date as YYYY-MM-DD' },
    ]);
  });

  it('checks path, query and body together', async () => {
    await using gw = await startGateway();
    const token = await gw.tokenFor('acme');
    const res = await gw.call('PATCH', `/v1/tickets/${'x'.repeat(129)}`, { token, body: {} });
    expect(res.status).toBe(400);
    expect(res.json.error.fieldViolations).toEqual([
      { field: 'id', description: 'must be a UUID, chosen by the service' },
      { field: 'body', description: 'must set at least one field' },
    ]);
    // An id that is not a UUID is refused here, named as the API names it, before any call.
    const notUuid = await gw.call('GET', '/v1/tickets/t-1', { token });
    expect(notUuid.status).toBe(400);
    expect(notUuid.json.error.fieldViolations).toEqual([
      { field: 'id', description: 'must be a UUID, chosen by the service' },
    ]);
    const badFilter = await gw.call('GET', '/v1/time-entries?ticketId=nope', { token });
    expect(badFilter.json.error.fieldViolations).toEqual([
      { field: 'ticketId', description: 'must be a UUID, chosen by the service' },
    ]);
    const query = await gw.call('GET', '/v1/tickets?pageSize=500&status=closed&sort=asc', { token });
    expect(query.json.error.fieldViolations).toEqual(
      expect.arrayContaining([
        { field: 'pageSize', description: 'must be <= 100' },
        { field: 'status', description: 'must be one of open, resolved' },
        { field: 'sort', description: 'is not a known field' },
      ]),
    );
    expect(query.json.error.fieldViolations).toHaveLength(3);
    const huge = await gw.call('GET', `/v1/tickets/${'x'.repeat(600)}`, { token });
    expect(huge.status).toBe(414);
    expect(huge.json.error).toMatchObject({ status: 'INVALID_ARGUMENT', reason: 'GATEWAY_BAD_REQUEST' });
    const notNumber = await gw.call('GET', '/v1/invoices?pageSize=ten', { token });
    expect(notNumber.json.error.fieldViolations).toEqual([
      { field: 'pageSize', description: 'must be integer' },
    ]);
  });

  it('accepts a resolve without a body but not a body that is not an object', async () => {
    await using gw = await startGateway();
    const token = await gw.tokenFor('acme');
    const array = await gw.call('POST', `/v1/tickets/${SOME_ID}/resolve`, { token, body: [1] });
    expect(array.json.error.fieldViolations).toEqual([
      { field: 'body', description: 'must be a JSON object' },
    ]);
    const none = await gw.call('POST', `/v1/tickets/${UNKNOWN_ID}/resolve`, { token });
    expect(none.status).toBe(404);
  });

  it('answers malformed JSON, a non-JSON body and an oversized body in the error shape', async () => {
    await using gw = await startGateway({ bodyLimitBytes: 1_024 });
    const token = await gw.tokenFor('acme');
    const malformed = await gw.call('POST', '/v1/customers', { token, body: '{"name": "x",' });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toMatchObject({
      status: 'INVALID_ARGUMENT',
      reason: 'GATEWAY_MALFORMED_JSON',
    });
    const text = await gw.call('POST', '/v1/customers', {
      token,
      body: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(text.status).toBe(415);
    expect(text.json.error.reason).toBe('GATEWAY_UNSUPPORTED_MEDIA_TYPE');
    const big = await gw.call('POST', '/v1/customers', {
      token,
      body: { name: 'x'.repeat(2_000), hourlyRateMinor: 1, currency: 'EUR' },
    });
    expect(big.status).toBe(413);
    expect(big.json.error.reason).toBe('GATEWAY_BODY_TOO_LARGE');
    const poisoned = await gw.call('POST', '/v1/customers', {
      token,
      body: '{"name":"x","hourlyRateMinor":1,"currency":"EUR","__proto__":{"admin":true}}',
    });
    expect(poisoned.status).toBe(400);
    expect(poisoned.json.error.status).toBe('INVALID_ARGUMENT');
  });

  it('passes the service field violations through', async () => {
    await using gw = await startGateway();
    const res = await gw.call('POST', '/v1/customers', {
      token: await gw.tokenFor('acme'),
      body: { name: '   ', hourlyRateMinor: 1, currency: 'EUR' },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({
      reason: 'FAKE_INVALID_CUSTOMER',
      fieldViolations: [{ field: 'name', description: 'must not be blank' }],
    });
  });
});

describe('gateway: error mapping', () => {
  it('maps NOT_FOUND to 404 and FAILED_PRECONDITION to 409 with the service reason', async () => {
    await using gw = await startGateway();
    const token = await gw.tokenFor('acme');
    const missing = await gw.call('GET', `/v1/tickets/${UNKNOWN_ID}`, { token });
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatchObject({ status: 'NOT_FOUND', reason: 'FAKE_TICKET_NOT_FOUND' });

    const c = await gw.call('POST', '/v1/customers', {
      token,
      body: { name: 'C', hourlyRateMinor: 1, currency: 'EUR' },
    });
    const t = await gw.call('POST', '/v1/tickets', { token, body: { customerId: c.json.id, title: 'T' } });
    await gw.call('POST', `/v1/tickets/${t.json.id}/resolve`, { token });
    const twice = await gw.call('POST', `/v1/tickets/${t.json.id}/resolve`, { token });
    expect(twice.status).toBe(409);
    expect(twice.json.error).toMatchObject({ status: 'FAILED_PRECONDITION', reason: 'FAKE_TICKET_RESOLVED' });
    const logOnResolved = await gw.call('POST', `/v1/tickets/${t.json.id}/time-entries`, {
      token,
      body: { minutes: 5 },
    });
    expect(logOnResolved.status).toBe(409);
    const nothingToBill = await gw.call('POST', '/v1/billing-runs', {
      token: await gw.tokenFor('acme', ['admin']),
      body: { customerId: c.json.id, period: '2024-01' },
    });
    expect(nothingToBill.status).toBe(409);
    expect(nothingToBill.json.error.reason).toBe('FAKE_NOTHING_TO_BILL');
  });

  it('maps a reused idempotency key to 422 and one whose first request still runs to 409', () => {
    const reused = new RefrontError('FAILED_PRECONDITION', DataReason.IDEMPOTENCY_KEY_REUSED, 'reused');
    const running = new RefrontError('ABORTED', DataReason.IDEMPOTENCY_IN_PROGRESS, 'running');
    const other = new RefrontError('INVALID_ARGUMENT', 'TICKETS_INVALID_TICKET', 'invalid');
    expect([reused, running, other].map((e) => toHttpError(e, 't').statusCode)).toEqual([422, 409, 400]);
  });

  it('maps a stopped service to 503 and a passed deadline to 504', async () => {
    await using gw = await startGateway({ requestTimeoutMs: 300 });
    const token = await gw.tokenFor('acme');
    gw.fakes.control.hang.add('GetInvoice');
    const slow = await gw.call('GET', `/v1/invoices/${SOME_ID}`, { token });
    expect(slow.status).toBe(504);
    expect(slow.json.error).toMatchObject({ status: 'DEADLINE_EXCEEDED' });

    await gw.fakes.stop('invoicing');
    const down = await gw.call('GET', '/v1/invoices', { token });
    expect(down.status).toBe(503);
    expect(down.json.error).toMatchObject({ status: 'UNAVAILABLE', reason: 'CORE_NO_SERVER' });
    expect((await gw.call('GET', '/v1/customers', { token })).status).toBe(200);
  });

  it('cancels the service call when the HTTP client goes away', async () => {
    await using gw = await startGateway();
    gw.fakes.control.hang.add('GetTicket');
    const controller = new AbortController();
    const pending = fetch(`${gw.url}/v1/tickets/${SOME_ID}`, {
      headers: { authorization: `Bearer ${await gw.tokenFor('acme')}` },
      signal: controller.signal,
    }).catch((e: unknown) => e);
    await expect.poll(() => gw.fakes.control.seen.length).toBe(1);
    controller.abort();
    await pending;
    await expect.poll(() => gw.fakes.control.aborted).toEqual(['GetTicket']);
  });

  it('answers an unexpected failure with 500 and no internals', async () => {
    await using gw = await startGateway();
    gw.fakes.control.crash.add('ListCustomers');
    const res = await gw.call('GET', '/v1/customers', { token: await gw.tokenFor('acme') });
    expect(res.status).toBe(500);
    expect(res.json.error.status).toBe('INTERNAL');
    expect(res.json.error.message).toBe(`internal error (trace ${res.json.error.traceId})`);
    expect(JSON.stringify(res.json)).not.toContain('hunter2');
  });

  it('answers an unknown route with 404 in the same shape', async () => {
    await using gw = await startGateway();
    const res = await gw.call('GET', '/v1/nothing-here?x=1');
    expect(res.status).toBe(404);
    expect(res.json.error).toEqual({
      status: 'NOT_FOUND',
      reason: 'GATEWAY_ROUTE_NOT_FOUND',
      message: 'no route for GET /v1/nothing-here',
      traceId: expect.stringMatching(TRACE_ID),
    });
  });
});

describe('gateway: tenant isolation', () => {
  it("never lets tenant B read or change tenant A's records", async () => {
    await using gw = await startGateway();
    const a = await gw.tokenFor('tenant-a');
    const b = await gw.tokenFor('tenant-b');
    const c = await gw.call('POST', '/v1/customers', {
      token: a,
      body: { name: 'A', hourlyRateMinor: 1, currency: 'EUR' },
    });
    const t = await gw.call('POST', '/v1/tickets', {
      token: a,
      body: { customerId: c.json.id, title: 'secret' },
    });
    expect((await gw.call('GET', `/v1/tickets/${t.json.id}`, { token: a })).status).toBe(200);

    expect((await gw.call('GET', `/v1/tickets/${t.json.id}`, { token: b })).status).toBe(404);
    expect((await gw.call('GET', `/v1/customers/${c.json.id}`, { token: b })).status).toBe(404);
    expect(
      (await gw.call('PATCH', `/v1/tickets/${t.json.id}`, { token: b, body: { title: 'x' } })).status,
    ).toBe(404);
    expect((await gw.call('POST', `/v1/tickets/${t.json.id}/resolve`, { token: b })).status).toBe(404);
    expect((await gw.call('GET', '/v1/tickets', { token: b })).json.tickets).toEqual([]);
    // The tenant comes from the token only: a tenant header is ignored.
    const spoofed = await gw.call('GET', `/v1/tickets/${t.json.id}`, {
      token: b,
      headers: { 'x-refront-tenant': 'tenant-a' },
    });
    expect(spoofed.status).toBe(404);
    expect(gw.fakes.control.seen.filter((s) => s.tenant === 'tenant-a').map((s) => s.method)).toEqual([
      'CreateCustomer',
      'CreateTicket',
      'GetTicket',
    ]);
  });
});
