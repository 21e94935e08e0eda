import { createInProcessEventBus, createLogger, createService, on } from '@refront/core';
import { ThingHappened } from '@refront/test-contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { createConsole } from './createConsole.js';
import type { RedPoint } from './RedHistory.js';

const logger = createLogger({ service: 'console-test', level: 'silent' });
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

interface Row {
  kind: string;
  scope: string;
  name: string;
  history: RedPoint[];
}

describe('the Services view’s sparklines', () => {
  it("samples each process's /metrics on a timer and gives every RED row its recent points", async () => {
    const service = createService({
      name: 'svc',
      version: '0',
      logger,
      handleSignals: false,
      opsHost: '127.0.0.1',
    });
    const bus = createInProcessEventBus({ service: 'svc', logger, metrics: service.metrics });
    let handled = 0;
    await bus.subscribe('group-a', [on(ThingHappened, async () => void handled++)]);
    await service.start();
    closers.push(() => service.stop());
    closers.push(() => bus.close());
    const c = createConsole({
      enabled: true,
      development: true,
      port: 0,
      logger,
      sampleIntervalMs: 50,
      services: [{ name: 'svc', opsUrl: `http://127.0.0.1:${service.opsAddress?.port}` }],
    });
    await c.start();
    closers.push(() => c.close());

    const row = async (): Promise<Row | undefined> => {
      const body = (await (await fetch(`${c.url}/api/services`)).json()) as { services: { red: Row[] }[] };
      return body.services[0]?.red.find((r) => r.kind === 'event' && r.scope === 'group-a');
    };
    // One event makes the series; once the console sampled it twice (a first point, at rate 0
    // or not), five more handled between two samples show as a rate above zero.
    await bus.publish(ThingHappened, { id: 'first', sequence: 0 });
    await expect.poll(async () => (await row())?.history.length ?? 0).toBeGreaterThan(1);
    for (let i = 1; i <= 5; i++) await bus.publish(ThingHappened, { id: `e${i}`, sequence: i });
    await expect.poll(() => handled).toBe(6);
    await expect
      .poll(async () => (await row())?.history.some((p) => p.rate > 0), { timeout: 10_000 })
      .toBe(true);
    const points = (await row())?.history ?? [];
    expect(points.every((p) => p.errorRate === 0 && p.meanMs >= 0)).toBe(true);
  });
});
