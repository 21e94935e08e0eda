import { counterOf, type Logger, type MetricsRegistry } from '@refront/core';
import { invalidOption } from '@refront/core/transport';
import type { Database } from '@refront/data';
import type { Counter } from 'prom-client';
import type { Kind } from './content.js';
import type { MailSender } from './MailSender.js';

/** Options of {@link createDelivery}. */
export interface DeliveryOptions {
  /** The notifications service's database (its `notifications` table). */
  readonly db: Database;
  readonly sender: MailSender;
  /** Who claims: unique per running instance (two instances must never share one). */
  readonly instanceId: string;
  /** How long a claim lasts; a send still running then may be sent again by another instance, in ms. */
  readonly leaseMs: number;
  /** Pause between two sweeps of pending notifications whose claim is free or lapsed, in ms. @default 5000 */
  readonly sweepEveryMs?: number;
  readonly logger: Logger;
  /** Registry for `refront_notifications_claims_total{outcome="won"|"lost"}`. @default none */
  readonly metrics?: MetricsRegistry;
}

/** What {@link Delivery.deliver} did. */
export type DeliveryOutcome = 'sent' | 'not-claimed';

/** Sends pending notifications, each by the one instance that claimed it. */
export interface Delivery {
  /**
   * Claims notification `id` (when pending and not claimed by a live lease), sends it, and marks
   * it sent; returns 'not-claimed' when it is sent already or another instance holds the claim.
   * @throws the sender's error after releasing the claim, so the next attempt may send at once.
   */
  deliver(id: string, signal?: AbortSignal): Promise<DeliveryOutcome>;
  /** Delivers every pending notification whose claim is free or lapsed; resolves with how many it sent. */
  sweep(signal?: AbortSignal): Promise<number>;
  /** Sweeps now and then every `sweepEveryMs`, until closed. */
  start(): void;
  /** Stops sweeping, aborts a send in flight (its claim is released) and waits for the sweep. Idempotent. */
  close(): Promise<void>;
}

function claimsCounter(registry: MetricsRegistry): Counter<'outcome'> {
  return counterOf(
    registry,
    'refront_notifications_claims_total',
    'Claims of pending notifications: won (this instance sends) or lost (sent already, or another instance holds it)',
    ['outcome'],
  );
}

interface ClaimedRow {
  id: string;
  tenant_id: string;
  kind: Kind;
  recipient: string;
  subject: string;
  body: string;
  event_id: string;
}

/**
 * Claim before send (decision 0072). The claim is one compare-and-set UPDATE: it takes a pending
 * notification only when nobody holds it or the holder's lease has run out, so at most one
 * instance sends at a time, a failed send frees it at once, and a crashed instance's claim is
 * taken over once its lease ends. Times come from the database's clock, the same for every instance.
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` for an empty instanceId or a
 *   leaseMs or sweepEveryMs that is not > 0.
 * @example
 * const delivery = createDelivery({ db, sender, instanceId: 'notifications-a', leaseMs: 30_000, logger });
 * delivery.start();
 * await delivery.deliver(notificationId);
 */
export function createDelivery(options: DeliveryOptions): Delivery {
  const { db, sender, instanceId, leaseMs, logger } = options;
  const sweepEveryMs = options.sweepEveryMs ?? 5_000;
  if (typeof instanceId !== 'string' || instanceId === '')
    throw invalidOption('instanceId must be non-empty');
  if (!(leaseMs > 0)) throw invalidOption(`leaseMs must be > 0, got ${leaseMs}`);
  if (!(sweepEveryMs > 0)) throw invalidOption(`sweepEveryMs must be > 0, got ${sweepEveryMs}`);
  const claims = options.metrics ? claimsCounter(options.metrics) : undefined;
  const closing = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let sweeping: Promise<unknown> = Promise.resolve();
  let closed: Promise<void> | undefined;

  const claim = async (id: string): Promise<ClaimedRow | undefined> => {
    const { rows } = await db.query<ClaimedRow>(
      `update notifications
          set claimed_by = $2, claimed_until = now() + $3::double precision * interval '1 millisecond',
              attempts = attempts + 1
        where id = $1 and status = 'pending' and (claimed_until is null or claimed_until <= now())
        returning id, tenant_id, kind, recipient, subject, body, event_id`,
      [id, instanceId, leaseMs],
    );
    claims?.inc({ outcome: rows[0] ? 'won' : 'lost' });
    return rows[0];
  };

  const markSent = async (id: string): Promise<void> => {
    const mine = await db.query(
      `update notifications set status = 'sent', sent_at = now(), sent_by = $2, last_error = '',
              claimed_by = null, claimed_until = null
        where id = $1 and status = 'pending' and claimed_by = $2`,
      [id, instanceId],
    );
    if (mine.rowCount > 0) return;
    // The lease ran out during the send and another instance took the claim: it may send again.
    logger.warn({ notificationId: id, instanceId }, 'claim lost during a send: the mail may go out twice');
    await db.query(
      `update notifications set status = 'sent', sent_at = now(), sent_by = $2, last_error = ''
        where id = $1 and status = 'pending'`,
      [id, instanceId],
    );
  };

  const release = (id: string, error: unknown) =>
    db.query(
      `update notifications set claimed_by = null, claimed_until = null, last_error = $3
        where id = $1 and claimed_by = $2`,
      [id, instanceId, String(error).slice(0, 500)],
    );

  const deliver = async (id: string, signal?: AbortSignal): Promise<DeliveryOutcome> => {
    signal?.throwIfAborted();
    const row = await claim(id);
    if (!row) return 'not-claimed';
    const mail = {
      id: row.id,
      eventId: row.event_id,
      kind: row.kind,
      tenant: row.tenant_id,
      to: row.recipient,
      subject: row.subject,
      body: row.body,
    };
    const sendSignal = AbortSignal.any([closing.signal, ...(signal ? [signal] : [])]);
    try {
      await sender.send(mail, { signal: sendSignal });
    } catch (e: unknown) {
      await release(id, e);
      throw e;
    }
    await markSent(id);
    return 'sent';
  };

  const sweep = async (signal?: AbortSignal): Promise<number> => {
    const { rows } = await db.query<{ id: string }>(
      `select id from notifications
        where status = 'pending' and (claimed_until is null or claimed_until <= now())
        order by seq limit 100`,
    );
    let sent = 0;
    for (const { id } of rows) {
      if (signal?.aborted || closing.signal.aborted) break;
      try {
        if ((await deliver(id, signal)) === 'sent') sent++;
      } catch (e: unknown) {
        logger.warn({ err: e, notificationId: id }, 'a pending notification could not be sent yet');
      }
    }
    return sent;
  };

  const tick = () => {
    sweeping = sweep()
      .catch((e: unknown) => logger.warn({ err: e }, 'the sweep of pending notifications failed'))
      .finally(() => {
        if (!closing.signal.aborted) timer = setTimeout(tick, sweepEveryMs).unref();
      });
  };

  return {
    deliver,
    sweep,
    start() {
      if (started || closing.signal.aborted) return;
      started = true;
      tick();
    },
    close() {
      closed ??= (async () => {
        closing.abort(new Error('notifications delivery closed'));
        clearTimeout(timer);
        await sweeping;
      })();
      return closed;
    },
  };
}
