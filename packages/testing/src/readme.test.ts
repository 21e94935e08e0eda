/** The README's example, run against the repository's test contracts instead of generated ones. */
import type { ServiceModule } from '@refront/data';
import { EchoServiceDefinition, ThingHappened } from '@refront/test-contracts';
import { expect, it } from 'vitest';
import { startTestApp } from './startTestApp.js';

const echo: ServiceModule = {
  name: 'echo',
  events: { publishes: [ThingHappened], consumes: [] },
  migrations: [{ version: 1, name: 'echoes', sql: 'create table echoes (message text not null)' }],
  callers: { test: '*' },
  async register({ server, db, outbox }) {
    server.add(EchoServiceDefinition, {
      async echo({ message }) {
        await db.transaction(async (tx) => {
          await tx.query('insert into echoes (message) values ($1)', [message]);
          await outbox.add(tx, ThingHappened, { id: message });
        });
        return { message };
      },
      async sleep() {
        return { aborted: false };
      },
      async fail() {
        return {};
      },
    });
  },
};

it('stores the echo once and publishes ThingHappened, even when the first call is lost', async () => {
  await using app = await startTestApp({ modules: [echo], database: 'auto', broker: 'auto' });
  // The first Echo fails before it reaches the server (UNAVAILABLE, unprocessed).
  const lost = app.faults.call(
    { service: EchoServiceDefinition, method: 'Echo' },
    { kind: 'fail' },
    { nth: 1 },
  );
  const client = app.client(EchoServiceDefinition, { tenant: 'acme' });
  await expect(client.echo({ message: 'hello' })).rejects.toMatchObject({ reason: 'TESTING_INJECTED_FAULT' });
  await client.echo({ message: 'hello' });
  const { envelope } = await app.events.waitFor(ThingHappened, (e) => e.id === 'hello');
  expect([envelope.source, envelope.tenant, lost.hits]).toEqual(['echo', 'acme', 1]);
  const { rows } = await app.db('echo').query('select * from echoes');
  expect(rows).toHaveLength(1);
  expect(app.spans.finished((s) => s.name.endsWith('/Echo')).length).toBeGreaterThan(0);
  expect(await app.metrics.value('refront_rpc_server_duration_seconds_count', { rpc_method: 'Echo' })).toBe(
    1,
  );
});
