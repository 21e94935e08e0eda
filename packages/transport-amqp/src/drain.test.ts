import { createService, on } from '@refront/core';
import { ThingHappened } from '@refront/test-contracts';
import { connect } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { AMQP_URL, infraAvailable, logger, testBus, until } from './testing/broker.js';

const up = await infraAvailable('rabbitmq');

/** What a queue holds now (ready messages) and how many consumers it has, as the broker says. */
async function queueState(queue: string): Promise<{ messageCount: number; consumerCount: number }> {
  const conn = await connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    const { messageCount, consumerCount } = await ch.checkQueue(queue);
    return { messageCount, consumerCount };
  } finally {
    await conn.close();
  }
}

/** A promise with its resolve function. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe.skipIf(!up)('AmqpEventBus.drain (real RabbitMQ)', () => {
  it('lets the handler in flight finish and ack, starts no delivery after it began, and confirms the publish in flight', async () => {
    await using bus = testBus();
    const queue = bus.names.queue('drained');
    const release = gate();
    const started: string[] = [];
    const finished: string[] = [];
    let drained = false;
    let finishedWhileDraining = false;
    await bus.subscribe(
      'drained',
      [
        on(ThingHappened, async (e) => {
          started.push(e.id);
          await release.promise;
          finished.push(e.id);
          finishedWhileDraining = !drained;
        }),
      ],
      { concurrency: 1 },
    );
    for (let i = 0; i < 5; i++) await bus.publish(ThingHappened, { id: `e${i}` });
    await until(() => started.length === 1);

    // A publish the broker has not confirmed yet when the drain begins.
    let confirmed = false;
    const inFlight = bus.publish(ThingHappened, { id: 'in-flight' }).then(() => {
      confirmed = true;
    });
    const draining = bus.drain(AbortSignal.timeout(20_000)).then(() => {
      drained = true;
    });
    // The broker has confirmed and queued the publish made as the drain began; the drain is still
    // waiting for the handler.
    await inFlight;
    await until(async () => (await queueState(queue)).messageCount === 5);
    expect(drained).toBe(false);
    expect(finished).toEqual([]);
    release.open();
    await draining;
    expect(confirmed).toBe(true);
    expect(finishedWhileDraining).toBe(true);
    expect(started).toEqual(['e0']);
    expect(finished).toEqual(['e0']);
    // e0 was acked (not back in the queue); e1..e4 and the publish in flight wait for the next consumer.
    expect(await queueState(queue)).toEqual({ messageCount: 5, consumerCount: 0 });
    // Still publishing while draining: an outbox relay or a request in flight may publish until close().
    await expect(bus.publish(ThingHappened, { id: 'after-drain' })).resolves.toMatchObject({
      type: ThingHappened.$type,
    });
    await expect(bus.subscribe('late', [on(ThingHappened, async () => {})])).rejects.toMatchObject({
      status: 'UNAVAILABLE',
      reason: 'CORE_DRAINING',
    });
    await bus.close();
    expect(started).toEqual(['e0']);
    expect((await queueState(queue)).messageCount).toBe(6);
  });

  it('resolves only once the publishes made before it are confirmed', async () => {
    await using bus = testBus();
    await bus.waitUntilConnected();
    const confirmed: number[] = [];
    const published = Array.from({ length: 200 }, (_, i) =>
      bus.publish(ThingHappened, { id: `p${i}`, sequence: i }).then(() => void confirmed.push(i)),
    );
    await bus.drain();
    expect(confirmed).toHaveLength(200);
    await Promise.all(published);
  });

  it('is drained and closed by the service it is a component of', async () => {
    const bus = testBus();
    const service = createService({
      name: 'drain-test',
      version: '0',
      opsPort: false,
      handleSignals: false,
      logger,
    });
    service.use(bus);
    await service.start();
    expect(bus.isReady()).toBe(true);
    const release = gate();
    let finished = 0;
    await bus.subscribe(
      'svc',
      [
        on(ThingHappened, async () => {
          await release.promise;
          finished++;
        }),
      ],
      { concurrency: 1 },
    );
    await bus.publish(ThingHappened, { id: 'svc-1' });
    await bus.publish(ThingHappened, { id: 'svc-2' });
    await until(async () => (await queueState(bus.names.queue('svc'))).messageCount === 1);
    const stopped = service.stop();
    await until(() => service.state === 'draining');
    release.open();
    await stopped;
    expect(finished).toBe(1);
    expect(bus.connectionState).toBe('closed');
    expect((await queueState(bus.names.queue('svc'))).messageCount).toBe(1);
    await bus[Symbol.asyncDispose]();
  });
});
