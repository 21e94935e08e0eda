import type { DeadLetter } from '@refront/core/transport';
import {
  AmqpErrors,
  discardDeadLetters as discardQueued,
  listDeadLetters as listQueued,
  replayDeadLetters as replayQueued,
} from '@refront/transport-amqp';
import { CliErrors } from './errors.js';

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

/** What {@link replayDeadLetters} or {@link discardDeadLetters} did. */
export interface ReplayResult {
  /** Messages sent back to the group's queue (or dropped) and removed from the dead-letter queue. */
  readonly replayed: number;
  /** Messages the dead-letter queue held at the start that are still there. */
  readonly left: number;
  /** Ids asked for with `ids` that the queue does not hold. */
  readonly missing: readonly string[];
}

/**
 * Lists up to `limit` messages of a consumer group's dead-letter queue (`<ns>.<group>.dlq`)
 * without removing them, with transport-amqp's `listDeadLetters`.
 *
 * @throws RefrontError `CLI_UNREACHABLE` when the broker is unreachable, `CLI_NO_DEAD_LETTER_QUEUE`
 *   when the group has no dead-letter queue.
 * @example
 * const rows = await listDeadLetters({ url: 'amqp://guest:guest@127.0.0.1:5672', group: 'invoicing' });
 */
export async function listDeadLetters(target: DlqTarget, limit = 100): Promise<DeadLetterRow[]> {
  const list = await failing(target, () => listQueued({ ...at(target), limit }));
  return list.map(rowOf);
}

/**
 * Sends dead letters back to their group's queue, each as a first attempt, with transport-amqp's
 * `replayDeadLetters`: `ids` selects messages by event id; without it every message is replayed.
 * With event ownership checks on (decision 0049), replay as the group's own broker user.
 *
 * @throws RefrontError `CLI_UNREACHABLE` when the broker is unreachable, `CLI_NO_DEAD_LETTER_QUEUE`
 *   when the group has no dead-letter queue.
 * @example
 * await replayDeadLetters({ url, group: 'invoicing' }, { ids: ['0b6c…'] });
 */
export async function replayDeadLetters(
  target: DlqTarget,
  select: { readonly ids?: readonly string[] } = {},
): Promise<ReplayResult> {
  const r = await failing(target, () => replayQueued({ ...at(target), ...select }));
  return { replayed: r.ids.length, left: r.left, missing: r.missing };
}

/**
 * Drops dead letters for good, with transport-amqp's `discardDeadLetters`: `ids` selects messages
 * by event id; without it every message is dropped.
 *
 * @throws RefrontError `CLI_UNREACHABLE` when the broker is unreachable, `CLI_NO_DEAD_LETTER_QUEUE`
 *   when the group has no dead-letter queue.
 * @example
 * await discardDeadLetters({ url, group: 'invoicing' }, { ids: ['0b6c…'] });
 */
export async function discardDeadLetters(
  target: DlqTarget,
  select: { readonly ids?: readonly string[] } = {},
): Promise<ReplayResult> {
  const r = await failing(target, () => discardQueued({ ...at(target), ...select }));
  return { replayed: r.ids.length, left: r.left, missing: r.missing };
}

function at(target: DlqTarget) {
  return { url: target.url, namespace: target.namespace ?? 'refront', group: target.group };
}

/** Runs `fn`, saying what is wrong in the CLI's words when the broker or the queue is not there. */
async function failing<T>(target: DlqTarget, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e: unknown) {
    if (AmqpErrors.NO_DEAD_LETTER_QUEUE.is(e))
      throw CliErrors.NO_DEAD_LETTER_QUEUE.with({ cause: e }, `${e.message} (--namespace)`);
    const code = (e as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code))
      throw CliErrors.UNREACHABLE.with(
        { cause: e },
        `cannot reach the broker at ${redact(target.url)}: ${(e as Error).message}`,
      );
    throw e;
  }
}

function rowOf(d: DeadLetter): DeadLetterRow {
  return {
    id: d.envelope.id,
    type: d.envelope.type,
    source: d.envelope.source,
    tenant: d.envelope.tenant,
    reason: d.reason,
    error: d.error,
    attempts: d.attempts,
    deadLetteredAt: d.deadLetteredAt > 0 ? new Date(d.deadLetteredAt).toISOString() : undefined,
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
