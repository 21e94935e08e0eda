/**
 * Events through the real RabbitMQ (127.0.0.1:5672 or REFRONT_AMQP_URL), publish → consume, in one
 * run: Refront's AmqpEventBus, Moleculer 0.14's AMQP transporter (balanced events on its durable
 * queue, `disableBalancer: true`, acked after the handler), NestJS microservices' RMQ transport
 * (`client.emit` → `@EventPattern`, `noAck: false`, acked in the handler) and bare amqplib, the
 * baseline, twice: on a quorum queue (what Refront declares) and on a classic durable queue (what
 * the peers declare). Every message is about 1 KiB, persistent, and acked one by one; every
 * consumer has the same prefetch (100); the publishers keep at most 1,000 awaited publishes in
 * flight (Moleculer's resolves before the broker has the message: it publishes without confirms).
 * Latency is publish call → handler, per message, with the publisher at full speed. Each
 * framework serializes as it does by default (Refront and bare: protobuf; Moleculer and NestJS:
 * JSON). Names are unique to the run; every queue and exchange it made is deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import { createLogger, on } from '@refront/core';
import { ThingHappened } from '@refront/test-contracts';
import { createAmqpEventBus } from '@refront/transport-amqp';
import { type Channel, type ConsumeMessage, connect } from 'amqplib';
import { barePublishOne } from '../amqp-bare.js';
import { cleanBroker } from '../demo-processes.js';
import { quantile } from '../measure.js';
import { type ContenderFigures, pick, recordCase, round } from '../results.js';

const URL = process.env.REFRONT_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const PREFETCH = 100;
const WINDOW = 1_000;
const NOTE = 'x'.repeat(990);

const BARE_QUORUM = 'bare amqplib, quorum queue';
const BARE_CLASSIC = 'bare amqplib, classic queue';
const REFRONT = 'Refront AmqpEventBus';
const MOLECULER = 'Moleculer AMQP transporter';
const NEST = 'NestJS RMQ transport';

/** One contender: publishes `count` events numbered from 0 and resolves when all were handled. */
interface Contender {
  readonly name: string;
  /** Publishes event `seq` (awaitable as the framework allows). */
  readonly publish: (seq: number) => Promise<unknown>;
  /** Stops the contender's clients and servers. */
  readonly close: () => Promise<unknown>;
}

type Handled = (seq: number) => void;

/** One round of `count` events through `c`: wall time and the publish → handler latency of each. */
async function roundOf(
  c: Contender,
  count: number,
  sink: { handled: Handled },
): Promise<{ perSec: number; latencies: Float64Array }> {
  const sentAt = new Float64Array(count);
  const latencies = new Float64Array(count);
  let left = count;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  sink.handled = (seq) => {
    if (seq < 0 || seq >= count || latencies[seq] !== 0) return; // a redelivery or a stray
    latencies[seq] = (performance.now() - sentAt[seq]!) * 1000;
    if (--left === 0) done();
  };
  const start = performance.now();
  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < count) {
      const seq = next++;
      sentAt[seq] = performance.now();
      await c.publish(seq);
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, caller));
  await all;
  const ms = performance.now() - start;
  return { perSec: (count * 1000) / ms, latencies };
}

const event = (seq: number) => ({ id: `order-${seq}`, sequence: seq, note: NOTE });

async function refront(ns: string, sink: { handled: Handled }): Promise<Contender> {
  const bus = createAmqpEventBus({
    url: URL,
    service: 'bench',
    logger: createLogger({ service: 'bench', level: 'silent' }),
    namespace: ns,
    maxUnconfirmed: WINDOW,
  });
  await bus.waitUntilConnected({ signal: AbortSignal.timeout(20_000) });
  const sub = await bus.subscribe('events', [on(ThingHappened, async (e) => sink.handled(e.sequence))], {
    concurrency: PREFETCH,
  });
  return {
    name: REFRONT,
    publish: (seq) => bus.publish(ThingHappened, event(seq)),
    close: async () => {
      await sub.close();
      await bus.close();
    },
  };
}

async function bare(
  name: string,
  ns: string,
  quorum: boolean,
  sink: { handled: Handled },
): Promise<Contender> {
  const conn = await connect(URL);
  const ch = await conn.createConfirmChannel();
  const consumer: Channel = await conn.createChannel();
  const queue = `${ns}.bare-${quorum ? 'quorum' : 'classic'}`;
  await ch.assertQueue(queue, {
    durable: true,
    ...(quorum ? { arguments: { 'x-queue-type': 'quorum' } } : {}),
  });
  await consumer.prefetch(PREFETCH);
  await consumer.consume(queue, (m: ConsumeMessage | null) => {
    if (!m) return;
    const e = ThingHappened.decode(m.content);
    consumer.ack(m);
    sink.handled(e.sequence);
  });
  // Confirmed publishes through a callback per message, as a careful amqplib user writes them.
  const publish = (seq: number) =>
    barePublishOne(
      ch,
      '',
      queue,
      Buffer.from(ThingHappened.encode(ThingHappened.fromPartial(event(seq))).finish()),
      { persistent: true, contentType: 'application/x-protobuf', type: ThingHappened.$type },
    );
  return { name, publish, close: () => conn.close() };
}

async function moleculer(ns: string, sink: { handled: Handled }): Promise<Contender> {
  const { ServiceBroker } = await import('moleculer');
  const transporter = {
    type: 'AMQP',
    options: {
      url: URL,
      prefetch: PREFETCH,
      messageOptions: { persistent: true },
      // Queues of this run expire 10 s after their last consumer; the run deletes them anyway.
      autoDeleteQueues: 10_000,
    },
  };
  const common = { namespace: ns, logger: false, transporter, disableBalancer: true } as const;
  const consumer = new ServiceBroker({ ...common, nodeID: `${ns}-consumer` });
  consumer.createService({
    name: 'sink',
    events: {
      'thing.happened': (ctx: { params: { sequence: number } }) => {
        sink.handled(ctx.params.sequence);
      },
    },
  });
  const publisher = new ServiceBroker({ ...common, nodeID: `${ns}-publisher` });
  await consumer.start();
  await publisher.start();
  await publisher.waitForServices('sink', 20_000);
  return {
    name: MOLECULER,
    publish: (seq) => publisher.emit('thing.happened', event(seq)),
    close: async () => {
      await publisher.stop();
      await consumer.stop();
    },
  };
}

async function nest(ns: string, sink: { handled: Handled }): Promise<Contender> {
  await import('reflect-metadata');
  const { Controller, Module } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { ClientProxyFactory, Ctx, EventPattern, Payload, Transport } = await import('@nestjs/microservices');
  const { lastValueFrom } = await import('rxjs');
  type Context = { getChannelRef(): Channel; getMessage(): ConsumeMessage };
  // Decorators applied by hand, as in the rpc scenario's NestJS server (decision 0101).
  class SinkController {
    handle(data: { sequence: number }, context: Context): void {
      context.getChannelRef().ack(context.getMessage());
      sink.handled(data.sequence);
    }
  }
  const proto = SinkController.prototype;
  Payload()(proto, 'handle', 0);
  Ctx()(proto, 'handle', 1);
  const descriptor = Object.getOwnPropertyDescriptor(proto, 'handle');
  Reflect.decorate([EventPattern('thing.happened') as MethodDecorator], proto, 'handle', descriptor);
  Reflect.decorate([Controller()], SinkController);
  class SinkModule {}
  Reflect.decorate([Module({ controllers: [SinkController] })], SinkModule);
  const queue = `${ns}.nest`;
  const options = { urls: [URL], queue, queueOptions: { durable: true } };
  const app = await NestFactory.createMicroservice(SinkModule, {
    transport: Transport.RMQ,
    options: { ...options, noAck: false, prefetchCount: PREFETCH },
    logger: false,
  });
  await app.listen();
  const client = ClientProxyFactory.create({
    transport: Transport.RMQ,
    options: { ...options, persistent: true },
  });
  await client.connect();
  return {
    name: NEST,
    publish: (seq) => lastValueFrom(client.emit('thing.happened', event(seq)), { defaultValue: undefined }),
    close: async () => {
      await client.close();
      await app.close();
    },
  };
}

export default async function run(): Promise<void> {
  const ns = `bench25${randomBytes(3).toString('hex')}`;
  const count = pick(10_000, 1_000);
  const rounds = pick(5, 2);
  const sink: { handled: Handled } = { handled: () => {} };
  const contenders: Contender[] = [];
  try {
    // EVENTS_BENCH_ONLY (comma-separated: bare-quorum,bare-classic,refront,moleculer,nest), for profiles.
    const only = process.env.EVENTS_BENCH_ONLY?.split(',');
    const want = (key: string) => !only || only.includes(key);
    if (want('bare-quorum')) contenders.push(await bare(BARE_QUORUM, ns, true, sink));
    if (want('bare-classic')) contenders.push(await bare(BARE_CLASSIC, ns, false, sink));
    if (want('refront')) contenders.push(await refront(ns, sink));
    if (want('moleculer')) contenders.push(await moleculer(ns, sink));
    if (want('nest')) contenders.push(await nest(ns, sink));
    for (const c of contenders) await roundOf(c, Math.min(count, 500), sink); // warm-up
    const perSec = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
    const lat = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
    for (let r = 0; r < rounds; r++) {
      for (const c of contenders) {
        const res = await roundOf(c, count, sink);
        perSec.get(c.name)!.push(res.perSec);
        for (const l of res.latencies) lat.get(c.name)!.push(l);
      }
    }
    const figures: ContenderFigures[] = contenders.map((c) => ({
      contender: c.name,
      opsPerSec: Math.round(quantile(perSec.get(c.name)!, 0.5)),
      p50Us: Math.round(quantile(lat.get(c.name)!, 0.5)),
      p99Us: Math.round(quantile(lat.get(c.name)!, 0.99)),
      rssMb: null,
    }));
    const result = recordCase(
      'events, 1 KiB persistent, publish → consume with acks, prefetch 100',
      BARE_QUORUM,
      `${rounds} interleaved rounds of ${count} events per contender after a warm-up, median msgs/s; ` +
        'p50/p99: publish call → handler of every event of every round; one process (no RSS per contender)',
      figures,
    );
    const by = (n: string) => result.contenders.find((c) => c.contender === n)?.opsPerSec ?? Number.NaN;
    console.log(`1 KiB persistent events, ${count} per round, ${rounds} rounds, prefetch ${PREFETCH}, acks`);
    console.table(
      Object.fromEntries(
        result.contenders.map((c) => [
          c.contender,
          {
            'msgs/s': c.opsPerSec.toLocaleString('en-US'),
            'p50 ms': ((c.p50Us ?? 0) / 1000).toFixed(1),
            'p99 ms': ((c.p99Us ?? 0) / 1000).toFixed(1),
            [`vs ${BARE_QUORUM}`]: c.ratio === null ? '-' : `${c.ratio.toFixed(2)}x`,
            'vs Moleculer': `${(c.opsPerSec / by(MOLECULER)).toFixed(2)}x`,
            'vs NestJS': `${(c.opsPerSec / by(NEST)).toFixed(2)}x`,
          },
        ]),
      ),
    );
    console.log(
      `aim (issue 25): Refront ≥ 1.2x both peers: ${round(by(REFRONT) / by(MOLECULER), 2)}x Moleculer, ` +
        `${round(by(REFRONT) / by(NEST), 2)}x NestJS`,
    );
  } finally {
    for (const c of contenders) await c.close().catch(() => {});
    await cleanBroker(ns);
  }
}
