import { randomUUID } from 'node:crypto';
import { createEmbeddedPostgres, type EmbeddedPostgres } from '@refront/data';
import { EchoServiceDefinition, ThingHappened } from '@refront/test-contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';
import { findInfra } from './index.js';
import { rejection } from './rejection.js';
import { startTestApp } from './startTestApp.js';
import { sinkRows } from './testing/count.js';
import { echoModule, sinkModule } from './testing/modules.js';

const infraUp = (await findInfra('postgres')) !== undefined && (await findInfra('rabbitmq')) !== undefined;

const NOWHERE_PG = 'postgres://postgres@127.0.0.1:1/none';
const NOWHERE_AMQP = 'amqp://guest:guest@127.0.0.1:1';

describe('choosing the infrastructure', () => {
  let embedded: EmbeddedPostgres;
  beforeAll(async () => {
    embedded = await createEmbeddedPostgres();
  });
  afterAll(async () => {
    await embedded?.close();
  });

  it("'auto' falls back to the embedded database and the in-process bus when the servers do not answer", async () => {
    await using app = await startTestApp({
      modules: [sinkModule],
      embedded,
      database: 'auto',
      broker: 'auto',
      postgresUrl: NOWHERE_PG,
      amqpUrl: NOWHERE_AMQP,
      env: {},
    });
    expect([app.database, app.broker]).toEqual(['pglite', 'in-process']);
  });

  it("'auto' with REFRONT_REQUIRE_INFRA=1 fails with CORE_INFRA_MISSING, an explicit server with TESTING_INFRA_MISSING, when it does not answer", async () => {
    const required = { modules: [], embedded, env: { REFRONT_REQUIRE_INFRA: '1' } };
    const pg = await rejection(startTestApp({ ...required, database: 'auto', postgresUrl: NOWHERE_PG }));
    expect([pg.status, pg.reason]).toEqual(['FAILED_PRECONDITION', 'CORE_INFRA_MISSING']);
    const mq = await rejection(startTestApp({ ...required, broker: 'auto', amqpUrl: NOWHERE_AMQP }));
    expect(mq.reason).toBe('CORE_INFRA_MISSING');
    const explicit = await rejection(
      startTestApp({ modules: [], embedded, broker: 'rabbitmq', amqpUrl: NOWHERE_AMQP, env: {} }),
    );
    expect([explicit.reason, explicit.message]).toEqual([
      'TESTING_INFRA_MISSING',
      'RabbitMQ at 127.0.0.1:1 does not answer',
    ]);
  });
});

describe.skipIf(!infraUp)('on PostgreSQL and RabbitMQ', () => {
  it("'auto' runs the same test on the real servers: call, outbox, broker, consumer, dead letter", async () => {
    const echo = echoModule();
    await using app = await startTestApp({
      modules: [echo.module, sinkModule],
      database: 'auto',
      broker: 'auto',
      tracing: false,
    });
    expect([app.database, app.broker]).toEqual(['postgres', 'rabbitmq']);
    const id = randomUUID();
    await app.client(EchoServiceDefinition).echo({ message: id });
    const published = await app.events.waitFor(ThingHappened, (e) => e.id === id);
    expect(published.envelope.source).toBe('echo');
    await eventually(async () => ((await sinkRows(app, id)) === 1 ? true : undefined));
    const poison = randomUUID();
    await app.bus('echo').publish(ThingHappened, { id: poison, note: 'poison' });
    const dead = await app.deadLetters.waitFor({ group: 'sink' });
    expect([dead.reason, dead.envelope.id === published.envelope.id]).toEqual(['SINK_POISON', false]);
    await app.settled();
    expect([echo.counts.echo, await sinkRows(app, id), await sinkRows(app, poison)]).toEqual([1, 1, 0]);
  });
});
