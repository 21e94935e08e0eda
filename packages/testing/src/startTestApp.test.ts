import { randomUUID } from 'node:crypto';
import { createEmbeddedPostgres, type EmbeddedPostgres } from '@refront/data';
import { EchoServiceDefinition, OtherThingHappened, ThingHappened } from '@refront/test-contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';
import { rejection } from './rejection.js';
import { startTestApp } from './startTestApp.js';
import { echoRows, sinkRows } from './testing/count.js';
import { echoModule, sinkModule } from './testing/modules.js';

let embedded: EmbeddedPostgres;
beforeAll(async () => {
  embedded = await createEmbeddedPostgres();
});
afterAll(async () => {
  await embedded?.close();
});

describe('startTestApp', () => {
  it('serves typed calls, relays the outbox, delivers and captures the event, and records spans and metrics', async () => {
    const echo = echoModule();
    await using app = await startTestApp({ modules: [echo.module, sinkModule], embedded });
    expect([app.database, app.broker]).toEqual(['pglite', 'in-process']);
    const id = randomUUID();
    const answer = await app.client(EchoServiceDefinition, { tenant: 'acme' }).echo({ message: id });
    expect(answer.message).toBe(id);
    expect([echo.counts.echo, await echoRows(app, id)]).toEqual([1, 1]);
    const published = await app.events.waitFor(ThingHappened, (e) => e.id === id);
    expect([published.envelope.source, published.envelope.tenant, published.event.note]).toEqual([
      'echo',
      'acme',
      'echoed',
    ]);
    expect(await eventually(async () => ((await sinkRows(app, id)) === 1 ? 1 : undefined))).toBe(1);
    await app.settled();
    expect(await sinkRows(app, id)).toBe(1);
    expect(app.events.of(ThingHappened, (e) => e.id === id)).toHaveLength(1);
    const servers = app.spans.finished((s) => s.name === 'refront.testing.v1.EchoService/Echo');
    // One client span (the test's call) and one server span.
    expect(servers).toHaveLength(2);
    expect(new Set(servers.map((s) => s.spanContext().traceId)).size).toBe(1);
    expect(await app.metrics.value('refront_rpc_server_duration_seconds_count', { rpc_method: 'Echo' })).toBe(
      1,
    );
    expect(await app.metrics.value('refront_outbox_published_total')).toBe(1);
  });

  it('captures dead letters with their reason and attempts', async () => {
    await using app = await startTestApp({ modules: [sinkModule], embedded });
    const id = randomUUID();
    await app.bus('echo').publish(ThingHappened, { id, note: 'poison' });
    const dead = await app.deadLetters.waitFor({ group: 'sink', type: ThingHappened });
    expect([dead.reason, dead.attempts, dead.envelope.source]).toEqual(['SINK_POISON', 1, 'echo']);
    expect(app.deadLetters.of({ reason: 'SINK_POISON' })).toHaveLength(1);
    expect(await sinkRows(app, id)).toBe(0);
  });

  it("checks each module's declared callers: the test calls as anyone, a module only as what it declares", async () => {
    const echo = echoModule();
    await using app = await startTestApp({
      modules: [{ ...echo.module, callers: { sink: ['refront.testing.v1.EchoService/Sleep'] } }, sinkModule],
      embedded,
    });
    expect((await app.client(EchoServiceDefinition).echo({ message: 'as the test' })).message).toBe(
      'as the test',
    );
    expect(await app.client(EchoServiceDefinition, { caller: 'sink' }).sleep({ durationMs: 0 })).toEqual({
      aborted: false,
    });
    for (const caller of ['sink', 'stranger']) {
      const err = await rejection(app.client(EchoServiceDefinition, { caller }).echo({ message: caller }));
      expect([caller, err.status, err.reason]).toEqual([
        caller,
        'PERMISSION_DENIED',
        'CORE_CALLER_NOT_ALLOWED',
      ]);
    }
    const refused = () =>
      app.metrics.value('refront_rpc_server_duration_seconds_count', {
        rpc_method: 'Echo',
        status: 'PERMISSION_DENIED',
      });
    expect(await refused()).toBe(2);
    // The sink's own client calls Echo as `sink`, which echo declares for Sleep only: refused too.
    await app.bus('echo').publish(OtherThingHappened, { id: randomUUID() });
    expect(await eventually(async () => ((await refused()) === 3 ? 3 : undefined))).toBe(3);
    expect(echo.counts.echo).toBe(1);
  });

  it('closes everything: calls and publishes are refused afterwards, and close() is idempotent', async () => {
    const echo = echoModule();
    const app = await startTestApp({ modules: [echo.module, sinkModule], embedded });
    const client = app.client(EchoServiceDefinition);
    await app.close();
    await app.close();
    const call = await rejection(client.echo({ message: 'late' }));
    expect(call.reason).toBe('CORE_NO_SERVER');
    const publish = await rejection(app.bus('echo').publish(ThingHappened, { id: 'late' }));
    expect(publish.reason).toBe('CORE_CLOSED');
    expect(echo.counts.echo).toBe(0);
  });

  it('waitFor gives up with TESTING_WAIT_TIMEOUT when nothing comes', async () => {
    await using app = await startTestApp({ modules: [], embedded, tracing: false });
    const e = await rejection(app.events.waitFor(ThingHappened, undefined, { timeoutMs: 50 }));
    expect([e.status, e.reason]).toEqual(['DEADLINE_EXCEEDED', 'TESTING_WAIT_TIMEOUT']);
    const d = await rejection(app.deadLetters.waitFor({ group: 'sink' }, { timeoutMs: 50 }));
    expect(d.reason).toBe('TESTING_WAIT_TIMEOUT');
    expect(app.spans.enabled).toBe(false);
    expect(() => app.db('nope')).toThrow(/no module named "nope"/);
  });
});
