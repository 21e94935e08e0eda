import { randomBytes } from 'node:crypto';
import { createLogger, on } from '@refront/core';
import { ThingHappened } from '@refront/test-contracts';
import { findInfra } from '@refront/testing';
import { createAmqpEventBus } from '@refront/transport-amqp';
import { connect } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import type { DeadLetterRow } from './dlq.js';
import { collect, until } from './testing/infra.js';

const amqpUrl = await findInfra('rabbitmq');
const up = amqpUrl !== undefined;
const AMQP_URL = amqpUrl ?? '';
const namespace = `cli${randomBytes(4).toString('hex')}`;
const group = 'billing';
const logger = createLogger({ service: 'cli-test', level: 'silent' });
const bus = up ? createAmqpEventBus({ url: AMQP_URL, service: 'cli-test', logger, namespace }) : undefined;
/** Every delivery the group's handler got, by the event's own id; it fails while `poisoned`. */
const handled: string[] = [];
let poisoned = true;

async function dlq(...argv: string[]) {
  const out = collect();
  const code = await runCli(['dlq', ...argv, '--url', AMQP_URL, '--namespace', namespace], out);
  return { code, out: out.out, err: out.err };
}

async function rows(): Promise<DeadLetterRow[]> {
  const r = await dlq('list', group, '--json');
  expect(r.code).toBe(0);
  return r.out.map((l) => JSON.parse(l) as DeadLetterRow);
}

beforeAll(async () => {
  if (!bus) return;
  // One attempt, no retry: a failing event goes straight to the group's dead-letter queue.
  await bus.subscribe(
    group,
    [
      on(ThingHappened, async (e) => {
        handled.push(e.id);
        if (poisoned) throw new Error(`cannot bill ${e.id}: poisoned`);
      }),
    ],
    { retryDelaysMs: [] },
  );
  await bus.publish(ThingHappened, { id: 'poison-1', sequence: 1, note: '' });
  await bus.publish(ThingHappened, { id: 'poison-2', sequence: 2, note: '' });
});

afterAll(async () => {
  if (!bus) return;
  await bus.close({ signal: AbortSignal.timeout(5_000) });
  const conn = await connect(AMQP_URL);
  conn.on('error', () => {});
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  for (const q of [
    `${namespace}.${group}`,
    `${namespace}.${group}.dlq`,
    `${namespace}.unrouted`,
    `${namespace}.unrouted.notices`,
  ])
    await ch.deleteQueue(q).catch(() => {});
  for (const x of [`${namespace}.refront.testing.v1`, `${namespace}.unrouted`])
    await ch.deleteExchange(x).catch(() => {});
  await conn.close().catch(() => {});
});

describe.skipIf(!up)('refront dlq (real RabbitMQ)', () => {
  it('lists the poisoned messages with their reason and attempts, without removing them', async () => {
    await until(async () => (await rows()).length === 2);
    const dead = await rows();
    expect(dead).toHaveLength(2);
    for (const d of dead) {
      expect(d.type).toBe('refront.testing.v1.ThingHappened');
      expect(d.source).toBe('cli-test');
      expect(d.attempts).toBe(1);
      expect(d.reason).toMatch(/^[A-Z_]+$/);
      expect(d.error).toContain('poisoned');
      expect(Date.parse(d.deadLetteredAt ?? '')).toBeGreaterThan(0);
    }
    // Listing twice read the same two: nothing was consumed.
    expect((await rows()).map((d) => d.id).sort()).toEqual(dead.map((d) => d.id).sort());
    const table = await dlq('list', group);
    expect(table.out.at(-1)).toBe(`2 dead letter(s) in ${namespace}.${group}.dlq`);
    expect(handled.sort()).toEqual(['poison-1', 'poison-2']);
  });

  it('replays one by --id: the group handles it once more, and it fails back into the DLQ', async () => {
    const [first, second] = await rows();
    const r = await dlq('replay', group, '--id', first?.id ?? '');
    expect(r.code).toBe(0);
    expect(r.out).toEqual([`replayed 1 to ${namespace}.${group}; 1 left in the dead-letter queue`]);
    await until(() => handled.length === 3);
    await until(async () => (await rows()).length === 2);
    const again = await rows();
    // The replayed one came back as a first attempt, dead-lettered again; the other never moved.
    expect(again.find((d) => d.id === first?.id)?.attempts).toBe(1);
    expect(again.some((d) => d.id === second?.id)).toBe(true);
  });

  it('replays --all once the cause is fixed: every event is handled and the DLQ is empty', async () => {
    poisoned = false;
    const r = await dlq('replay', group, '--all');
    expect(r.out).toEqual([`replayed 2 to ${namespace}.${group}; 0 left in the dead-letter queue`]);
    await until(() => handled.length === 5);
    expect(handled.slice(3).sort()).toEqual(['poison-1', 'poison-2']);
    expect(await rows()).toEqual([]);
  });

  it('discards --id for good: the group never sees it again', async () => {
    poisoned = true;
    await bus?.publish(ThingHappened, { id: 'poison-3', sequence: 3, note: '' });
    await until(async () => (await rows()).length === 1);
    const [dead] = await rows();
    const r = await dlq('discard', group, '--id', dead?.id ?? '');
    expect(r.out).toEqual([`discarded 1 from ${namespace}.${group}.dlq; 0 left`]);
    expect(await rows()).toEqual([]);
    expect(handled.filter((id) => id === 'poison-3')).toEqual(['poison-3']);
    poisoned = false;
  });

  it('says what is wrong: an unknown id, an unknown group, a wrong port, no selection', async () => {
    const missing = await dlq('replay', group, '--id', 'no-such-id');
    expect([missing.code, missing.err]).toEqual([1, [`not in ${namespace}.${group}.dlq: no-such-id`]]);
    const unknown = await dlq('list', 'nobody');
    expect(unknown.code).toBe(1);
    expect(unknown.err.join('\n')).toContain(`no dead-letter queue ${namespace}.nobody.dlq`);
    const out = collect();
    const wrongPort = await runCli(['dlq', 'list', group, '--url', 'amqp://guest:guest@127.0.0.1:5999'], out);
    expect(wrongPort).toBe(1);
    expect(out.err.join('\n')).toMatch(
      /cannot reach the broker at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:5999.*ECONNREFUSED/,
    );
    const neither = await dlq('replay', group);
    expect([neither.code, neither.err]).toEqual([2, ['refront: pass either --all or --id <event-id...>']]);
  });
});
