import type { ServiceModule } from '@refront/demo/deploy';
import { developmentPassword, rabbitmqDefinitions } from '@refront/demo/deploy';

/** The Compose console's administrator (not a service: every permission). */
export const CONSOLE_ADMIN = 'refront';
/** The Refront console's broker user: a dead-letter operator (decision 0130). */
export const DEAD_LETTER_OPERATOR = 'console';

/** The text deploy/rabbitmq/definitions.json must hold: generated, never edited by hand. */
export function committedDefinitions(modules: readonly ServiceModule[]): string {
  const definitions = rabbitmqDefinitions(modules, {
    password: (user) => (user === CONSOLE_ADMIN ? CONSOLE_ADMIN : developmentPassword(user)),
    admin: CONSOLE_ADMIN,
    deadLetterOperator: DEAD_LETTER_OPERATOR,
  });
  return `${JSON.stringify(definitions, null, 2)}\n`;
}

export { amqpSecretKey } from '../derived/render.js';
