import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { startGateway } from './testing/fixture.js';

const OPERATIONS = [
  'POST /v1/customers createCustomer',
  'GET /v1/customers listCustomers',
  'GET /v1/customers/{id} getCustomer',
  'POST /v1/tickets createTicket',
  'GET /v1/tickets listTickets',
  'GET /v1/tickets/{id} getTicket',
  'PATCH /v1/tickets/{id} updateTicket',
  'POST /v1/tickets/{id}/resolve resolveTicket',
  'POST /v1/tickets/{id}/time-entries logTime',
  'GET /v1/time-entries listTimeEntries',
  'POST /v1/billing-runs closeBillingPeriod',
  'GET /v1/billing-runs/{id} getBillingRun',
  'GET /v1/invoices listInvoices',
  'GET /v1/invoices/{id} getInvoice',
  'POST /v1/ai/classify classifyText',
  'POST /v1/ai/summarize summarizeText',
  'GET /v1/tickets/{id}/classification getTicketClassification',
  'GET /v1/notifications listNotifications',
  'GET /v1/notifications/received-mail listReceivedMail',
  'GET /v1/reports/customers getCustomerReport',
  'GET /v1/reports/tickets getTicketReport',
  'POST /v1/reports/rebuild rebuildReadModels',
];

describe('gateway: OpenAPI', () => {
  it('serves a valid OpenAPI 3.1 document with every route, bearer security and named schemas', async () => {
    await using gw = await startGateway({ auth: { devTokens: true } });
    const res = await gw.call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.json;
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');

    const operations: string[] = [];
    for (const [path, item] of Object.entries<Record<string, { operationId: string }>>(doc.paths)) {
      for (const [method, op] of Object.entries(item))
        operations.push(`${method.toUpperCase()} ${path} ${op.operationId}`);
    }
    expect(operations.sort()).toEqual([...OPERATIONS, 'POST /v1/dev/tokens createDevToken'].sort());
    expect(doc.components.securitySchemes.bearerAuth).toEqual({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    expect(doc.paths['/v1/tickets'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/v1/dev/tokens'].post.security).toEqual([]);
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'Error',
        'Customer',
        'Ticket',
        'TimeEntry',
        'BillingRun',
        'Invoice',
        'InvoiceSummary',
      ]),
    );
    expect(doc.paths['/v1/tickets/{id}'].get.responses['4XX'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Error',
    });
    expect(doc.paths['/v1/tickets'].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
      'category',
      'customerId',
      'pageSize',
      'pageToken',
      'status',
    ]);
    const header = (op: { parameters?: { in: string; name: string }[] }) =>
      (op.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name);
    expect(header(doc.paths['/v1/tickets'].post)).toEqual(['Idempotency-Key']);
    expect(header(doc.paths['/v1/tickets'].get)).toEqual([]);
  });

  it('leaves the dev token route out when dev tokens are off', async () => {
    await using gw = await startGateway();
    const doc = (await gw.call('GET', '/openapi.json')).json;
    expect(doc.paths['/v1/dev/tokens']).toBeUndefined();
    expect(Object.keys(doc.paths)).toHaveLength(19);
  });

  it('serves the docs page', async () => {
    await using gw = await startGateway();
    const res = await fetch(`${gw.url}/docs`, { redirect: 'follow' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('swagger-ui');
  });
});
