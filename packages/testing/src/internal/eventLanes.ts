import type { EventBus, InProcessEventBus, Logger, MessageValidator, MetricsRegistry } from '@refront/core';
import { createInProcessEventBus } from '@refront/core';
import { DEFAULT_RETRY_DELAYS_MS, type DeadLetter } from '@refront/core/transport';
import type { AmqpEventBus } from '@refront/transport-amqp';
import { TestingErrors } from '../errors.js';

/**
 * The RabbitMQ pieces, loaded only when an app asks for the broker: `@refront/transport-amqp` and
 * `amqplib` are optional peers, so an in-process-only user installs neither.
 */
async function loadAmqp() {
  try {
    const [transport, amqplib] = await Promise.all([import('@refront/transport-amqp'), import('amqplib')]);
    return { ...transport, connect: amqplib.connect };
  } catch (e: unknown) {
    throw TestingErrors.INFRA_MISSING.with(
      { cause: e },
      "broker 'rabbitmq' needs the optional peers @refront/transport-amqp and amqplib: npm install --save-dev @refront/transport-amqp amqplib",
    );
  }
}

/** The event bus of one app, as each module (or the test, publishing as someone) sees it. */
export interface EventLane {
  readonly kind: 'in-process' | 'rabbitmq';
  /** The bus as `service` uses it (publishing as it); `close()` on it does nothing. */
  busFor(service: string): Promise<EventBus>;
  /** Events of `group` queued or in a handler now (on RabbitMQ: ready in its queue plus in its handlers). */
  pending(group: string): Promise<number>;
  /** The consumer groups subscribed so far. */
  groups(): readonly string[];
  /** Closes the buses and, on RabbitMQ, deletes what they declared. */
  close(): Promise<void>;
}

export interface LaneOptions {
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly validator: MessageValidator | undefined;
  readonly onDeadLetter: (d: DeadLetter) => void;
}

/** Counts the handlers running per group, and records the groups and retry delays subscribed. */
class GroupBook {
  readonly delays = new Map<string, Set<number>>();
  readonly running = new Map<string, number>();

  track(inner: EventBus): EventBus {
    return {
      publish: (t, e, o) => inner.publish(t, e, o),
      publishRaw: (e, b, o) => inner.publishRaw(e, b, o),
      send: (g, t, m, o) => inner.send(g, t, m, o),
      subscribe: (group, bindings, options) => {
        const set = this.delays.get(group) ?? new Set<number>();
        for (const d of options?.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS) set.add(d);
        this.delays.set(group, set);
        return inner.subscribe(
          group,
          bindings.map((b) => ({
            type: b.type,
            handler: async (event: unknown, ctx: Parameters<typeof b.handler>[1]) => {
              this.running.set(group, (this.running.get(group) ?? 0) + 1);
              try {
                await b.handler(event, ctx);
              } finally {
                this.running.set(group, (this.running.get(group) ?? 1) - 1);
              }
            },
          })),
          options,
        );
      },
      close: () => Promise.resolve(),
    };
  }
}

/** Core's in-process bus, one for the app. */
export function inProcessLane(o: LaneOptions): EventLane {
  const bus: InProcessEventBus = createInProcessEventBus({
    service: 'test',
    logger: o.logger,
    metrics: o.metrics,
    validator: o.validator,
  });
  const book = new GroupBook();
  const stop = bus.onDeadLetter(o.onDeadLetter);
  return {
    kind: 'in-process',
    busFor: async (service) => book.track(bus.as(service)),
    pending: async (group) => bus.pendingCount(group),
    groups: () => [...book.delays.keys()],
    close: async () => {
      stop();
      await bus.close();
    },
  };
}

/**
 * One RabbitMQ bus per service (as the distributed topology has) on a namespace of its own, so
 * tests running at once never share a queue; at close, the app's queues and exchanges are deleted.
 */
export async function rabbitmqLane(
  o: LaneOptions & { readonly url: string; readonly namespace: string },
): Promise<EventLane> {
  const { createAmqpEventBus, topologyNames, connect } = await loadAmqp();
  const buses = new Map<string, Promise<AmqpEventBus>>();
  const book = new GroupBook();
  const types = new Set<string>();
  const names = topologyNames(o.namespace);
  const open = async (service: string): Promise<AmqpEventBus> => {
    const bus = createAmqpEventBus({
      url: o.url,
      service,
      logger: o.logger,
      metrics: o.metrics,
      validator: o.validator,
      namespace: o.namespace,
    });
    bus.onDeadLetter(o.onDeadLetter);
    await bus.start();
    return bus;
  };
  const busOf = (service: string): Promise<AmqpEventBus> => {
    let bus = buses.get(service);
    if (!bus) {
      bus = open(service);
      buses.set(service, bus);
    }
    return bus;
  };
  return {
    kind: 'rabbitmq',
    async busFor(service) {
      const bus = await busOf(service);
      const tracked = book.track(bus);
      return {
        ...tracked,
        publish: (t, e, opts) => {
          types.add(t.$type);
          return tracked.publish(t, e, opts);
        },
        publishRaw: (e, b, opts) => {
          types.add(e.type);
          return tracked.publishRaw(e, b, opts);
        },
        subscribe: (g, bindings, opts) => {
          for (const b of bindings) types.add(b.type.$type);
          return tracked.subscribe(g, bindings, opts);
        },
      };
    },
    async pending(group) {
      const conn = await connect(o.url);
      try {
        const ch = await conn.createChannel();
        const q = await ch.checkQueue(names.queue(group));
        return q.messageCount + (book.running.get(group) ?? 0);
      } finally {
        await conn.close();
      }
    },
    groups: () => [...book.delays.keys()],
    async close() {
      const all = await Promise.allSettled([...buses.values()]);
      for (const r of all)
        if (r.status === 'fulfilled') await r.value.close({ signal: AbortSignal.timeout(5_000) });
      const conn = await connect(o.url);
      try {
        const ch = await conn.createChannel();
        for (const [group, delays] of book.delays) {
          await ch.deleteQueue(names.queue(group));
          await ch.deleteQueue(names.deadLetterQueue(group));
          for (const d of delays) await ch.deleteQueue(names.retryQueue(group, d));
        }
        await ch.deleteQueue(names.unroutedQueue);
        await ch.deleteQueue(names.unroutedNoticesQueue);
        for (const t of types) await ch.deleteExchange(names.exchange(t));
        await ch.deleteExchange(names.unroutedExchange);
      } finally {
        await conn.close();
      }
    },
  };
}
