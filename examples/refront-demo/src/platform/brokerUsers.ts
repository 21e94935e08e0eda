/**
 * Who may publish what on the demo's broker (decision 0049): every service connects as its own
 * broker user, may write only the exchanges of the packages it publishes, and every consumer
 * refuses an event its owner did not publish. All of it is derived from the modules' declared
 * events, so the owners, the permissions, the local topology's users and
 * deploy/rabbitmq/definitions.json cannot disagree.
 */
import { randomBytes } from 'node:crypto';
import type { MessageType } from '@refront/core';
import {
  type AmqpEventBusOptions,
  createDeadLetterOperator,
  createServiceBrokerUser,
  deleteBrokerUser,
  domainOf,
  type ServiceBrokerUserOptions,
} from '@refront/transport-amqp';
import type { ServiceModule } from './module.js';

/** The protobuf packages of `types`, sorted, each once. */
// biome-ignore lint/suspicious/noExplicitAny: a list of different message types
export function packagesOf(types: readonly MessageType<any>[]): string[] {
  return [...new Set(types.map((t) => domainOf(t.$type)))].sort();
}

/**
 * The owner of every protobuf package some module publishes: package → service.
 * @throws Error when two modules publish types of one package (ownership would be ambiguous).
 * @example
 * eventOwnersOf(PLATFORM_MODULES)['refront.tickets.v1']; // 'tickets'
 */
export function eventOwnersOf(modules: readonly ServiceModule[]): Record<string, string> {
  const owners: Record<string, string> = {};
  for (const m of modules)
    for (const pkg of packagesOf(m.events.publishes)) {
      const other = owners[pkg];
      if (other !== undefined && other !== m.name)
        throw new Error(`${m.name} and ${other} both publish events of ${pkg}: a package has one owner`);
      owners[pkg] = m.name;
    }
  return owners;
}

/**
 * What a module may do on the broker, for `servicePermissions` / `createServiceBrokerUser`: write
 * the exchanges of what it publishes, bind to those of what it consumes, read its group's queues.
 * @example
 * servicePermissions({ user: 'ai', password, ...brokerAccessOf(aiModule, 'refront') });
 */
export function brokerAccessOf(
  module: ServiceModule,
  namespace: string,
): Omit<ServiceBrokerUserOptions, 'user' | 'password'> {
  return {
    namespace,
    publishes: packagesOf(module.events.publishes),
    consumes: packagesOf(module.events.consumes),
    groups: [module.name],
  };
}

/** The broker user of `service`: its name after `prefix` (`AMQP_USER_PREFIX`). */
export function brokerUserOf(service: string, prefix = ''): string {
  return `${prefix}${service}`;
}

/**
 * The event bus options that turn ownership on for `service`: it publishes as its own broker user
 * and refuses every event whose publisher is not the owner `modules` declare.
 * @example
 * createAmqpEventBus({ url, service: 'ai', logger, ...ownershipBusOptions('ai', PLATFORM_MODULES, '') });
 */
export function ownershipBusOptions(
  service: string,
  modules: readonly ServiceModule[],
  userPrefix: string,
): Pick<AmqpEventBusOptions, 'brokerUser' | 'owners' | 'brokerUsers'> {
  return {
    brokerUser: brokerUserOf(service, userPrefix),
    owners: eventOwnersOf(modules),
    brokerUsers: (s: string) => brokerUserOf(s, userPrefix),
  };
}

/**
 * Why `amqpUrl` cannot serve `service` with ownership on, or undefined when it can: the URL logs
 * in as another user (its peers would refuse every event it publishes). A URL without a user name
 * is accepted (a certificate login: the broker maps the certificate to the user).
 */
export function amqpUserProblem(amqpUrl: string, service: string, userPrefix: string): string | undefined {
  let user: string;
  try {
    user = decodeURIComponent(new URL(amqpUrl).username);
  } catch {
    return `AMQP_URL is not a URL`;
  }
  const expected = brokerUserOf(service, userPrefix);
  if (user === '' || user === expected) return undefined;
  return (
    `AMQP_URL logs in as "${user}", but with AMQP_OWNERSHIP=on (the default) ${service} must connect ` +
    `as its own broker user "${expected}" (deploy/rabbitmq/definitions.json, docs/deploy.md), or ` +
    'every event it publishes is refused by its consumers; set AMQP_OWNERSHIP=off to run every ' +
    'service as one user without the check'
  );
}

/** The broker users a {@link createLocalBrokerUsers} call made, with a URL for each service. */
export interface LocalBrokerUsers {
  /** Prefix of the user names (`AMQP_USER_PREFIX`). */
  readonly userPrefix: string;
  /** The AMQP URL `service` logs in with (its own user and password on the admin URL's broker). */
  urlOf(service: string): string;
  /** Deletes the users (their connections are closed by the broker). */
  delete(): Promise<void>;
}

/**
 * Creates one broker user per module with `rabbitmqctl`, named `<namespace>.<service>`, with a
 * password of this call (so runs with different namespaces neither share nor reset each other's
 * users), and the permissions of {@link brokerAccessOf}.
 * @throws the `rabbitmqctl` failure (its stderr in the message).
 * @example
 * const users = await createLocalBrokerUsers(PLATFORM_MODULES, { namespace, amqpUrl });
 */
export async function createLocalBrokerUsers(
  modules: readonly ServiceModule[],
  options: { readonly namespace: string; readonly amqpUrl: string },
): Promise<LocalBrokerUsers> {
  const userPrefix = `${options.namespace}.`;
  const password = randomBytes(18).toString('base64url');
  const names = modules.map((m) => brokerUserOf(m.name, userPrefix));
  const remove = async () => {
    await Promise.all(names.map((n) => deleteBrokerUser(n)));
  };
  try {
    await Promise.all(
      modules.map((m) =>
        createServiceBrokerUser({
          user: brokerUserOf(m.name, userPrefix),
          password,
          ...brokerAccessOf(m, options.namespace),
        }),
      ),
    );
  } catch (e: unknown) {
    await remove().catch(() => {});
    throw e;
  }
  return {
    userPrefix,
    urlOf(service) {
      const url = new URL(options.amqpUrl);
      url.username = encodeURIComponent(brokerUserOf(service, userPrefix));
      url.password = encodeURIComponent(password);
      return url.toString();
    },
    delete: remove,
  };
}

/**
 * The AMQP variables of one process of a local topology: its own user's URL and prefix, or, without
 * `users` (ownership off), `adminUrl` with `AMQP_OWNERSHIP=off`. The gateway has no broker user.
 */
export function brokerUserEnv(
  users: LocalBrokerUsers | undefined,
  service: string,
  adminUrl: string,
): Record<string, string> {
  if (!users || service === 'gateway') return { AMQP_URL: adminUrl, AMQP_OWNERSHIP: users ? 'on' : 'off' };
  return { AMQP_URL: users.urlOf(service), AMQP_OWNERSHIP: 'on', AMQP_USER_PREFIX: users.userPrefix };
}

/**
 * The console's broker user of a local topology, `<namespace>.console`: a dead-letter operator
 * (reads every group's DLQ, replays through the default exchange) with the `impersonator` tag, so
 * a replay keeps the group's own `user-id` and consumers checking ownership trust it.
 * @throws the `rabbitmqctl` failure (its stderr in the message).
 * @example
 * const user = await createConsoleBrokerUser('refront', 'amqp://guest:guest@127.0.0.1:5672');
 */
export async function createConsoleBrokerUser(
  namespace: string,
  amqpUrl: string,
): Promise<{ readonly url: string; delete(): Promise<void> }> {
  const user = `${namespace}.console`;
  const password = randomBytes(18).toString('base64url');
  await createDeadLetterOperator({ user, password, namespace });
  const url = new URL(amqpUrl);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  return { url: url.toString(), delete: () => deleteBrokerUser(user) };
}
