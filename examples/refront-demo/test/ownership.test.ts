/**
 * Events from their owner only (issue 20, decisions 0048 and 0049), on the distributed topology as
 * it runs by default: every service its own process, logged in to RabbitMQ as its own broker user,
 * every consumer checking who published what it gets. A raw amqplib client forges events the way
 * the attacker did; each forged message must end in its consumer's DLQ with its reason,
 * be counted in `refront_events_refused_total`, and change nothing where effects land (tickets,
 * classifications, the reporting log, notifications, billable time). The same raw client, logged
 * in as the owner, does change state: the harness can see a change. Needs PostgreSQL and RabbitMQ.
 */
import { randomUUID } from 'node:crypto';
import { AMQP_HEADERS } from '@refront/transport-amqp';
import { type ChannelModel, connect, type Options } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketClassified, Urgency } from '../src/gen/refront/ai/v1/events.js';
import { TicketCreated } from '../src/gen/refront/tickets/v1/events.js';
import { TicketPriority } from '../src/gen/refront/tickets/v1/tickets.js';
import { TimeLogged } from '../src/gen/refront/timetracking/v1/timetracking.js';
import type { LocalTopology } from '../src/platform/localTopology.js';
import { type SystemUnderTest, startSystem } from './fixtures.js';
import { Session } from './session.js';
import { AMQP_URL, infrastructure, metricSum, until } from './topology.js';

const infra = await infrastructure('the event ownership test of the distributed topology');
const CREATED = TicketCreated.$type;
const CLASSIFIED = TicketClassified.$type;

/** Where every effect of an event lands, one count per table, all tenants. */
const EFFECTS: Readonly<Record<string, readonly [service: string, sql: string]>> = {
  tickets: ['tickets', 'select count(*)::int as n from tickets'],
  classifications: ['ai', 'select count(*)::int as n from classifications'],
  'reporting event_log': ['reporting', 'select count(*)::int as n from event_log'],
  'reporting ticket_state': ['reporting', 'select count(*)::int as n from ticket_state'],
  notifications: ['notifications', 'select count(*)::int as n from notifications'],
  'billable entries': ['invoicing', 'select count(*)::int as n from billable_entries'],
};

/** One message as a raw client puts it on the wire, the way the bus would (envelope in properties). */
interface Raw {
  readonly type: string;
  readonly body: Uint8Array;
  readonly tenant: string;
  readonly source: string;
  /** Validated by the broker: only the connection's own user is accepted. */
  readonly userId?: string;
}

function publishOptions(m: Raw, id: string): Options.Publish {
  return {
    messageId: id,
    type: m.type,
    appId: m.source,
    contentType: 'application/x-protobuf',
    persistent: true,
    timestamp: Math.floor(Date.now() / 1000),
    headers: { [AMQP_HEADERS.tenant]: m.tenant },
    ...(m.userId === undefined ? {} : { userId: m.userId }),
  };
}

/** Publishes on a confirm channel; resolves with the broker's verdict (a refusal closes the channel). */
async function publish(conn: ChannelModel, exchange: string, key: string, m: Raw): Promise<string> {
  const id = randomUUID();
  const ch = await conn.createConfirmChannel();
  const closed = new Promise<string>((resolve) => {
    ch.on('error', (e: unknown) => resolve(`refused: ${(e as Error).message}`));
    ch.on('close', () => resolve('closed'));
  });
  const confirmed = new Promise<string>((resolve, reject) =>
    ch.publish(exchange, key, Buffer.from(m.body), publishOptions(m, id), (err: unknown) =>
      err ? reject(err) : resolve('confirmed'),
    ),
  );
  const verdict = await Promise.race([confirmed, closed]);
  await ch.close().catch(() => {});
  if (verdict !== 'confirmed') throw new Error(verdict);
  return id;
}

/** The DLQ's messages by message id → dead reason, read without taking them (put back on close). */
async function deadReasons(conn: ChannelModel, queue: string): Promise<Map<string, string>> {
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  const out = new Map<string, string>();
  try {
    const { messageCount } = await ch.checkQueue(queue);
    for (let i = 0; i < messageCount; i++) {
      const msg = await ch.get(queue, { noAck: false });
      if (msg === false) break;
      out.set(String(msg.properties.messageId), String(msg.properties.headers?.[AMQP_HEADERS.deadReason]));
    }
  } finally {
    await ch.close().catch(() => {});
  }
  return out;
}

describe.skipIf(!infra)('events from their owner only, on the distributed topology', () => {
  let system: SystemUnderTest;
  let topology: LocalTopology;
  const conns: ChannelModel[] = [];
  const open = async (url: string) => {
    const c = await connect(url);
    c.on('error', () => {});
    conns.push(c);
    return c;
  };
  /** Rows where every effect lands (all tenants), and the mail the SMTP receiver got for `sessions`. */
  const effects = async (sessions: readonly Session[]) => {
    const out: Record<string, number> = {};
    for (const [name, [service, sql]] of Object.entries(EFFECTS))
      out[name] = await system.count(service, sql, []);
    for (const s of sessions)
      out[`mail of ${s.tenant}`] = (
        (await s.ok('GET', '/v1/notifications/received-mail')).mail as unknown[]
      ).length;
    return out;
  };
  const refused = async (group: string, reason: string) => {
    let n = 0;
    for (const p of topology.of(group))
      n += metricSum(await topology.metrics(p), 'refront_events_refused_total', { group, reason });
    return n;
  };

  beforeAll(async () => {
    system = await startSystem('refront_owners', { instances: { invoicing: 1 }, output: 'capture' });
    topology = system.topology;
  }, 180_000);

  afterAll(async () => {
    for (const c of conns) await c.close().catch(() => {});
    await system?.[Symbol.asyncDispose]();
  }, 60_000);

  it('refuses forged events into the DLQ with their reason, counts them, and changes nothing', {
    timeout: 180_000,
  }, async () => {
    const exchange = (pkg: string) => `${topology.namespace}.${pkg}`;
    const userOf = (service: string) => decodeURIComponent(new URL(topology.amqpUrlOf(service)).username);
    const tickets = exchange('refront.tickets.v1');
    const ai = exchange('refront.ai.v1');
    // A genuine flow first, through the gateway: the ticket is classified (ai → tickets) and
    // reported, so ownership on lets every owner's events through.
    const session = await Session.open(topology.gatewayUrl, `owners-${Date.now().toString(36)}`);
    const customerId = await session.customer('Initech', 9_000);
    const ticketId = await session.ticket(customerId, 'Cannot print invoices');
    await until('the genuine ticket classified and reported', async () => {
      const t = await session.ok('GET', `/v1/tickets/${ticketId}`);
      const reported = await system.count(
        'reporting',
        'select count(*)::int as n from ticket_state where ticket_id = $1',
        [ticketId],
      );
      return Boolean((t as { category?: string }).category) && reported === 1;
    });
    await topology.settle();
    const stranger = `tenant-without-tickets-${Date.now().toString(36)}`;
    const watched = [session, await Session.open(topology.gatewayUrl, stranger)];
    const before = await effects(watched);

    const guest = await open(AMQP_URL);
    const timeTracking = await open(topology.amqpUrlOf('time-tracking'));
    const aiUser = await open(topology.amqpUrlOf('ai'));
    const ticketsUser = await open(topology.amqpUrlOf('tickets'));
    const created = (id = randomUUID()) =>
      TicketCreated.encode({
        ticketId: id,
        customerId,
        title: 'Everything is down',
        description: 'checkout outage, customers cannot pay',
        priority: TicketPriority.TICKET_PRIORITY_NORMAL,
      }).finish();
    const urgent = TicketClassified.encode({
      ticketId: randomUUID(),
      category: 'outage',
      urgency: Urgency.URGENCY_URGENT,
      summary: 'forged',
      confidence: 1,
      provider: 'local',
    }).finish();
    const timeLogged = TimeLogged.encode({
      entryId: randomUUID(),
      ticketId,
      customerId,
      minutes: 600,
      description: 'forged',
      workDate: '2026-01-05',
    }).finish();
    const tenant = session.tenant;

    // (d) Another service's user cannot write the owner's exchange at all: the broker refuses.
    await expect(
      publish(aiUser, tickets, CREATED, { type: CREATED, body: created(), tenant, source: 'tickets' }),
    ).rejects.toThrow(/403 \(ACCESS-REFUSED\)/);
    await expect(
      publish(timeTracking, tickets, CREATED, {
        type: CREATED,
        body: created(),
        tenant,
        source: 'tickets',
      }),
    ).rejects.toThrow(/403 \(ACCESS-REFUSED\)/);
    await expect(
      publish(ticketsUser, ai, CLASSIFIED, {
        type: CLASSIFIED,
        body: urgent,
        tenant: stranger,
        source: 'ai',
      }),
    ).rejects.toThrow(/403 \(ACCESS-REFUSED\)/);

    const forged: { id: string; groups: readonly string[]; reason: string; what: string }[] = [];
    const forge = async (what: string, groups: readonly string[], reason: string, sent: Promise<string>) =>
      forged.push({ id: await sent, groups, reason, what });
    // (a) guest (the broker's administrator here) publishes a TicketCreated, with and without user_id.
    await forge(
      'guest TicketCreated',
      ['ai', 'reporting'],
      'AMQP_UNTRUSTED_PUBLISHER',
      publish(guest, tickets, CREATED, { type: CREATED, body: created(), tenant, source: 'tickets' }),
    );
    await forge(
      'guest TicketCreated with user_id guest',
      ['ai', 'reporting'],
      'AMQP_UNTRUSTED_PUBLISHER',
      publish(guest, tickets, CREATED, {
        type: CREATED,
        body: created(),
        tenant,
        source: 'tickets',
        userId: 'guest',
      }),
    );
    // The urgent TicketClassified for a tenant with no tickets.
    await forge(
      'guest urgent TicketClassified',
      ['tickets', 'notifications', 'reporting'],
      'AMQP_UNTRUSTED_PUBLISHER',
      publish(guest, ai, CLASSIFIED, { type: CLASSIFIED, body: urgent, tenant: stranger, source: 'ai' }),
    );
    // (b) a TimeLogged body under the TicketCreated key.
    await forge(
      'TimeLogged under the TicketCreated key',
      ['ai', 'reporting'],
      'AMQP_ROUTING_MISMATCH',
      publish(guest, tickets, CREATED, {
        type: TimeLogged.$type,
        body: timeLogged,
        tenant,
        source: 'time-tracking',
      }),
    );
    // (c) a forged source from a user that does not own the type, straight into the groups' queues
    // (write on the default exchange lets any service reach any queue by name).
    for (const group of ['ai', 'reporting'])
      await forge(
        `time-tracking's user → ${group} queue, source tickets`,
        [group],
        'AMQP_UNTRUSTED_PUBLISHER',
        publish(timeTracking, '', topology.queueOf(group), {
          type: CREATED,
          body: created(),
          tenant,
          source: 'tickets',
          userId: userOf('time-tracking'),
        }),
      );
    // (d) another service's user on a type it does not own, by the same route.
    await forge(
      "tickets' user → notifications queue, urgent TicketClassified",
      ['notifications'],
      'AMQP_UNTRUSTED_PUBLISHER',
      publish(ticketsUser, '', topology.queueOf('notifications'), {
        type: CLASSIFIED,
        body: urgent,
        tenant: stranger,
        source: 'ai',
        userId: userOf('tickets'),
      }),
    );
    // The owner's own user, claiming another source.
    await forge(
      "tickets' user claiming source ai",
      ['ai', 'reporting'],
      'AMQP_FORGED_EVENT',
      publish(ticketsUser, tickets, CREATED, {
        type: CREATED,
        body: created(),
        tenant,
        source: 'ai',
        userId: userOf('tickets'),
      }),
    );

    // Every forged message reaches the DLQ of every group it was meant for, with its reason.
    const groups = [...new Set(forged.flatMap((f) => f.groups))].sort();
    const dead = new Map<string, Map<string, string>>();
    await until('every forged message dead-lettered', async () => {
      for (const g of groups) dead.set(g, await deadReasons(guest, `${topology.queueOf(g)}.dlq`));
      return forged.every((f) => f.groups.every((g) => dead.get(g)?.has(f.id)));
    });
    for (const f of forged)
      for (const g of f.groups)
        expect({ what: f.what, group: g, reason: dead.get(g)?.get(f.id) }).toEqual({
          what: f.what,
          group: g,
          reason: f.reason,
        });
    const expected = new Map<string, number>();
    for (const f of forged)
      for (const g of f.groups) expected.set(`${g} ${f.reason}`, (expected.get(`${g} ${f.reason}`) ?? 0) + 1);
    for (const [key, n] of expected) {
      const [g, reason] = key.split(' ') as [string, string];
      expect({ key, refused: await refused(g, reason) }).toEqual({ key, refused: n });
    }
    await topology.settle();
    const after = await effects(watched);
    console.log(
      `[ownership] forged=${forged.length} dead-lettered=${JSON.stringify(Object.fromEntries(expected))} effects before=${JSON.stringify(before)} after=${JSON.stringify(after)}`,
    );
    expect(after).toEqual(before);

    // The same raw client, logged in as the owner, does change state: a new ticket of the tenant
    // is classified by ai and counted by reporting.
    const genuineTicket = randomUUID();
    await publish(ticketsUser, tickets, CREATED, {
      type: CREATED,
      body: created(genuineTicket),
      tenant,
      source: 'tickets',
      userId: userOf('tickets'),
    });
    await until("the owner's raw TicketCreated classified and reported", async () => {
      const now = await effects(watched);
      return (
        now.classifications === (before.classifications ?? 0) + 1 &&
        now['reporting ticket_state'] === (before['reporting ticket_state'] ?? 0) + 1
      );
    });
  });
});
