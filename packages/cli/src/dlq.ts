import { AMQP_HEADERS, topologyNames } from '@refront/transport-amqp';
import { type Channel, type ChannelModel, connect, type GetMessage, type Options } from 'amqplib';
import { CliFailure } from './CliFailure.js';

/** Where the dead letters are: the broker, the bus namespace and the consumer group. */
export interface DlqTarget {
  /** AMQP URL of the broker. */
  readonly url: string;
  /** The buses' namespace (the prefix of every queue). @default 'refront' */
  readonly namespace?: string;
  /** The consumer group (a service's name in the demo). */
  readonly group: string;
}

/** One message of a group's dead-letter queue, as the consumer that gave up on it recorded it. */
export interface DeadLetterRow {
  /** The event's id (`message_id`). */
  readonly id: string;
  /** Its fully-qualified type. */
  readonly type: string;
  /** The service that published it. */
  readonly source: string;
  readonly tenant: string | undefined;
  /** The reason code (`CORE_ATTEMPTS_EXHAUSTED`, `CORE_DECODE_FAILED`, a handler's), or the broker's. */
  readonly reason: string;
  /** The last error's message. */
  readonly error: string;
  /** Attempts made. */
  readonly attempts: number;
  /** When it was dead-lettered (ISO 8601), when recorded. */
  readonly deadLetteredAt: string | undefined;
}

/** What {@link replayDeadLetters} did. */
export interface ReplayResult {
  /** Messages sent back to the group's queue and removed from the dead-letter queue. */
  readonly replayed: number;
  /** Messages the dead-letter queue held at the start that were not replayed. */
  readonly left: number;
  /** Ids asked for with `ids` that the queue does not hold. */
  readonly missing: readonly string[];
}

/** The headers a consumer writes when it dead-letters or retries: removed on replay, so it starts at attempt 1. */
const DEAD_HEADERS: readonly string[] = [
  AMQP_HEADERS.deadReason,
  AMQP_HEADERS.deadError,
  AMQP_HEADERS.deadAttempts,
  AMQP_HEADERS.deadGroup,
  AMQP_HEADERS.deadAt,
  AMQP_HEADERS.attempt,
];

/**
 * Lists up to `limit` messages of a consumer group's dead-letter queue (`<ns>.<group>.dlq`,
 * transport-amqp's naming) without removing them: they are read unacknowledged and go back when
 * the reading channel closes.
 *
 * @throws CliFailure when the broker is unreachable or the group has no dead-letter queue.
 * @example
 * const rows = await listDeadLetters({ url: 'amqp://guest:guest@127.0.0.1:5672', group: 'invoicing' });
 */
export async function listDeadLetters(target: DlqTarget, limit = 100): Promise<DeadLetterRow[]> {
  return withDlq(target, async (ch, queue) => {
    const rows: DeadLetterRow[] = [];
    while (rows.length < limit) {
      const msg = await ch.get(queue, { noAck: false });
      if (msg === false) break;
      rows.push(rowOf(msg));
    }
    return rows;
  });
}

/**
 * Sends dead letters back to their group's queue (through the default exchange: the group gets
 * them again, the other subscribers do not), each as a first attempt, and removes each from the
 * dead-letter queue once the broker confirmed its copy. `ids` selects messages by event id;
 * without it every message is replayed. A message the group fails again is retried and
 * dead-lettered again as usual.
 *
 * With event ownership checks on (decision 0049), replay as the group's own broker user: only
 * then is the original publisher it recorded still trusted.
 *
 * @throws CliFailure when the broker is unreachable or the group has no dead-letter queue.
 * @example
 * await replayDeadLetters({ url, group: 'invoicing' }, { ids: ['0b6c…'] });
 */
export async function replayDeadLetters(
  target: DlqTarget,
  select: { readonly ids?: readonly string[] } = {},
): Promise<ReplayResult> {
  const names = topologyNames(target.namespace ?? 'refront');
  const user = decodeURIComponent(new URL(target.url).username || 'guest');
  return withDlq(target, async (ch, queue, count) => {
    const wanted = select.ids ? new Set(select.ids) : undefined;
    const found = new Set<string>();
    let replayed = 0;
    // At most what the queue held at the start: a message failing again meanwhile waits for the next replay.
    for (let seen = 0; seen < count; seen++) {
      if (wanted && found.size === wanted.size) break;
      const msg = await ch.get(queue, { noAck: false });
      if (msg === false) break;
      const id = String(msg.properties.messageId ?? '');
      // Unacknowledged: back in the queue when the channel closes.
      if (wanted && !wanted.has(id)) continue;
      found.add(id);
      ch.sendToQueue(names.queue(target.group), msg.content, replayOptions(msg, user));
      await ch.waitForConfirms();
      ch.ack(msg);
      replayed++;
    }
    const missing = wanted ? [...wanted].filter((id) => !found.has(id)) : [];
    return { replayed, left: count - replayed, missing };
  });
}

async function withDlq<T>(
  target: DlqTarget,
  fn: (ch: Channel & ConfirmLike, queue: string, count: number) => Promise<T>,
): Promise<T> {
  const queue = topologyNames(target.namespace ?? 'refront').deadLetterQueue(target.group);
  let model: ChannelModel;
  try {
    model = await connect(target.url);
  } catch (e: unknown) {
    throw new CliFailure(`cannot reach the broker at ${redact(target.url)}: ${(e as Error).message}`);
  }
  model.on('error', () => {});
  try {
    const check = await model.createChannel();
    check.on('error', () => {});
    let count: number;
    try {
      count = (await check.checkQueue(queue)).messageCount;
      await check.close();
    } catch {
      throw new CliFailure(
        `no dead-letter queue ${queue}: is ${target.group} a consumer group of namespace ${target.namespace ?? 'refront'}? (--namespace)`,
      );
    }
    const ch = await model.createConfirmChannel();
    ch.on('error', () => {});
    try {
      return await fn(ch, queue, count);
    } finally {
      await ch.close().catch(() => {});
    }
  } finally {
    await model.close().catch(() => {});
  }
}

type ConfirmLike = { waitForConfirms(): Promise<void> };

function replayOptions(msg: GetMessage, user: string): Options.Publish {
  const p = msg.properties;
  const headers: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p.headers ?? {})) {
    if (
      DEAD_HEADERS.includes(k) ||
      k === 'x-death' ||
      k.startsWith('x-first-death') ||
      k.startsWith('x-last-death')
    )
      continue;
    headers[k] = v;
  }
  const options: Options.Publish = { persistent: true, headers };
  if (p.messageId !== undefined) options.messageId = p.messageId;
  if (p.type !== undefined) options.type = p.type;
  if (p.contentType !== undefined) options.contentType = p.contentType;
  if (p.appId !== undefined) options.appId = p.appId;
  if (p.correlationId !== undefined) options.correlationId = p.correlationId;
  if (p.timestamp !== undefined) options.timestamp = p.timestamp;
  // The broker refuses a user_id other than the connection's own.
  if (p.userId === user) options.userId = user;
  return options;
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return undefined;
}

function rowOf(msg: GetMessage): DeadLetterRow {
  const p = msg.properties;
  const h: Record<string, unknown> = p.headers ?? {};
  const deaths = Array.isArray(h['x-death']) ? (h['x-death'] as { reason?: unknown }[]) : [];
  const at = Number(text(h[AMQP_HEADERS.deadAt]) ?? Number.NaN);
  return {
    id: text(p.messageId) ?? '',
    type: text(p.type) ?? '',
    source: text(p.appId) ?? 'unknown',
    tenant: text(h[AMQP_HEADERS.tenant]),
    reason: text(h[AMQP_HEADERS.deadReason]) ?? `broker: ${text(deaths[0]?.reason) ?? 'unknown'}`,
    error: text(h[AMQP_HEADERS.deadError]) ?? '',
    attempts: Number(text(h[AMQP_HEADERS.deadAttempts]) ?? text(h[AMQP_HEADERS.attempt]) ?? 1),
    deadLetteredAt: Number.isFinite(at) ? new Date(at).toISOString() : undefined,
  };
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
