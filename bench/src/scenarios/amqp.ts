/**
 * RabbitMQ: Refront's AMQP event bus against bare amqplib in the same run, on the same broker
 * (RabbitMQ on 127.0.0.1:5672, or REFRONT_AMQP_URL), with the same quorum queues:
 *  - publish with confirms, the same number of unconfirmed messages in flight (1,000) on the wire.
 *    The Refront publisher runs as two callers: one that hands over all 20,000 messages at once
 *    (`Promise.all`; 19,000 wait in the client's queue, each with its promise), and one that keeps
 *    the bare side's window of 1,000 awaited publishes (as the bare pump does with callbacks);
 *  - publish → consume, the same prefetch, one ack per message, with the same two callers;
 *  - consume only: a filled queue drained, the consumer's client CPU alone;
 *  - the latency one awaited confirmed publish adds.
 * Rounds alternate Refront and bare; medians are reported. Beside wall time it prints the client
 * CPU per message of each side (process.cpuUsage over the round): the broker shares this
 * machine's cores, so throughput moves with the load while the client's CPU cost barely does.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createLogger, on, type Subscription } from '@refront/core';
import { ThingHappened } from '@refront/test-contracts';
import { createAmqpEventBus } from '@refront/transport-amqp';
import { type ConfirmChannel, type ConsumeMessage, connect, type Options } from 'amqplib';
import { barePublishMany, barePublishOne } from '../amqp-bare.js';
import { printTable, type Timing } from '../measure.js';

const URL = process.env.REFRONT_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const COUNT = 20_000;
const WINDOW = 1_000;
const PREFETCH = 100;
const ROUNDS = Number(process.env.REFRONT_BENCH_ROUNDS ?? 5);
const LATENCY_ITERATIONS = 2_000;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timing(name: string, nsPerOp: number[]): Timing {
  const ns = median(nsPerOp);
  return { name, nsPerOp: ns, opsPerSec: 1e9 / ns };
}

/** Wall and CPU (user + system) ns per operation of one round. */
interface Sample {
  readonly ns: number;
  readonly cpuNs: number;
}

async function timed(fn: () => Promise<void>, ops: number): Promise<Sample> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await fn();
  const ns = Number(process.hrtime.bigint() - start) / ops;
  const used = process.cpuUsage(cpu);
  return { ns, cpuNs: ((used.user + used.system) * 1000) / ops };
}

const BARE = 'bare amqplib';
const REFRONT = 'refront AmqpEventBus';
/** The Refront publisher as a caller that hands over all messages at once (Promise.all). */
const BURST = 'refront, all at once';
/** The Refront publisher as callers that keep the bare side's window: WINDOW awaiting publishes. */
const WINDOWED = 'refront, windowed';

/** Collects the rounds of every variant; `bare amqplib` is the baseline. */
class Rounds {
  private readonly samples = new Map<string, Sample[]>();

  add(name: string, sample: Sample): void {
    const list = this.samples.get(name) ?? [];
    list.push(sample);
    this.samples.set(name, list);
  }

  of(name: string): readonly Sample[] {
    return this.samples.get(name) ?? [];
  }

  print(): void {
    const names = [...this.samples.keys()];
    printTable(
      names.map((n) =>
        timing(
          n,
          this.of(n).map((s) => s.ns),
        ),
      ),
      BARE,
    );
    const bare = this.of(BARE);
    const cpuB = median(bare.map((s) => s.cpuNs)) / 1000;
    for (const n of names) {
      if (n === BARE) continue;
      const cpu = median(this.of(n).map((s) => s.cpuNs)) / 1000;
      const ratios = this.of(n).map((r, i) => bare[i]!.ns / r.ns);
      console.log(
        `${n}: client CPU per message (median) ${cpu.toFixed(1)} µs against bare ${cpuB.toFixed(1)} µs (+${(cpu - cpuB).toFixed(1)} µs); ` +
          `throughput ratio per round: ${ratios.map((x) => x.toFixed(2)).join(' ')}`,
      );
    }
  }
}

/** `count` publishes through `publish`, at most `window` awaited at a time, as a back-pressured caller would. */
async function windowed(publish: () => Promise<unknown>, count: number, window: number): Promise<void> {
  let left = count;
  const caller = async (): Promise<void> => {
    while (left-- > 0) await publish();
  };
  await Promise.all(Array.from({ length: window }, caller));
}

export default async function run(): Promise<void> {
  const ns = `bench${randomBytes(3).toString('hex')}`;
  const logger = createLogger({ service: 'bench', level: 'silent' });
  const bus = createAmqpEventBus({
    url: URL,
    service: 'bench',
    logger,
    namespace: ns,
    maxUnconfirmed: WINDOW,
  });
  const conn = await connect(URL);
  const admin = await conn.createChannel();
  const ch: ConfirmChannel = await conn.createConfirmChannel();
  const event = { id: 'order-42', sequence: 42, note: 'a typical small event body of about sixty bytes' };
  // The bare side encodes each message too, as a user publishing distinct events must.
  const body = () => Buffer.from(ThingHappened.encode(ThingHappened.fromPartial(event)).finish());
  const props = (): Options.Publish => ({
    persistent: true,
    messageId: randomUUID(),
    type: ThingHappened.$type,
    contentType: 'application/x-protobuf',
    appId: 'bench',
    timestamp: Math.floor(Date.now() / 1000),
  });
  const exchange = bus.names.exchange(ThingHappened.$type);
  const quorum = { durable: true, arguments: { 'x-queue-type': 'quorum' } };
  try {
    // 1. Publish with confirms into one quorum queue, the same window of unconfirmed messages.
    await bus.waitUntilConnected({ signal: AbortSignal.timeout(10_000) });
    await admin.assertExchange(exchange, 'topic', {
      durable: true,
      alternateExchange: bus.names.unroutedExchange,
    });
    const sink = `${ns}.sink`;
    await admin.assertQueue(sink, quorum);
    await admin.bindQueue(sink, exchange, ThingHappened.$type);
    const pub = new Rounds();
    const publishOne = () => bus.publish(ThingHappened, event);
    for (let r = 0; r <= ROUNDS; r++) {
      const bare = await timed(
        () => barePublishMany(ch, exchange, ThingHappened.$type, body, props, COUNT, WINDOW),
        COUNT,
      );
      await admin.purgeQueue(sink);
      const burst = await timed(
        () => Promise.all(Array.from({ length: COUNT }, publishOne)).then(() => {}),
        COUNT,
      );
      await admin.purgeQueue(sink);
      const paced = await timed(() => windowed(publishOne, COUNT, WINDOW), COUNT);
      await admin.purgeQueue(sink);
      if (r === 0) continue; // warm-up
      pub.add(BARE, bare);
      pub.add(BURST, burst);
      pub.add(WINDOWED, paced);
    }
    await admin.deleteQueue(sink);
    console.log(
      `publish with confirms: ${COUNT} messages per round, ${WINDOW} unconfirmed at most, ${ROUNDS} rounds`,
    );
    pub.print();

    // 2. Publish → consume through a quorum queue: the same prefetch, one ack per message.
    const e2e = new Rounds();
    let handled = 0;
    let done: (() => void) | undefined;
    const bindings = [
      on(ThingHappened, async () => {
        if (++handled === COUNT) done?.();
      }),
    ];
    const sub = await bus.subscribe('e2e', bindings, { concurrency: PREFETCH });
    const bareExchange = `${ns}.bare`;
    const bareQueue = `${ns}.bare-e2e`;
    await admin.assertExchange(bareExchange, 'topic', { durable: true });
    // The same quorum queue arguments as a Refront group queue, so only the client differs.
    await admin.assertQueue(bareQueue, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': 20,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': `${ns}.bare-dlq`,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    });
    await admin.bindQueue(bareQueue, bareExchange, ThingHappened.$type);
    const consumer = await conn.createChannel();
    await consumer.prefetch(PREFETCH);
    let bareHandled = 0;
    let bareDone: (() => void) | undefined;
    const onBare = (m: ConsumeMessage | null): void => {
      if (!m) return;
      // Decode as a careful user would, then ack.
      ThingHappened.decode(m.content);
      consumer.ack(m);
      if (++bareHandled === COUNT) bareDone?.();
    };
    const { consumerTag } = await consumer.consume(bareQueue, onBare);
    const refrontE2e = (publishAll: () => Promise<unknown>) => {
      handled = 0;
      return timed(async () => {
        const all = new Promise<void>((resolve) => (done = resolve));
        await publishAll();
        await all;
      }, COUNT);
    };
    for (let r = 0; r <= ROUNDS; r++) {
      bareHandled = 0;
      const bare = await timed(async () => {
        const all = new Promise<void>((resolve) => (bareDone = resolve));
        await barePublishMany(ch, bareExchange, ThingHappened.$type, body, props, COUNT, WINDOW);
        await all;
      }, COUNT);
      const burst = await refrontE2e(() => Promise.all(Array.from({ length: COUNT }, publishOne)));
      const paced = await refrontE2e(() => windowed(publishOne, COUNT, WINDOW));
      if (r === 0) continue;
      e2e.add(BARE, bare);
      e2e.add(BURST, burst);
      e2e.add(WINDOWED, paced);
    }
    await sub.close();
    console.log(
      `publish → consume: ${COUNT} messages per round, prefetch ${PREFETCH}, ack per message, ${ROUNDS} rounds`,
    );
    e2e.print();

    // 2b. Consume only: each queue is filled first, then drained by a fresh consumer, so the
    // client CPU per message is the consumer's alone (no publisher in the same process). The
    // side that goes first alternates per round.
    await consumer.cancel(consumerTag);
    const drain = new Rounds();
    const refrontDrain = async (): Promise<Sample> => {
      await Promise.all(Array.from({ length: COUNT }, () => bus.publish(ThingHappened, event)));
      handled = 0;
      const all = new Promise<void>((resolve) => (done = resolve));
      let again: Subscription | undefined;
      const s = await timed(async () => {
        again = await bus.subscribe('e2e', bindings, { concurrency: PREFETCH });
        await all;
      }, COUNT);
      await again?.close();
      return s;
    };
    const bareDrain = async (): Promise<Sample> => {
      await barePublishMany(ch, bareExchange, ThingHappened.$type, body, props, COUNT, WINDOW);
      bareHandled = 0;
      const all = new Promise<void>((resolve) => (bareDone = resolve));
      let tag = '';
      const s = await timed(async () => {
        ({ consumerTag: tag } = await consumer.consume(bareQueue, onBare));
        await all;
      }, COUNT);
      await consumer.cancel(tag);
      return s;
    };
    for (let r = 0; r <= ROUNDS; r++) {
      let refront: Sample;
      let bare: Sample;
      if (r % 2 === 0) {
        refront = await refrontDrain();
        bare = await bareDrain();
      } else {
        bare = await bareDrain();
        refront = await refrontDrain();
      }
      if (r === 0) continue;
      drain.add(BARE, bare);
      drain.add(REFRONT, refront);
    }
    console.log(
      `consume only (queue filled first): ${COUNT} messages per round, prefetch ${PREFETCH}, ack per message, ${ROUNDS} rounds`,
    );
    drain.print();

    // 3. What an awaited confirmed publish adds. Nothing is bound to the exchange now, so the
    // broker confirms without a disk write and the client's share is visible; Refront and bare
    // alternate on every iteration so broker drift hits both alike.
    await admin.unbindQueue(`${ns}.e2e`, exchange, ThingHappened.$type);
    const lat = new Rounds();
    for (let r = 0; r <= ROUNDS + 2; r++) {
      let refront = 0n;
      let bare = 0n;
      let refrontCpu = 0;
      let bareCpu = 0;
      for (let i = 0; i < LATENCY_ITERATIONS; i++) {
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        await bus.publish(ThingHappened, event);
        const t1 = process.hrtime.bigint();
        const c1 = process.cpuUsage();
        await barePublishOne(ch, exchange, ThingHappened.$type, body(), props());
        bare += process.hrtime.bigint() - t1;
        const c2 = process.cpuUsage();
        refront += t1 - t0;
        refrontCpu += c1.user + c1.system - c0.user - c0.system;
        bareCpu += c2.user + c2.system - c1.user - c1.system;
      }
      if (r === 0) continue;
      lat.add(BARE, { ns: Number(bare) / LATENCY_ITERATIONS, cpuNs: (bareCpu * 1000) / LATENCY_ITERATIONS });
      lat.add(REFRONT, {
        ns: Number(refront) / LATENCY_ITERATIONS,
        cpuNs: (refrontCpu * 1000) / LATENCY_ITERATIONS,
      });
    }
    console.log(
      `awaited confirmed publish, one at a time (${LATENCY_ITERATIONS} per round, broker confirms at once)`,
    );
    lat.print();
    // Paired: each round's Refront and bare iterations alternated, so their difference is the figure.
    const added = median(lat.of(REFRONT).map((s, i) => s.ns - lat.of(BARE)[i]!.ns)) / 1000;
    console.log(
      `latency an awaited confirmed publish adds (median of per-round differences): ${added.toFixed(1)} µs`,
    );
  } finally {
    await bus.close();
    for (const q of ['sink', 'bare-e2e', 'e2e', 'e2e.dlq'])
      await admin.deleteQueue(`${ns}.${q}`).catch(() => {});
    for (const d of [250, 1000, 4000, 15000])
      await admin.deleteQueue(`${ns}.e2e.retry.${d}ms`).catch(() => {});
    await admin.deleteExchange(exchange).catch(() => {});
    await admin.deleteExchange(`${ns}.bare`).catch(() => {});
    await conn.close();
  }
}
