import {
  createInProcessEventBus,
  createInProcessNetwork,
  createMetricsRegistry,
  currentContext,
  type Interceptor,
  on,
  type RpcServer,
} from '@refront/core';
import { EchoServiceDefinition, ThingHappened } from '@refront/test-contracts';
import { expect, it, vi } from 'vitest';
import { hostModule } from './hostModule.js';
import type { ModuleRuntime, ServiceModule } from './ServiceModule.js';
import { describeEngines, silent } from './testing/engines.js';

const MIGRATIONS = [{ version: 1, name: 'things', sql: 'create table things (id text not null);' }];

/** A module whose Echo writes a row and its event in one transaction, and cleans up in order. */
function thingsModule(seen: { runtime?: ModuleRuntime }, order: string[]): ServiceModule {
  return {
    name: 'things',
    migrations: MIGRATIONS,
    callers: {},
    events: { publishes: [ThingHappened], consumes: [] },
    async register(rt) {
      seen.runtime = rt;
      rt.server.add(EchoServiceDefinition, {
        async echo(request) {
          await rt.db.transaction(async (tx) => {
            await tx.query('insert into things (id) values ($1)', [request.message]);
            await rt.outbox.add(
              tx,
              ThingHappened,
              { id: request.message, sequence: 1 },
              { key: request.message },
            );
          });
          return {
            message: request.message,
            payload: Buffer.alloc(0),
            seen: { caller: currentContext()?.caller ?? '' },
          };
        },
        async sleep() {
          return { aborted: false };
        },
        async fail() {
          return {};
        },
      });
      rt.onClose(() => void order.push('cleanup registered first'));
      rt.onClose(() => void order.push('cleanup registered last'));
    },
  };
}

/** Records the server's lifecycle calls into `order`. */
function recorded(server: RpcServer, order: string[]): RpcServer {
  return {
    add: (d, i) => server.add(d, i),
    start: async () => {
      order.push('server.start');
      await server.start();
    },
    drain: async (signal) => {
      order.push('server.drain');
      await server.drain(signal);
    },
    close: async () => {
      order.push('server.close');
      await server.close();
    },
  };
}

describeEngines('hostModule', (fx) => {
  it('serves the module, relays its outbox after commit, calls as the module through the interceptors, closes in order', async () => {
    const db = await fx.open({ migrations: MIGRATIONS });
    const metrics = createMetricsRegistry({ processMetrics: false });
    const network = createInProcessNetwork();
    const bus = createInProcessEventBus({ service: 'things', logger: silent });
    const received: string[] = [];
    await bus.subscribe('watchers', [on(ThingHappened, async (e) => void received.push(e.id))]);
    const order: string[] = [];
    const seen: { runtime?: ModuleRuntime } = {};
    let intercepted = 0;
    const counting: Interceptor = (call, next) => {
      intercepted++;
      return next(call);
    };
    const hosted = await hostModule(thingsModule(seen, order), {
      logger: silent,
      metrics,
      db,
      server: recorded(network.createServer({ service: 'things', logger: silent, metrics }), order),
      channel: network.channel(),
      bus: bus.as('things'),
      clientInterceptors: [counting],
    });
    expect(hosted.name).toBe('things');
    await hosted.start();

    const client = seen.runtime?.client(EchoServiceDefinition);
    const reply = await client?.echo({ message: 'a1', payload: Buffer.alloc(0) });
    expect(reply?.seen.caller).toBe('things');
    expect(intercepted).toBe(1);
    await vi.waitFor(() => expect(received).toEqual(['a1']));
    const rows = await db.query<{ n: string }>('select count(*)::text as n from things');
    expect(rows.rows[0]?.n).toBe('1');

    await hosted.drain();
    await hosted.close();
    expect(order).toEqual([
      'server.start',
      'server.drain',
      'server.close',
      'cleanup registered last',
      'cleanup registered first',
    ]);
    await bus.close();
  });

  it('leaves the database to the host: it is still open after close', async () => {
    const db = await fx.open({ migrations: MIGRATIONS });
    const network = createInProcessNetwork();
    const bus = createInProcessEventBus({ service: 'things', logger: silent });
    const hosted = await hostModule(thingsModule({}, []), {
      logger: silent,
      metrics: createMetricsRegistry({ processMetrics: false }),
      db,
      server: network.createServer({ service: 'things', logger: silent }),
      channel: network.channel(),
      bus,
    });
    await hosted.start();
    await hosted.close();
    expect((await db.query<{ one: number }>('select 1 as one')).rows[0]?.one).toBe(1);
    await bus.close();
  });
});
