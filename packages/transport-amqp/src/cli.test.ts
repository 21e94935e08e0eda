import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { on } from '@refront/core';
import { ThingHappened } from '@refront/test-contracts';
import { connect } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { listUnrouted } from './listUnrouted.js';
import { AMQP_URL, infraAvailable, testBus, until } from './testing/broker.js';

const up = await infraAvailable('rabbitmq');
const run = promisify(execFile);
const BIN = fileURLToPath(new URL('./bin.ts', import.meta.url));

async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { log: (l) => void out.push(l), error: (l) => void err.push(l) });
  return { code, out, err };
}

/** Declares `exchange` as an older Refront did: no alternate exchange. */
async function declarePlainExchange(exchange: string): Promise<void> {
  const conn = await connect(AMQP_URL);
  try {
    await (await conn.createChannel()).assertExchange(exchange, 'topic', { durable: true });
  } finally {
    await conn.close();
  }
}

describe.skipIf(!up)('refront-amqp and exchange migration (real RabbitMQ)', () => {
  it('lists and replays parked events, and says what it did', async () => {
    await using bus = testBus();
    const ns = bus.names.namespace;
    const sent = await bus.publish(ThingHappened, { id: 'x' });
    await until(async () => (await listUnrouted({ url: AMQP_URL, namespace: ns })).length === 1);
    const listed = await cli('unrouted', 'list', '--url', AMQP_URL, '--namespace', ns, '--json');
    expect(listed.code).toBe(0);
    expect(listed.out.map((l) => JSON.parse(l) as unknown)).toEqual([
      {
        exchange: bus.names.exchange(ThingHappened.$type),
        routingKey: ThingHappened.$type,
        type: ThingHappened.$type,
        messageId: sent.id,
        source: 'amqp-test',
      },
    ]);
    const got: string[] = [];
    await bus.subscribe('later', [on(ThingHappened, async (_e, ctx) => void got.push(ctx.envelope.id))]);
    const other = await cli(
      'unrouted',
      'replay',
      '--url',
      AMQP_URL,
      '--namespace',
      ns,
      '--type',
      'no.such.Type',
    );
    expect(other.out).toEqual(['replayed 0, still unrouted 0 (parked again), skipped 1']);
    // The executable itself, as an operator runs it (pure Node, through tsx here instead of dist/).
    const { stdout } = await run(
      process.execPath,
      ['--conditions=@refront/source', '--import', 'tsx', BIN, 'unrouted', 'replay', '--namespace', ns],
      { env: { ...process.env, AMQP_URL } },
    );
    expect(stdout.trim()).toBe('replayed 1, still unrouted 0 (parked again), skipped 0');
    await until(() => got.length === 1);
    expect(got).toEqual([sent.id]);
  });

  it('exits 2 with the usage on a bad command line, 1 with the reason on a failure', async () => {
    expect((await cli('unrouted', 'purge', '--url', AMQP_URL)).code).toBe(2);
    expect((await cli('unrouted', 'list', '--url', AMQP_URL, '--limit', '0')).code).toBe(2);
    expect((await cli('exchange', 'delete', '--url', AMQP_URL)).code).toBe(2);
    const missing = await cli('unrouted', 'list', '--url', AMQP_URL, '--namespace', 'no-such-namespace-x');
    expect(missing.code).toBe(1);
    expect(missing.err.join('\n')).toContain('AMQP_NO_UNROUTED_QUEUE');
  });

  it('fails with AMQP_ALTERNATE_EXCHANGE_MISSING on an exchange declared without it, and recovers once it is deleted', async () => {
    await using bus = testBus();
    const exchange = bus.names.exchange(ThingHappened.$type);
    await declarePlainExchange(exchange);
    const refused = {
      status: 'FAILED_PRECONDITION',
      reason: 'AMQP_ALTERNATE_EXCHANGE_MISSING',
      retryable: false,
    };
    await expect(bus.publish(ThingHappened, { id: 'p' })).rejects.toMatchObject(refused);
    const e = await bus.subscribe('g', [on(ThingHappened, async () => {})]).catch((x: unknown) => x);
    expect(e).toMatchObject(refused);
    expect((e as Error).message).toContain(`refront-amqp exchange delete ${exchange}`);
    expect((e as Error).message).toContain(`rabbitmqctl set_policy ${bus.names.namespace}-unrouted`);

    expect((await cli('exchange', 'delete', exchange, '--url', AMQP_URL)).code).toBe(0);
    const got: string[] = [];
    await bus.subscribe('g', [on(ThingHappened, async (ev) => void got.push(ev.id))]);
    await bus.publish(ThingHappened, { id: 'after' });
    await until(() => got.length === 1);
  });

  it("parks unrouted events of an old exchange through the operator's policy in 'policy' mode", async () => {
    await using bus = testBus({ alternateExchange: 'policy' });
    const ns = bus.names.namespace;
    await declarePlainExchange(bus.names.exchange(ThingHappened.$type));
    const policy = `${ns}-unrouted`;
    await run('rabbitmqctl', [
      '-q',
      'set_policy',
      policy,
      `^${ns}\\.`,
      JSON.stringify({ 'alternate-exchange': bus.names.unroutedExchange }),
      '--apply-to',
      'exchanges',
    ]);
    try {
      const sent = await bus.publish(ThingHappened, { id: 'old-exchange' });
      await until(async () => (await listUnrouted({ url: AMQP_URL, namespace: ns })).length === 1);
      expect((await listUnrouted({ url: AMQP_URL, namespace: ns })).map((m) => m.messageId)).toEqual([
        sent.id,
      ]);
    } finally {
      await run('rabbitmqctl', ['-q', 'clear_policy', policy]);
    }
  });
});
