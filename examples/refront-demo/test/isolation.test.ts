/**
 * Tenant isolation, generated from the gateway's OpenAPI document: every operation that names a
 * resource by id (in its path, its query or its body) is called by tenant B with tenant A's ids,
 * on the whole monolith. A path id must answer 404 (a service's `…_NOT_FOUND`, not the router's),
 * never 403 or 200; a query id must find nothing; a body id must not act on A's resource. No
 * answer may carry anything of A's. A new operation is covered as soon as the document lists it;
 * one the generator cannot exercise must be listed in NOT_EXERCISED with a reason, or this fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settle } from '../src/platform/settle.js';
import { type Platform, startPlatform } from '../src/platform/startPlatform.js';
import { previousMonth } from '../src/walk.js';
import { devToken, http, type Reply } from './http.js';

/** A resource tenant A owns, by the name the generator knows it under. */
type Kind = 'customer' | 'ticket' | 'billingRun' | 'invoice' | 'timeEntry';

/** The kind of the `{id}` that follows a path segment (`/v1/tickets/{id}` names a ticket). */
const PATH_KINDS: Readonly<Record<string, Kind>> = {
  customers: 'customer',
  tickets: 'ticket',
  'billing-runs': 'billingRun',
  invoices: 'invoice',
  'time-entries': 'timeEntry',
};

/** The kinds a query or body field may name (`subjectId`: what a notification is about). */
const FIELD_KINDS: Readonly<Record<string, readonly Kind[]>> = {
  customerId: ['customer'],
  ticketId: ['ticket'],
  subjectId: ['invoice', 'ticket'],
};

/** Operations with an id the generator cannot exercise, each with the reason. */
const NOT_EXERCISED: Readonly<Record<string, string>> = {};

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly parameters?: readonly { in: string; name: string; required?: boolean }[];
  readonly requestBody?: { content: { 'application/json': { schema: Schema } } };
}
interface Schema {
  readonly type?: string | string[];
  readonly properties?: Record<string, Schema>;
  readonly required?: string[];
  readonly minProperties?: number;
  readonly enum?: unknown[];
  readonly examples?: unknown[];
  readonly minimum?: number;
  readonly minLength?: number;
}

/** A valid value of `schema`: its first example or enum value, else the smallest that fits. */
function sample(schema: Schema): unknown {
  if (schema.examples?.length) return schema.examples[0];
  if (schema.enum?.length) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'integer' || type === 'number') return schema.minimum ?? 1;
  if (type === 'boolean') return true;
  if (type === 'array') return [];
  if (type === 'object') {
    const props = schema.properties ?? {};
    const keys = [...(schema.required ?? [])];
    const first = Object.keys(props)[0];
    if (keys.length < (schema.minProperties ?? 0) && first !== undefined && !keys.includes(first))
      keys.push(first);
    return Object.fromEntries(keys.map((k) => [k, sample(props[k] ?? {})]));
  }
  return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
}

let platform: Platform;
/** A's ids by kind, and a marker string in every free text A wrote. */
const a: Record<Kind, string> = { customer: '', ticket: '', billingRun: '', invoice: '', timeEntry: '' };
const MARKER = `secret-of-a-${Date.now().toString(36)}`;
let tokenA = '';
let tokenB = '';

async function ok(method: string, path: string, body: unknown, token: string): Promise<Reply['body']> {
  const r = await http(platform.gatewayUrl, method, path, { token, body });
  if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

beforeAll(async () => {
  platform = await startPlatform({ gatewayPort: 0, opsPort: false, rateLimitPerMinute: 10_000 });
  // Both users are admins: an admin-only route must still hide the other tenant's data.
  tokenA = await devToken(platform.gatewayUrl, 'iso-tenant-a', ['admin']);
  tokenB = await devToken(platform.gatewayUrl, 'iso-tenant-b', ['admin']);
  const period = previousMonth();
  const customer = { name: `Customer ${MARKER}`, hourlyRateMinor: 6_000, currency: 'EUR' };
  a.customer = (await ok('POST', '/v1/customers', customer, tokenA)).id;
  const ticket = { customerId: a.customer, title: `Outage ${MARKER}`, description: `Down ${MARKER}` };
  a.ticket = (await ok('POST', '/v1/tickets', { ...ticket, priority: 'urgent' }, tokenA)).id;
  const entry = { minutes: 60, workDate: `${period}-05`, description: `Work ${MARKER}` };
  a.timeEntry = (await ok('POST', `/v1/tickets/${a.ticket}/time-entries`, entry, tokenA)).id;
  await settle(platform);
  const closed = await ok('POST', '/v1/billing-runs', { customerId: a.customer, period }, tokenA);
  a.billingRun = closed.run.id;
  a.invoice = closed.invoice.id;
  await settle(platform);
  // B has data of its own, so an empty answer is not just an empty tenant.
  const own = (await ok('POST', '/v1/customers', { ...customer, name: 'B customer' }, tokenB)).id;
  await ok('POST', '/v1/tickets', { customerId: own, title: 'B ticket' }, tokenB);
}, 60_000);
afterAll(async () => {
  await platform?.stop();
});

/** Every operation of the document, as `METHOD /path`. */
async function operations(): Promise<Operation[]> {
  const doc = (await http(platform.gatewayUrl, 'GET', '/openapi.json')).body;
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<Record<string, Omit<Operation, 'method' | 'path'>>>(doc.paths)) {
    for (const [method, op] of Object.entries(item)) ops.push({ method: method.toUpperCase(), path, ...op });
  }
  return ops;
}

const idFields = (names: readonly string[]) => names.filter((n) => n === 'id' || n.endsWith('Id'));

/** The one request of `op` naming A's resource of `kind` through `field` (`path` for `{id}`). */
interface Probe {
  readonly op: string;
  readonly where: 'path' | 'query' | 'body';
  readonly kind: Kind;
  readonly url: string;
  readonly body: unknown;
}

/** The probes of one operation; a string when it names an id the generator cannot resolve. */
function probes(op: Operation): Probe[] | string {
  const name = `${op.method} ${op.path}`;
  const schema = op.requestBody?.content['application/json'].schema;
  const base = schema ? (sample(schema) as Record<string, unknown>) : undefined;
  const pathIds = idFields((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name));
  const queryIds = idFields((op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
  const bodyIds = idFields(Object.keys(schema?.properties ?? {}));
  const out: Probe[] = [];
  if (pathIds.length > 0) {
    const segment = op.path.split('/{')[0]?.split('/').at(-1) ?? '';
    const kind = PATH_KINDS[segment];
    if (pathIds.length > 1 || pathIds[0] !== 'id' || kind === undefined)
      return `no kind known for the path ids of ${name}`;
    out.push({ op: name, where: 'path', kind, url: op.path.replace('{id}', a[kind]), body: base });
  }
  for (const field of [...queryIds, ...bodyIds]) {
    const kinds = FIELD_KINDS[field];
    if (kinds === undefined) return `no kind known for ${field} of ${name}`;
    const inQuery = queryIds.includes(field);
    for (const kind of kinds) {
      const url = inQuery ? `${op.path}?${field}=${encodeURIComponent(a[kind])}` : op.path;
      out.push({
        op: name,
        where: inQuery ? 'query' : 'body',
        kind,
        url,
        body: inQuery ? base : { ...base, [field]: a[kind] },
      });
    }
  }
  return out;
}

/** Whether an answer leaks anything of A's: its free text, or an id of A other than the one asked for. */
function leaks(reply: Reply, asked: string): string[] {
  const text = JSON.stringify(reply.body ?? '');
  const ids = Object.values(a).filter((id) => id !== asked && text.includes(id));
  return text.includes(MARKER) ? [MARKER, ...ids] : ids;
}

describe('tenant isolation of every operation with an id (generated from /openapi.json)', () => {
  it("answers tenant B 404 for A's ids in paths, nothing for them in queries, and never A's data", async () => {
    const exercised: string[] = [];
    const unresolved: string[] = [];
    const failures: string[] = [];
    for (const op of await operations()) {
      const name = `${op.method} ${op.path}`;
      if (NOT_EXERCISED[name] !== undefined) continue;
      const list = probes(op);
      if (typeof list === 'string') {
        unresolved.push(list);
        continue;
      }
      for (const p of list) {
        const reply = await http(platform.gatewayUrl, op.method, p.url, { token: tokenB, body: p.body });
        const leaked = leaks(reply, a[p.kind]);
        const reason: string = reply.body?.error?.reason ?? '';
        const label = `${p.op} (${p.where} ${p.kind}) → ${reply.status} ${reason}`;
        if (leaked.length > 0) failures.push(`${label}: leaks ${leaked.join(', ')}`);
        if (
          p.where === 'path' &&
          !(reply.status === 404 && /_NOT_FOUND$/.test(reason) && !reason.startsWith('GATEWAY_'))
        )
          failures.push(`${label}: expected 404 from the service`);
        if (p.where === 'query') {
          const arrays = Object.values<unknown>(reply.body ?? {}).filter(Array.isArray);
          if (reply.status !== 200 || arrays.length === 0 || arrays.some((x) => x.length > 0))
            failures.push(`${label}: expected 200 with empty lists`);
        }
        if (p.where === 'body' && reply.status !== 404 && reply.status !== 409)
          failures.push(`${label}: expected 404 or 409, nothing done to A's ${p.kind}`);
        exercised.push(`${p.op} ${p.where}:${p.kind} ${reply.status}`);
      }
    }
    console.log(`[isolation] ${exercised.length} probes:\n  ${exercised.join('\n  ')}`);
    expect(unresolved, 'operations neither exercised nor listed in NOT_EXERCISED').toEqual([]);
    expect(failures).toEqual([]);
    // The generator found the routes it must: a path id of every kind that has a route.
    expect(exercised.filter((e) => e.includes(' path:')).length).toBeGreaterThanOrEqual(8);
  });

  it('answers tenant A itself for the same ids (the probes address real resources)', async () => {
    for (const op of await operations()) {
      const list = probes(op);
      if (typeof list === 'string' || op.method !== 'GET') continue;
      for (const p of list) {
        const reply = await http(platform.gatewayUrl, op.method, p.url, { token: tokenA });
        expect(reply.status, p.url).toBe(200);
        if (p.where === 'query' && p.kind !== 'ticket') {
          const arrays = Object.values<unknown>(reply.body).filter(Array.isArray);
          expect(
            arrays.some((x) => x.length > 0),
            p.url,
          ).toBe(true);
        }
      }
    }
  });

  it('counts an operation whose id it cannot resolve as neither exercised nor listed', () => {
    const widget = { method: 'GET', path: '/v1/widgets/{id}', parameters: [{ in: 'path', name: 'id' }] };
    expect(probes(widget)).toBe('no kind known for the path ids of GET /v1/widgets/{id}');
    const filter = { method: 'GET', path: '/v1/tickets', parameters: [{ in: 'query', name: 'widgetId' }] };
    expect(probes(filter)).toBe('no kind known for widgetId of GET /v1/tickets');
  });
});
