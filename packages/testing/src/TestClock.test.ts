import { randomUUID } from 'node:crypto';
import { OtherThingHappened } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';
import { startTestApp } from './startTestApp.js';
import { createTestClock } from './TestClock.js';
import { echoRows } from './testing/count.js';
import { echoModule, sinkModule } from './testing/modules.js';

// PostgreSQL when it answers (a fresh database per app), else PGlite: the lanes under test are in-process either way.
const database = 'auto';

describe('TestClock', () => {
  it('refuses to move before install and to install twice, and puts the real timers back', async () => {
    const clock = createTestClock();
    const real = globalThis.setTimeout;
    await expect(clock.advance(1)).rejects.toMatchObject({ reason: 'TESTING_INVALID_STATE' });
    clock.install({ now: 0 });
    try {
      expect(() => clock.install()).toThrow(/installed already/);
      expect(globalThis.setTimeout).not.toBe(real);
      let fired = 0;
      setTimeout(() => fired++, 100);
      setInterval(() => fired++, 1_000);
      expect([clock.now(), clock.pendingTimers()]).toEqual([0, 2]);
      await clock.advance(2_000);
      expect([fired, Date.now()]).toEqual([3, 2_000]);
    } finally {
      clock.uninstall();
    }
    clock.uninstall();
    expect([clock.installed, globalThis.setTimeout]).toEqual([false, real]);
  });

  it("drives a module's circuit breaker: open while the clock stands still, half-open once it moved past the reset timeout", async () => {
    const echo = echoModule();
    await using app = await startTestApp({
      modules: [echo.module, sinkModule],
      database,
      tracing: false,
      clock: true,
      policy: { retry: false, circuitBreaker: { volumeThreshold: 2, resetTimeoutMs: 10_000 } },
    });
    const failing = app.faults.call({ caller: 'sink', method: 'Echo' }, { kind: 'fail' });
    const [a, b, c, d] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await app.bus('echo').publish(OtherThingHappened, { id: a });
    await app.bus('echo').publish(OtherThingHappened, { id: b });
    await eventually(() => (failing.hits === 2 ? true : undefined));
    failing.remove();
    const opened = { policy: 'sink', state: 'open' };
    expect(await app.metrics.value('refront_resilience_breaker_transitions_total', opened)).toBe(1);
    // No fault any more, but the breaker is open: the call never reaches the server.
    await app.bus('echo').publish(OtherThingHappened, { id: c });
    await eventually(async () =>
      (await app.metrics.value('refront_resilience_rejections_total', { policy: 'sink' })) === 1
        ? true
        : undefined,
    );
    expect(echo.counts.echo).toBe(0);
    // The retry ladder (1 s, 5 s) runs out while the breaker stays open; then it half-opens.
    await app.clock.advance(10_000);
    expect(app.deadLetters.of({ group: 'sink' })).toHaveLength(3);
    await app.bus('echo').publish(OtherThingHappened, { id: d });
    await eventually(async () => ((await echoRows(app, `from-sink-${d}`)) === 1 ? true : undefined));
    expect(echo.counts.echo).toBe(1);
    expect([await echoRows(app, `from-sink-${a}`), await echoRows(app, `from-sink-${c}`)]).toEqual([0, 0]);
  });
});
