import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { on } from '@refront/core';
import { createInbox, createOutbox, openDatabase } from '@refront/data';
import { ThingHappened } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { infraAvailable, PG_URL, suffix, testBus, until } from './testing/broker.js';

const up = (await infraAvailable('rabbitmq')) && (await infraAvailable('postgres'));
const child = fileURLToPath(new URL('./testing/outboxChild.ts', import.meta.url));

/** Runs the child until it is about to publish, then SIGKILLs it; resolves with what it printed. */
function crashBetweenCommitAndPublish(schema: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      ['--conditions=@refront/source', '--import', 'tsx', child, PG_URL, schema],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('committed') && out.includes('publishing')) p.kill('SIGKILL');
    });
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.on('error', reject);
    p.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && out.includes('publishing')) resolve(out);
      else reject(new Error(`child ended without reaching the publish (${signal}): ${out}${err}`));
    });
  });
}

describe.skipIf(!up)('transactional outbox over RabbitMQ (real RabbitMQ and PostgreSQL)', () => {
  it('publishes an event committed by a relay killed before it published it, exactly once', async () => {
    const schema = `amqp_outbox_${suffix()}`;
    const output = await crashBetweenCommitAndPublish(schema);
    expect(output).toContain('committed');
    const db = await openDatabase({
      schema,
      url: PG_URL,
      migrations: [{ version: 1, name: 'orders', sql: 'create table orders (id text primary key)' }],
    });
    try {
      await using bus = testBus();
      const received: string[] = [];
      let duplicates = 0;
      const inbox = createInbox({ db, group: 'shipping' });
      await bus.subscribe('shipping', [
        on(ThingHappened, async (e, ctx) => {
          const r = await inbox.handleOnce(
            ctx.envelope,
            async () => void received.push(`${e.id}/${ctx.envelope.id}`),
          );
          if (r.duplicate) duplicates++;
        }),
      ]);
      const relay = createOutbox({ db, source: 'orders', publisher: bus, pollIntervalMs: 50 });
      expect(await relay.pending()).toBe(1);
      relay.start();
      try {
        await until(() => received.length === 1, 15_000);
        await until(async () => (await relay.pending()) === 0);
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        await relay.close();
      }
      expect(received).toEqual(['order-1/evt-order-1']);
      expect(duplicates).toBe(0);
      const orders = await db.query<{ id: string }>('select id from orders');
      expect(orders.rows).toEqual([{ id: 'order-1' }]);
    } finally {
      await db.query(`drop schema "${schema}" cascade`);
      await db.close();
    }
  });
});
