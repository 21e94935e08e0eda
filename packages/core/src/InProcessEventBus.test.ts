import { OtherThingHappened, ThingHappened } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { createRequestContext, currentContext, runWithContext } from './context.js';
import { RefrontError } from './errors.js';
import { on } from './events.js';
import { createInProcessEventBus } from './InProcessEventBus.js';
import { createLogger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';
import { useInMemoryTracing } from './testing/inMemoryTracing.js';

const logger = createLogger({ service: 'test', level: 'silent' });

function bus() {
  const b = createInProcessEventBus({
    service: 'producer',
    logger,
    metrics: createMetricsRegistry({ processMetrics: false }),
  });
  return Object.assign(b, { [Symbol.asyncDispose]: () => b.close() });
}

async function until(predicate: () => boolean, timeoutMs = 3_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('in-process event bus', () => {
  it('gives every consumer group every event it subscribes to', async () => {
    await using b = bus();
    const a: number[] = [];
    const c: number[] = [];
    await b.subscribe('group-a', [on(ThingHappened, async (e) => void a.push(e.sequence))]);
    await b.subscribe('group-c', [on(ThingHappened, async (e) => void c.push(e.sequence))]);
    for (let i = 1; i <= 50; i++) await b.publish(ThingHappened, { id: `t${i}`, sequence: i });
    await until(() => a.length === 50 && c.length === 50);
    expect(a.sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(c).toHaveLength(50);
  });

  it('retries a failing handler with the configured delays, then dead-letters it with the reason', async () => {
    await using b = bus();
    const attempts: { attempt: number; at: number }[] = [];
    await b.subscribe(
      'poisoned',
      [
        on(ThingHappened, async (_e, ctx) => {
          attempts.push({ attempt: ctx.attempt, at: Date.now() });
          throw new Error('database is on fire');
        }),
      ],
      { retryDelaysMs: [20, 60] },
    );
    const env = await b.publish(ThingHappened, { id: 'poison', sequence: 1 });
    await until(() => b.deadLetters('poisoned').length === 1);
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(18);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(55);
    const [dead] = b.deadLetters('poisoned');
    expect(dead).toMatchObject({ group: 'poisoned', reason: 'CORE_ATTEMPTS_EXHAUSTED', attempts: 3 });
    expect(dead!.error).toContain('database is on fire');
    expect(dead!.envelope.id).toBe(env.id);
  });

  it('keeps handling other events while one is failing', async () => {
    await using b = bus();
    const handled: number[] = [];
    await b.subscribe(
      'mixed',
      [
        on(ThingHappened, async (e) => {
          if (e.sequence === 3) throw new Error('bad one');
          handled.push(e.sequence);
        }),
      ],
      { retryDelaysMs: [5] },
    );
    for (let i = 1; i <= 5; i++) await b.publish(ThingHappened, { id: `m${i}`, sequence: i });
    await until(() => b.deadLetters('mixed').length === 1 && handled.length === 4);
    expect(handled.sort()).toEqual([1, 2, 4, 5]);
  });

  it('dead-letters a body that does not decode at once, with the reason', async () => {
    await using b = bus();
    let calls = 0;
    await b.subscribe('strict', [on(ThingHappened, async () => void calls++)]);
    const { envelope } = {
      envelope: {
        id: 'garbage-1',
        type: ThingHappened.$type,
        schemaVersion: 1,
        contentType: 'application/x-protobuf',
        timestamp: Date.now(),
        source: 'rogue',
      },
    };
    await b.publishRaw(envelope, new Uint8Array([0x0a, 0xff, 0xff]));
    await until(() => b.deadLetters('strict').length === 1);
    expect(calls).toBe(0);
    expect(b.deadLetters('strict')[0]).toMatchObject({ reason: 'CORE_DECODE_FAILED', attempts: 1 });
  });

  it('takes a JSON body from a foreign publisher, and dead-letters a content type it cannot decode', async () => {
    const metrics = createMetricsRegistry({ processMetrics: false });
    const inProcess = createInProcessEventBus({ service: 'producer', logger, metrics });
    await using b = Object.assign(inProcess, { [Symbol.asyncDispose]: () => inProcess.close() });
    const got: string[] = [];
    await b.subscribe('polyglot', [on(ThingHappened, async (e) => void got.push(`${e.id}#${e.sequence}`))]);
    const envelope = (id: string, contentType: string) => ({
      id,
      type: ThingHappened.$type,
      schemaVersion: 1,
      contentType,
      timestamp: Date.now(),
      source: 'python-worker',
    });
    const text = (s: string) => new TextEncoder().encode(s);
    await b.publishRaw(envelope('json-1', 'application/json'), text('{"id":"order-7","sequence":7}'));
    await b.publishRaw(envelope('text-1', 'text/plain'), text('hello'));
    await until(() => got.length === 1 && b.deadLetters('polyglot').length === 1);
    expect(got).toEqual(['order-7#7']);
    expect(b.deadLetters('polyglot')[0]).toMatchObject({
      reason: 'CORE_UNSUPPORTED_CONTENT_TYPE',
      attempts: 1,
      envelope: { id: 'text-1' },
    });
    // Both counted in the consumer's RED metrics: one handled, one dead before any handler ran.
    const exposition = await metrics.metrics();
    const count = (status: string) =>
      exposition.match(
        new RegExp(`refront_event_handler_duration_seconds_count\\{[^}]*status="${status}"[^}]*\\} (\\d+)`),
      )?.[1];
    expect(count('dead')).toBe('1');
    expect(count('ack') ?? count('ok')).toBe('1');
  });

  it('dead-letters a non-retryable INVALID_ARGUMENT at once', async () => {
    await using b = bus();
    let calls = 0;
    await b.subscribe('validating', [
      on(ThingHappened, async () => {
        calls++;
        throw new RefrontError('INVALID_ARGUMENT', 'TEST_BAD_EVENT', 'sequence must be positive', {
          retryable: false,
        });
      }),
    ]);
    await b.publish(ThingHappened, { id: 'v', sequence: 0 });
    await until(() => b.deadLetters('validating').length === 1);
    expect(calls).toBe(1);
    expect(b.deadLetters('validating')[0]!.reason).toBe('TEST_BAD_EVENT');
  });

  it('dead-letters an event whose type the group no longer handles instead of leaving it stuck', async () => {
    await using b = bus();
    const first = await b.subscribe('evolving', [
      on(ThingHappened, async () => {}),
      on(OtherThingHappened, async () => {}),
    ]);
    await first.close();
    await b.publish(OtherThingHappened, { id: 'o1' });
    await b.subscribe('evolving', [on(ThingHappened, async () => {})]);
    await until(() => b.deadLetters('evolving').length === 1);
    expect(b.deadLetters('evolving')[0]!.reason).toBe('CORE_NO_HANDLER');
  });

  it('keeps events for a stopped consumer group and delivers them when it starts again', async () => {
    await using b = bus();
    const seen: number[] = [];
    const handler = on(ThingHappened, async (e) => void seen.push(e.sequence));
    const sub = await b.subscribe('reporting', [handler]);
    await b.publish(ThingHappened, { id: 'before', sequence: 0 });
    await until(() => seen.length === 1);
    await sub.close();
    for (let i = 1; i <= 20; i++) await b.publish(ThingHappened, { id: `during-${i}`, sequence: i });
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toHaveLength(1);
    expect(b.pendingCount('reporting')).toBe(20);
    await b.subscribe('reporting', [handler]);
    await until(() => seen.length === 21);
    expect(seen.slice(1).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('lets in-flight handlers finish when a subscription closes', async () => {
    await using b = bus();
    let finished = 0;
    const sub = await b.subscribe('slow', [
      on(ThingHappened, async () => {
        await new Promise((r) => setTimeout(r, 50));
        finished++;
      }),
    ]);
    await b.publish(ThingHappened, { id: 's1', sequence: 1 });
    await new Promise((r) => setTimeout(r, 5));
    await sub.close();
    expect(finished).toBe(1);
  });

  it('limits handlers in flight to the concurrency option', async () => {
    await using b = bus();
    let inflight = 0;
    let peak = 0;
    let done = 0;
    await b.subscribe(
      'bounded',
      [
        on(ThingHappened, async () => {
          inflight++;
          peak = Math.max(peak, inflight);
          await new Promise((r) => setTimeout(r, 5));
          inflight--;
          done++;
        }),
      ],
      { concurrency: 3 },
    );
    for (let i = 0; i < 20; i++) await b.publish(ThingHappened, { id: `c${i}`, sequence: i });
    await until(() => done === 20);
    expect(peak).toBe(3);
  });

  it('runs handlers in a request context with the tenant and causation of the event', async () => {
    await using b = bus();
    const seen: { tenant?: string | undefined; causation?: string | undefined }[] = [];
    await b.subscribe('first', [
      on(ThingHappened, async () => {
        await b.publish(OtherThingHappened, { id: 'follow-up' });
      }),
    ]);
    await b.subscribe('second', [
      on(OtherThingHappened, async (_e, ctx) => {
        seen.push({ tenant: currentContext()?.tenant, causation: ctx.envelope.causationId });
      }),
    ]);
    const ctx = createRequestContext({ service: 'gateway', logger, tenant: 'acme' });
    const env = await runWithContext(ctx, () => b.publish(ThingHappened, { id: 'cause', sequence: 1 }));
    await until(() => seen.length === 1);
    expect(seen[0]).toEqual({ tenant: 'acme', causation: env.id });
  });

  it('rejects invalid group names and options with INVALID_ARGUMENT', async () => {
    await using b = bus();
    await expect(b.subscribe('bad name!', [])).rejects.toMatchObject({
      status: 'INVALID_ARGUMENT',
      reason: 'CORE_INVALID_OPTION',
    });
    await expect(b.subscribe('ok', [], { concurrency: 0 })).rejects.toMatchObject({
      reason: 'CORE_INVALID_OPTION',
    });
    await expect(b.subscribe('ok', [], { retryDelaysMs: [-1] })).rejects.toMatchObject({
      reason: 'CORE_INVALID_OPTION',
    });
  });

  it('counts an event as pending until its handler has finished, not only while it is queued', async () => {
    await using b = bus();
    let release: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      const gate = new Promise<void>((r) => (release = r));
      void b.subscribe('slow', [
        on(ThingHappened, async () => {
          resolve();
          await gate;
        }),
      ]);
    });
    await b.publish(ThingHappened, { id: 'slow-1', sequence: 1 });
    await started;
    try {
      expect(b.pendingCount('slow')).toBe(1);
    } finally {
      release(); // even when the assertion fails, so closing the bus does not wait on the handler
    }
    await until(() => b.pendingCount('slow') === 0);
  });

  it('refuses publishes after close with UNAVAILABLE', async () => {
    const b = bus();
    await b.close();
    await expect(b.publish(ThingHappened, { id: 'x' })).rejects.toMatchObject({ status: 'UNAVAILABLE' });
  });

  it('sends a command to one group only, keeping it until that group consumes', async () => {
    await using b = bus();
    const a: string[] = [];
    const other: string[] = [];
    await b.subscribe('listener', [on(ThingHappened, async (e) => void other.push(e.id))]);
    const env = await b.send('billing', ThingHappened, { id: 'cmd-1', sequence: 1 });
    await new Promise((r) => setTimeout(r, 10));
    expect(b.pendingCount('billing')).toBe(1);
    await b.subscribe('billing', [
      on(ThingHappened, async (e, ctx) => void a.push(`${e.id}/${ctx.envelope.id}`)),
    ]);
    await until(() => a.length === 1);
    expect(a).toEqual([`cmd-1/${env.id}`]);
    expect(other).toEqual([]);
    await expect(b.send('bad name!', ThingHappened, {})).rejects.toMatchObject({
      reason: 'CORE_INVALID_OPTION',
    });
  });

  it('replays a dead letter after a fix', async () => {
    await using b = bus();
    let broken = true;
    let handled = 0;
    await b.subscribe(
      'fixable',
      [
        on(ThingHappened, async () => {
          if (broken) throw new Error('not yet');
          handled++;
        }),
      ],
      { retryDelaysMs: [] },
    );
    const env = await b.publish(ThingHappened, { id: 'r1' });
    await until(() => b.deadLetters('fixable').length === 1);
    broken = false;
    b.replay('fixable', env.id);
    await until(() => handled === 1);
    expect(b.deadLetters('fixable')).toHaveLength(0);
  });

  it('discards a dead letter: it leaves the store and is never handled', async () => {
    await using b = bus();
    let runs = 0;
    await b.subscribe(
      'hopeless',
      [
        on(ThingHappened, async () => {
          runs++;
          throw new Error('never');
        }),
      ],
      { retryDelaysMs: [] },
    );
    const env = await b.publish(ThingHappened, { id: 'd1' });
    await until(() => b.deadLetters('hopeless').length === 1);
    b.discard('hopeless', env.id);
    expect(b.deadLetters('hopeless')).toEqual([]);
    expect(() => b.replay('hopeless', env.id)).toThrow(
      expect.objectContaining({ reason: 'CORE_DEAD_LETTER_NOT_FOUND' }),
    );
    expect(() => b.discard('hopeless', env.id)).toThrow(
      expect.objectContaining({ reason: 'CORE_DEAD_LETTER_NOT_FOUND' }),
    );
    expect(runs).toBe(1);
  });
});

describe('in-process event bus: tracing', () => {
  const exporter = useInMemoryTracing();

  it("continues the producer's trace in the consumer span", async () => {
    await using b = bus();
    let consumerTrace = '';
    await b.subscribe('traced', [
      on(ThingHappened, async () => {
        consumerTrace = currentContext()?.traceId ?? '';
      }),
    ]);
    const ctx = createRequestContext({
      service: 'gateway',
      logger,
      parent: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1, isRemote: true },
    });
    await runWithContext(ctx, () => b.publish(ThingHappened, { id: 'traced-1' }));
    await until(() => consumerTrace !== '');
    expect(consumerTrace).toBe('a'.repeat(32));
    const consumer = exporter.getFinishedSpans().find((s) => s.name === 'traced process');
    expect(consumer?.spanContext().traceId).toBe('a'.repeat(32));
  });
});
