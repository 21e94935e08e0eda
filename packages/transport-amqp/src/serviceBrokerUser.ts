import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { invalidOption } from '@refront/core/transport';
import { topologyNames } from './names.js';

const run = promisify(execFile);

/** What one service may do on the broker: the objects {@link servicePermissions} derives regexes from. */
export interface ServiceBrokerUserOptions {
  /** The broker user (and the service it stands for). */
  readonly user: string;
  /** Its password (`rabbitmqctl add_user`, or `change_password` when the user exists). */
  readonly password: string;
  /** Exchange and queue name prefix, as the bus's `namespace`. @default 'refront' */
  readonly namespace?: string;
  /** Virtual host the permissions apply to. @default '/' */
  readonly vhost?: string;
  /** Protobuf packages whose events it publishes: it may write their exchanges. */
  readonly publishes: readonly string[];
  /** Protobuf packages whose events its groups consume: it may bind to their exchanges (not write them). */
  readonly consumes?: readonly string[];
  /** Its consumer groups: it may declare, bind and read their queues, retry queues and DLQ. */
  readonly groups?: readonly string[];
  /** The `rabbitmqctl` executable. @default 'rabbitmqctl' */
  readonly rabbitmqctl?: string;
}

/** The three permission regexes of `rabbitmqctl set_permissions`. */
export interface BrokerPermissions {
  readonly configure: string;
  readonly write: string;
  readonly read: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function literal(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}

function anyOf(patterns: readonly string[]): string {
  return patterns.length === 0 ? '^$' : `^(${patterns.join('|')})$`;
}

/**
 * The permissions of one service (RabbitMQ applies each regex to exchange and queue names):
 * configure its own exchanges, the exchanges it binds to, its queues and the namespace's unrouted
 * objects; write its own exchanges, its queues (bindings) and the default exchange (moves to its
 * retry queues and DLQ, commands); read its queues, the exchanges it binds to and the unrouted
 * notices. It cannot write another service's exchange: the broker refuses with 403.
 * @throws RefrontError INVALID_ARGUMENT (`CORE_INVALID_OPTION`) for a name that is not a plain identifier.
 * @example
 * servicePermissions({ user: 'ai', password: 'x', publishes: ['refront.ai.v1'], consumes: ['refront.tickets.v1'], groups: ['ai'] });
 */
export function servicePermissions(o: ServiceBrokerUserOptions): BrokerPermissions {
  const names = topologyNames(o.namespace ?? 'refront');
  for (const n of [o.user, names.namespace, ...o.publishes, ...(o.consumes ?? []), ...(o.groups ?? [])])
    if (!NAME.test(n)) throw invalidOption(`not a plain name: "${n}"`);
  const exchange = (pkg: string) => literal(names.exchange(`${pkg}.X`));
  const own = o.publishes.map(exchange);
  const bound = [...new Set([...(o.consumes ?? []), ...o.publishes])].map(exchange);
  const queues = (o.groups ?? []).map((g) => `${literal(names.queue(g))}(\\.retry\\.\\d+ms|\\.dlq)?`);
  const unroutedExchange = literal(names.unroutedExchange);
  const unroutedQueues = [literal(names.unroutedQueue), literal(names.unroutedNoticesQueue)];
  return {
    configure: anyOf([...own, ...bound, ...queues, unroutedExchange, ...unroutedQueues]),
    write: anyOf([...own, ...queues, ...unroutedQueues, 'amq\\.default']),
    read: anyOf([...bound, ...queues, unroutedExchange, literal(names.unroutedNoticesQueue)]),
  };
}

/**
 * Creates (or updates) a service's broker user with {@link servicePermissions}, through
 * `rabbitmqctl` (no management plugin needed). For tests and the demo's local topology; production
 * brokers get the same users and permissions from a definitions file.
 * @throws the `rabbitmqctl` failure (its stderr in the message) when the broker refuses.
 * @example
 * await createServiceBrokerUser({ user: 'tickets', password, publishes: ['refront.tickets.v1'] });
 */
export async function createServiceBrokerUser(o: ServiceBrokerUserOptions): Promise<BrokerPermissions> {
  const p = servicePermissions(o);
  const ctl = o.rabbitmqctl ?? 'rabbitmqctl';
  try {
    // `--` ends the options: a random password may start with '-' (base64url), which rabbitmqctl
    // would otherwise read as an option and refuse.
    await run(ctl, ['add_user', '--', o.user, o.password]);
  } catch (e: unknown) {
    const stderr = (e as { stderr?: unknown }).stderr;
    if (!(typeof stderr === 'string' && stderr.includes('already exists'))) throw e;
    await run(ctl, ['change_password', '--', o.user, o.password]);
  }
  await run(ctl, ['set_permissions', '-p', o.vhost ?? '/', o.user, p.configure, p.write, p.read]);
  return p;
}

/**
 * Deletes a broker user (its connections are closed by the broker). Missing users are fine.
 * @throws the `rabbitmqctl` failure for anything else.
 * @example
 * await deleteBrokerUser('tickets');
 */
export async function deleteBrokerUser(
  user: string,
  options: { readonly rabbitmqctl?: string } = {},
): Promise<void> {
  try {
    await run(options.rabbitmqctl ?? 'rabbitmqctl', ['delete_user', user]);
  } catch (e: unknown) {
    const stderr = (e as { stderr?: unknown }).stderr;
    if (!(typeof stderr === 'string' && /does not exist|no_such_user/.test(stderr))) throw e;
  }
}

/** Options of {@link createDeadLetterOperator}. */
export interface DeadLetterOperatorOptions {
  /** The broker user. */
  readonly user: string;
  /** Its password (`rabbitmqctl add_user`, or `change_password` when the user exists). */
  readonly password: string;
  /** Exchange and queue name prefix, as the bus's `namespace`. @default 'refront' */
  readonly namespace?: string;
  /** Virtual host the permissions apply to. @default '/' */
  readonly vhost?: string;
  /** The `rabbitmqctl` executable. @default 'rabbitmqctl' */
  readonly rabbitmqctl?: string;
}

/**
 * The permissions of a dead-letter operator (a console, `refront dlq`): read every group's
 * dead-letter queue of the namespace and write the default exchange (a replay goes back to the
 * group's queue through it); nothing else.
 * @throws RefrontError INVALID_ARGUMENT (`CORE_INVALID_OPTION`) for a name that is not a plain identifier.
 * @example
 * deadLetterOperatorPermissions('refront'); // read ^refront\.[^.]+\.dlq$, write ^amq\.default$
 */
export function deadLetterOperatorPermissions(namespace = 'refront'): BrokerPermissions {
  if (!NAME.test(namespace)) throw invalidOption(`not a plain name: "${namespace}"`);
  return { configure: '^$', write: '^amq\\.default$', read: `^${literal(namespace)}\\.[^.]+\\.dlq$` };
}

/**
 * Creates (or updates) a dead-letter operator's broker user with
 * {@link deadLetterOperatorPermissions} and RabbitMQ's `impersonator` tag, through `rabbitmqctl`:
 * a replay keeps each dead letter's `user-id` (the group's own broker user), so consumers that
 * check who published (decision 0049) trust it as they trusted the original. Use it with
 * `replayDeadLetters({ impersonate: true })` or `amqpDeadLetters({ impersonate: true })`.
 * @throws the `rabbitmqctl` failure (its stderr in the message) when the broker refuses.
 * @example
 * await createDeadLetterOperator({ user: 'refront.console', password });
 */
export async function createDeadLetterOperator(o: DeadLetterOperatorOptions): Promise<BrokerPermissions> {
  const p = deadLetterOperatorPermissions(o.namespace);
  if (!NAME.test(o.user)) throw invalidOption(`not a plain name: "${o.user}"`);
  const ctl = o.rabbitmqctl ?? 'rabbitmqctl';
  try {
    await run(ctl, ['add_user', '--', o.user, o.password]);
  } catch (e: unknown) {
    const stderr = (e as { stderr?: unknown }).stderr;
    if (!(typeof stderr === 'string' && stderr.includes('already exists'))) throw e;
    await run(ctl, ['change_password', '--', o.user, o.password]);
  }
  await run(ctl, ['set_user_tags', o.user, 'impersonator']);
  await run(ctl, ['set_permissions', '-p', o.vhost ?? '/', o.user, p.configure, p.write, p.read]);
  return p;
}
