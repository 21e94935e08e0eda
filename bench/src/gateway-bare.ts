/**
 * Child process of the `gateway` scenario: the baseline, a bare Fastify route doing the same
 * database read as the demo's `GET /v1/customers/:id` (one `select` of the tickets service's
 * customers table by tenant and id, the row mapped to JSON), with no authentication, rate limit,
 * validation, tracing or metrics. `DATABASE_URL` names the database the demo wrote; the tenant
 * comes in the `x-tenant` header. Reports its port over IPC and stops on `{ type: 'stop' }`.
 */
import Fastify from 'fastify';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const app = Fastify({ logger: false });

interface CustomerRow {
  readonly id: string;
  readonly name: string;
  readonly hourly_rate_minor: string;
  readonly currency: string;
  readonly created_at: Date;
}

app.get<{ Params: { id: string } }>('/v1/customers/:id', async (request, reply) => {
  const tenant = request.headers['x-tenant'];
  const { rows } = await pool.query<CustomerRow>(
    'select * from tickets.customers where tenant_id = $1 and id = $2',
    [tenant, request.params.id],
  );
  const r = rows[0];
  if (!r) return reply.code(404).send({ error: 'not found' });
  return {
    id: r.id,
    name: r.name,
    hourlyRateMinor: Number(r.hourly_rate_minor),
    currency: r.currency,
    createdAt: r.created_at.toISOString(),
  };
});

await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.send?.({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
process.on('message', (m: { type: string }) => {
  if (m.type === 'stop') void Promise.all([app.close(), pool.end()]).finally(() => process.exit(0));
});
