import { randomUUID } from 'node:crypto';
import { EchoServiceDefinition, OtherThingHappened, ThingHappened } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';
import { rejection } from './rejection.js';
import { startTestApp } from './startTestApp.js';
import { echoRows, sinkRows } from './testing/count.js';
import { echoModule, sinkModule } from './testing/modules.js';

// PostgreSQL when it answers (a fresh database per app), else PGlite: the lanes under test are in-process either way.
const database = 'auto';

const start = (echo = echoModule()) =>
  startTestApp({ modules: [echo.module, sinkModule], database, tracing: false }).then((app) => ({
    app,
    counts: echo.counts,
  }));

describe('call faults', () => {
  it('fails the nth call with TESTING_INJECTED_FAULT before it reaches the server', async () => {
    const { app, counts } = await start();
    await using _ = app;
    const fault = app.faults.call(
      { service: EchoServiceDefinition, method: 'Echo' },
      { kind: 'fail' },
      { nth: 2 },
    );
    const echo = app.client(EchoServiceDefinition);
    await echo.echo({ message: 'one' });
    const e = await rejection(echo.echo({ message: 'two' }));
    expect([e.status, e.reason, e.unprocessed]).toEqual(['UNAVAILABLE', 'TESTING_INJECTED_FAULT', true]);
    await echo.echo({ message: 'three' });
    expect([counts.echo, fault.hits, fault.matches]).toEqual([2, 1, 3]);
    expect([await echoRows(app, 'one'), await echoRows(app, 'two'), await echoRows(app, 'three')]).toEqual([
      1, 0, 1,
    ]);
  });

  it("lets a module's retry policy recover from a failed call: the server runs it once", async () => {
    const { app, counts } = await start();
    await using _ = app;
    const fault = app.faults.call({ service: 'EchoService', caller: 'sink' }, { kind: 'fail' }, { times: 1 });
    const id = randomUUID();
    await app.bus('echo').publish(OtherThingHappened, { id });
    await eventually(async () => ((await echoRows(app, `from-sink-${id}`)) === 1 ? true : undefined));
    await app.settled();
    expect([fault.hits, counts.echo, await echoRows(app, `from-sink-${id}`)]).toEqual([1, 1, 1]);
    expect(await app.metrics.value('refront_resilience_retries_total')).toBe(1);
  });

  it('runs a duplicated call twice on the server and answers once', async () => {
    const { app, counts } = await start();
    await using _ = app;
    app.faults.call({ method: 'Echo' }, { kind: 'duplicate' }, { times: 1 });
    const answer = await app.client(EchoServiceDefinition).echo({ message: 'dup' });
    expect(answer.message).toBe('dup');
    expect([counts.echo, await echoRows(app, 'dup')]).toEqual([2, 2]);
  });

  it('loses a dropped call: the caller gets DEADLINE_EXCEEDED when its deadline passes on the clock', async () => {
    const { app, counts } = await start();
    await using _ = app;
    app.clock.install();
    app.faults.call({ method: 'Echo' }, { kind: 'drop' });
    const pending = rejection(
      app.client(EchoServiceDefinition).echo({ message: 'lost' }, { timeoutMs: 60_000 }),
    );
    await app.clock.advance(60_000);
    const e = await pending;
    expect(e.status).toBe('DEADLINE_EXCEEDED');
    expect([counts.echo, await echoRows(app, 'lost')]).toEqual([0, 0]);
  });

  it('holds a delayed call until the clock moves', async () => {
    const { app, counts } = await start();
    await using _ = app;
    app.clock.install();
    app.faults.call({ method: 'Echo' }, { kind: 'delay', ms: 5_000 });
    let answered = false;
    const pending = app
      .client(EchoServiceDefinition)
      .echo({ message: 'late' })
      .then(() => {
        answered = true;
      });
    await app.clock.advance(4_999);
    expect([answered, counts.echo]).toEqual([false, 0]);
    await app.clock.advance(1);
    await pending;
    expect([answered, counts.echo, await echoRows(app, 'late')]).toEqual([true, 1, 1]);
  });
});

describe('event faults', () => {
  it('drops the nth publish: the publisher is answered, no consumer gets it', async () => {
    const { app } = await start();
    await using _ = app;
    const fault = app.faults.event({ type: ThingHappened }, { kind: 'drop' }, { nth: 1 });
    const [a, b] = [randomUUID(), randomUUID()];
    await app.bus('echo').publish(ThingHappened, { id: a, note: 'x' });
    await app.bus('echo').publish(ThingHappened, { id: b, note: 'x' });
    await eventually(async () => ((await sinkRows(app, b)) === 1 ? true : undefined));
    await app.settled();
    expect([await sinkRows(app, a), await sinkRows(app, b), fault.hits]).toEqual([0, 1, 1]);
    expect(app.events.of(ThingHappened).map((e) => e.event.id)).toEqual([a, b]);
  });

  it('duplicates a publish: the same envelope reaches the consumer twice', async () => {
    const { app } = await start();
    await using _ = app;
    app.faults.event({ type: ThingHappened, source: 'echo' }, { kind: 'duplicate' });
    const id = randomUUID();
    await app.bus('echo').publish(ThingHappened, { id, note: 'x' });
    await eventually(async () => ((await sinkRows(app, id)) === 2 ? true : undefined));
    await app.settled();
    expect(await sinkRows(app, id)).toBe(2);
    expect(app.events.of(ThingHappened)).toHaveLength(1);
  });

  it('fails a publish of the outbox relay: the relay publishes it again, once', async () => {
    const { app } = await start();
    await using _ = app;
    const fault = app.faults.event({ type: ThingHappened, source: 'echo' }, { kind: 'fail' }, { nth: 1 });
    await app.client(EchoServiceDefinition).echo({ message: 'relayed' });
    await eventually(async () => ((await sinkRows(app, 'relayed')) === 1 ? true : undefined));
    await app.settled();
    expect([fault.hits, await sinkRows(app, 'relayed')]).toEqual([1, 1]);
    expect(await app.metrics.value('refront_outbox_publish_failures_total')).toBe(1);
  });

  it('delays a publish on the clock', async () => {
    const { app } = await start();
    await using _ = app;
    app.clock.install();
    app.faults.event({ type: ThingHappened }, { kind: 'delay', ms: 2_000 });
    const id = randomUUID();
    await app.bus('echo').publish(ThingHappened, { id, note: 'x' });
    await app.settled();
    expect(await sinkRows(app, id)).toBe(0);
    await app.clock.advance(2_000);
    await eventually(async () => ((await sinkRows(app, id)) === 1 ? true : undefined));
    await app.settled();
    expect(await sinkRows(app, id)).toBe(1);
  });

  it('fails deliveries to a group: the clock drives its retry ladder, then it dead-letters', async () => {
    const { app } = await start();
    await using _ = app;
    app.clock.install();
    const twice = app.faults.event({ type: ThingHappened, group: 'sink' }, { kind: 'fail' }, { times: 2 });
    const id = randomUUID();
    await app.bus('echo').publish(ThingHappened, { id, note: 'x' });
    await eventually(() => (twice.hits === 1 ? true : undefined));
    await app.clock.advance(999);
    expect(twice.hits).toBe(1);
    await app.clock.advance(1);
    await eventually(() => (twice.hits === 2 ? true : undefined));
    await app.clock.advance(5_000);
    await eventually(async () => ((await sinkRows(app, id)) === 1 ? true : undefined));
    expect(twice.matches).toBe(3);
    twice.remove();
    // Every attempt fails: three attempts, then the dead letter.
    app.faults.event({ type: ThingHappened, group: 'sink' }, { kind: 'fail' });
    const other = randomUUID();
    await app.bus('echo').publish(ThingHappened, { id: other, note: 'x' });
    await app.clock.advance(1_000);
    await app.clock.advance(5_000);
    const dead = await app.deadLetters.waitFor({ group: 'sink' });
    expect([dead.envelope.type, dead.attempts]).toEqual([ThingHappened.$type, 3]);
    expect(await sinkRows(app, other)).toBe(0);
  });

  it('drops and duplicates deliveries to a group', async () => {
    const { app } = await start();
    await using _ = app;
    app.faults.event({ group: 'sink' }, { kind: 'drop' }, { nth: 1 });
    app.faults.event({ group: 'sink' }, { kind: 'duplicate' }, { nth: 2 });
    const [a, b] = [randomUUID(), randomUUID()];
    await app.bus('echo').publish(ThingHappened, { id: a, note: 'x' });
    await app.settled();
    await app.bus('echo').publish(ThingHappened, { id: b, note: 'x' });
    await eventually(async () => ((await sinkRows(app, b)) === 2 ? true : undefined));
    await app.settled();
    expect([await sinkRows(app, a), await sinkRows(app, b)]).toEqual([0, 2]);
  });
});
