import { describe, expect, it } from 'vitest';
import { startGateway } from './testing/fixture.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('gateway: the public API over the services', () => {
  it('walks customers, tickets, time and billing with camelCase JSON, lowercase enums and minor units', async () => {
    await using gw = await startGateway();
    const token = await gw.tokenFor('acme');

    const created = await gw.call('POST', '/v1/customers', {
      token,
      body: { name: 'Globex', hourlyRateMinor: 9_000, currency: 'EUR' },
    });
    expect(created.status).toBe(201);
    const customer = created.json;
    expect(customer).toEqual({
      id: expect.any(String),
      name: 'Globex',
      hourlyRateMinor: 9_000,
      currency: 'EUR',
      createdAt: expect.stringMatching(ISO),
    });
    expect(created.headers.get('location')).toBe(`/v1/customers/${customer.id}`);
    expect((await gw.call('GET', `/v1/customers/${customer.id}`, { token })).json).toEqual(customer);
    const customers = await gw.call('GET', '/v1/customers', { token });
    expect(customers.json).toEqual({ customers: [customer], nextPageToken: null });

    const t1 = await gw.call('POST', '/v1/tickets', {
      token,
      body: { customerId: customer.id, title: 'Printer on fire', priority: 'urgent' },
    });
    expect(t1.status).toBe(201);
    expect(t1.json).toMatchObject({
      customerId: customer.id,
      title: 'Printer on fire',
      description: '',
      status: 'open',
      priority: 'urgent',
      category: null,
      summary: null,
      resolution: null,
      resolvedAt: null,
      version: 1,
    });
    const t2 = await gw.call('POST', '/v1/tickets', {
      token,
      body: { customerId: customer.id, title: 'Second' },
    });
    expect(t2.json.priority).toBe('normal');

    const patched = await gw.call('PATCH', `/v1/tickets/${t1.json.id}`, { token, body: { priority: 'low' } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ priority: 'low', title: 'Printer on fire', version: 2 });

    const firstPage = await gw.call('GET', '/v1/tickets?pageSize=1', { token });
    expect(firstPage.json.tickets).toHaveLength(1);
    expect(firstPage.json.nextPageToken).toEqual(expect.any(String));
    const secondPage = await gw.call(
      'GET',
      `/v1/tickets?pageSize=1&pageToken=${firstPage.json.nextPageToken}`,
      {
        token,
      },
    );
    expect(secondPage.json.tickets).toHaveLength(1);
    expect(secondPage.json.nextPageToken).toBeNull();
    expect(new Set([firstPage.json.tickets[0].id, secondPage.json.tickets[0].id])).toEqual(
      new Set([t1.json.id, t2.json.id]),
    );

    const logged = await gw.call('POST', `/v1/tickets/${t1.json.id}/time-entries`, {
      token,
      body: { minutes: 90, description: 'replaced toner', workDate: '2025-03-14' },
    });
    expect(logged.status).toBe(201);
    expect(logged.json).toMatchObject({ ticketId: t1.json.id, customerId: customer.id, minutes: 90 });
    const entries = await gw.call('GET', `/v1/time-entries?ticketId=${t1.json.id}`, { token });
    expect(entries.json.timeEntries.map((e: { id: string }) => e.id)).toEqual([logged.json.id]);

    const resolved = await gw.call('POST', `/v1/tickets/${t1.json.id}/resolve`, {
      token,
      body: { resolution: 'new printer' },
    });
    expect(resolved.json).toMatchObject({ status: 'resolved', resolution: 'new printer' });
    expect(resolved.json.resolvedAt).toMatch(ISO);
    const open = await gw.call('GET', '/v1/tickets?status=open', { token });
    expect(open.json.tickets.map((t: { id: string }) => t.id)).toEqual([t2.json.id]);

    const billed = await gw.call('POST', '/v1/billing-runs', {
      token: await gw.tokenFor('acme', ['admin']),
      body: { customerId: customer.id, period: '2025-03' },
    });
    expect(billed.status).toBe(201);
    expect(billed.json.run).toMatchObject({ state: 'issued', period: '2025-03', failureReason: null });
    expect(billed.json.run.steps.map((s: { name: string }) => s.name)).toEqual([
      'lock',
      'price',
      'issue',
      'publish',
    ]);
    expect(billed.json.invoice).toMatchObject({ totalMinor: 13_500, totalMinutes: 90, currency: 'EUR' });
    expect(billed.json.invoice.lines).toEqual([
      expect.objectContaining({ rateMinor: 9_000, amountMinor: 13_500 }),
    ]);
    expect(billed.headers.get('location')).toBe(`/v1/billing-runs/${billed.json.run.id}`);

    const run = await gw.call('GET', `/v1/billing-runs/${billed.json.run.id}`, { token });
    expect(run.json).toEqual(billed.json.run);
    const invoice = await gw.call('GET', `/v1/invoices/${billed.json.invoice.id}`, { token });
    expect(invoice.json).toEqual(billed.json.invoice);
    const invoices = await gw.call('GET', `/v1/invoices?customerId=${customer.id}`, { token });
    expect(invoices.json.invoices).toHaveLength(1);
    expect(invoices.json.invoices[0]).not.toHaveProperty('lines');
    expect(invoices.json.invoices[0].totalMinor).toBe(13_500);
  });

  it('sends every service call with the token tenant and the gateway as caller', async () => {
    await using gw = await startGateway();
    await gw.call('GET', '/v1/customers', { token: await gw.tokenFor('acme') });
    expect(gw.fakes.control.seen).toEqual([
      expect.objectContaining({ method: 'ListCustomers', tenant: 'acme', caller: 'gateway' }),
    ]);
  });
});
