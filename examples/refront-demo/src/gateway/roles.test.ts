import { describe, expect, it } from 'vitest';
import { signToken, startGateway } from './testing/fixture.js';

const CLOSE = { customerId: '8a0f3c52-3d4e-4b7a-9c1d-2e5f6a7b8c90', period: '2025-03' };

describe('gateway: roles', () => {
  it('refuses a member 403 GATEWAY_FORBIDDEN on admin routes before any service call', async () => {
    await using gw = await startGateway();
    for (const roles of [[], ['member'], ['billing-viewer']]) {
      const token = await gw.tokenFor('acme', roles);
      const close = await gw.call('POST', '/v1/billing-runs', { token, body: CLOSE });
      expect(close.status, JSON.stringify(roles)).toBe(403);
      expect(close.json.error).toMatchObject({
        status: 'PERMISSION_DENIED',
        reason: 'GATEWAY_FORBIDDEN',
        message: 'this operation requires the admin role',
        traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
      });
      const rebuild = await gw.call('POST', '/v1/reports/rebuild', { token });
      expect(rebuild.status).toBe(403);
      expect(rebuild.json.error.reason).toBe('GATEWAY_FORBIDDEN');
      // Checked before validation: a member learns nothing about the body of an admin route.
      const invalid = await gw.call('POST', '/v1/billing-runs', { token, body: { period: 'May' } });
      expect(invalid.status).toBe(403);
    }
    expect(gw.fakes.control.seen).toEqual([]);
  });

  it("lets an admin through and forwards the user's roles to the service in x-refront-roles", async () => {
    await using gw = await startGateway();
    const admin = await gw.tokenFor('acme', ['offline_access', 'admin']);
    const close = await gw.call('POST', '/v1/billing-runs', { token: admin, body: CLOSE });
    // The fake invoicing service has no such customer: the request went past the role check.
    expect(close.json.error.reason).toBe('FAKE_CUSTOMER_NOT_FOUND');
    const member = await gw.tokenFor('acme');
    expect((await gw.call('GET', '/v1/customers', { token: member })).status).toBe(200);
    expect(
      gw.fakes.control.seen.map((c) => [c.method, c.roles]).filter(([m]) => m !== 'GetCustomer'),
    ).toEqual([
      ['CloseBillingPeriod', 'admin member'],
      ['ListCustomers', 'member'],
    ]);
  });

  it('refuses a token whose roles claim is not an array of strings (401 GATEWAY_TOKEN_CLAIMS)', async () => {
    await using gw = await startGateway();
    for (const roles of ['admin', [1], { admin: true }, Array.from({ length: 65 }, () => 'admin')]) {
      const token = await signToken({ tenant: 'acme', user: 'ann', extra: { roles } });
      const res = await gw.call('GET', '/v1/customers', { token });
      expect(res.status, JSON.stringify(roles)).toBe(401);
      expect(res.json.error).toMatchObject({
        reason: 'GATEWAY_TOKEN_CLAIMS',
        message: expect.stringContaining('roles'),
      });
    }
    expect(gw.fakes.control.seen).toEqual([]);
  });

  it('signs dev tokens with the roles asked for, and refuses an unknown role', async () => {
    await using gw = await startGateway({ auth: { devTokens: true } });
    const token = async (body: object) => (await gw.call('POST', '/v1/dev/tokens', { body })).json.token;
    const member = await token({ tenant: 'acme', user: 'ann' });
    const admin = await token({ tenant: 'acme', user: 'ann', roles: ['admin'] });
    expect((await gw.call('POST', '/v1/billing-runs', { token: member, body: CLOSE })).status).toBe(403);
    expect((await gw.call('POST', '/v1/billing-runs', { token: admin, body: CLOSE })).status).toBe(404);
    const claims = JSON.parse(Buffer.from(admin.split('.')[1], 'base64url').toString());
    expect(claims.roles).toEqual(['admin']);
    const bad = await gw.call('POST', '/v1/dev/tokens', {
      body: { tenant: 'acme', user: 'ann', roles: ['root'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.fieldViolations).toEqual([expect.objectContaining({ field: 'roles.0' })]);
  });

  it('declares the required role and the 403 in the OpenAPI document', async () => {
    await using gw = await startGateway();
    const doc = (await gw.call('GET', '/openapi.json')).json;
    const admin: string[] = [];
    for (const [path, item] of Object.entries<Record<string, Record<string, unknown>>>(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const role = op['x-required-role'];
        const responses = op.responses as Record<string, unknown>;
        if (role === undefined) {
          expect(responses['403'], `${method} ${path}`).toBeUndefined();
          continue;
        }
        admin.push(`${method.toUpperCase()} ${path} ${role}`);
        expect(responses['403']).toMatchObject({
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        });
        expect(op.description).toContain('Requires the `admin` role');
      }
    }
    expect(admin.sort()).toEqual(['POST /v1/billing-runs admin', 'POST /v1/reports/rebuild admin']);
  });
});
