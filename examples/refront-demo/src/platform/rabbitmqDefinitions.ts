import { deadLetterOperatorPermissions, servicePermissions } from '@refront/transport-amqp';
import { brokerAccessOf, brokerUserOf } from './brokerUsers.js';
import type { ServiceModule } from './module.js';

/** A RabbitMQ definitions file (the subset Refront writes): users, one vhost, permissions. */
export interface RabbitmqDefinitions {
  readonly users: readonly {
    readonly name: string;
    readonly password: string;
    readonly tags: readonly string[];
  }[];
  readonly vhosts: readonly { readonly name: string }[];
  readonly permissions: readonly {
    readonly user: string;
    readonly vhost: string;
    readonly configure: string;
    readonly write: string;
    readonly read: string;
  }[];
}

/** Options of {@link rabbitmqDefinitions}. */
export interface RabbitmqDefinitionsOptions {
  /** The platform's `AMQP_NAMESPACE`. @default 'refront' */
  readonly namespace?: string;
  /** `AMQP_USER_PREFIX`. @default '' */
  readonly userPrefix?: string;
  /** The password of each user (a development placeholder in the committed file). */
  readonly password: (user: string) => string;
  /** An administrator (the management console's login), with every permission; none when unset. */
  readonly admin?: string;
  /**
   * The Refront console's user: a dead-letter operator (`deadLetterOperatorPermissions`, the
   * `impersonator` tag, decision 0130); none when unset.
   */
  readonly deadLetterOperator?: string;
}

/**
 * The broker's users for the distributed platform: one per module with the permissions of
 * `servicePermissions` (deploy/rabbitmq/definitions.json is this, for the Compose file and
 * Kubernetes; a deploy test keeps the committed file equal to it). Passwords are plain: RabbitMQ
 * hashes them on import.
 * @example
 * rabbitmqDefinitions(PLATFORM_MODULES, { password: (u) => `dev-only-${u}` });
 */
export function rabbitmqDefinitions(
  modules: readonly ServiceModule[],
  options: RabbitmqDefinitionsOptions,
): RabbitmqDefinitions {
  const namespace = options.namespace ?? 'refront';
  const vhost = '/';
  const services = modules.map((m) => {
    const user = brokerUserOf(m.name, options.userPrefix);
    return { user, permissions: servicePermissions({ user, password: '', ...brokerAccessOf(m, namespace) }) };
  });
  const admin = options.admin === undefined ? [] : [options.admin];
  const operator = options.deadLetterOperator === undefined ? [] : [options.deadLetterOperator];
  return {
    users: [
      ...admin.map((name) => ({ name, password: options.password(name), tags: ['administrator'] })),
      ...services.map(({ user }) => ({ name: user, password: options.password(user), tags: [] })),
      ...operator.map((name) => ({ name, password: options.password(name), tags: ['impersonator'] })),
    ],
    vhosts: [{ name: vhost }],
    permissions: [
      ...admin.map((user) => ({ user, vhost, configure: '.*', write: '.*', read: '.*' })),
      ...services.map(({ user, permissions }) => ({ user, vhost, ...permissions })),
      ...operator.map((user) => ({ user, vhost, ...deadLetterOperatorPermissions(namespace) })),
    ],
  };
}

/** The development placeholder password of a broker user in the committed deploy files. */
export function developmentPassword(user: string): string {
  return `dev-only-${user}`;
}
