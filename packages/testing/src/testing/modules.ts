/**
 * Two small service modules the kit's own tests run: `echo` serves the test contracts'
 * EchoService (each Echo stores a row and adds ThingHappened to its outbox in one transaction),
 * `sink` consumes ThingHappened into a table without a unique key (so a duplicate shows as a
 * second row) and, on OtherThingHappened, calls Echo as itself (through its resilience policy).
 */
import { on, RefrontError } from '@refront/core';
import type { ServiceModule as DataServiceModule } from '@refront/data';
import { EchoServiceDefinition, OtherThingHappened, ThingHappened } from '@refront/test-contracts';

/** How many times each handler ran. */
export interface Counts {
  echo: number;
  fail: number;
}

/** The echo module and its handler counts. */
export function echoModule(): { module: DataServiceModule; counts: Counts } {
  const counts: Counts = { echo: 0, fail: 0 };
  const module: DataServiceModule = {
    name: 'echo',
    events: { publishes: [ThingHappened], consumes: [] },
    migrations: [{ version: 1, name: 'echoes', sql: 'create table echoes (message text not null)' }],
    callers: { sink: '*' },
    async register({ server, db, outbox }) {
      server.add(EchoServiceDefinition, {
        async echo(request) {
          counts.echo++;
          await db.transaction(async (tx) => {
            await tx.query('insert into echoes (message) values ($1)', [request.message]);
            await outbox.add(tx, ThingHappened, { id: request.message, note: 'echoed' });
          });
          return { message: request.message, payload: request.payload, seen: {} };
        },
        async sleep() {
          return { aborted: false };
        },
        async fail(request) {
          counts.fail++;
          throw new RefrontError(
            'UNAVAILABLE',
            request.reason || 'ECHO_FAILED',
            request.message || 'asked to fail',
          );
        },
      });
    },
  };
  return { module, counts };
}

/** Retry delays of the sink's subscription, in ms: 3 attempts in all. */
export const SINK_RETRY_DELAYS_MS = [1_000, 5_000] as const;

/** The sink module: rows per ThingHappened id; a `poison` note is refused for good. */
export const sinkModule: DataServiceModule = {
  name: 'sink',
  events: { publishes: [], consumes: [ThingHappened, OtherThingHappened] },
  migrations: [
    { version: 1, name: 'things', sql: 'create table things (id text not null, note text not null)' },
  ],
  callers: {},
  async register({ bus, db, client }) {
    const echo = client(EchoServiceDefinition);
    await bus.subscribe(
      'sink',
      [
        on(ThingHappened, async (e) => {
          if (e.note === 'poison')
            throw new RefrontError('INVALID_ARGUMENT', 'SINK_POISON', `poison ${e.id}`, { retryable: false });
          await db.query('insert into things (id, note) values ($1, $2)', [e.id, e.note]);
        }),
        on(OtherThingHappened, async (e) => {
          await echo.echo({ message: `from-sink-${e.id}` });
        }),
      ],
      { retryDelaysMs: SINK_RETRY_DELAYS_MS },
    );
  },
};
