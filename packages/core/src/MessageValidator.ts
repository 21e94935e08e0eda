import type { MessageType } from './contracts.js';
import { CoreErrors } from './coreErrors.js';
import type { FieldViolation, RefrontError } from './errors.js';

/** Checks one decoded message: its violations, or an empty list when it is valid. */
export type MessageCheck<T> = (message: T) => readonly FieldViolation[];

/**
 * Validates decoded requests and events against the rules of their contracts before any handler
 * runs: servers check each request (`DispatcherOptions.validator`), event buses each event
 * (`SubscribeOptions.validator`). Core only defines this hook; `@refront/validate` implements it
 * with protovalidate from the `buf.validate` rules in the `.proto` files.
 *
 * @example
 * const validator: MessageValidator = {
 *   checkFor: (type) =>
 *     type === GetTicketRequest
 *       ? (m) => (m.id === '' ? [{ field: 'id', description: 'value is required', reason: 'required' }] : [])
 *       : undefined,
 * };
 * const server = createGrpcServer({ service: 'tickets', logger, validator });
 */
export interface MessageValidator {
  /**
   * The check for messages of `type`, or undefined when its contract has no rules (then nothing
   * runs per message). Called once per type: when a server adds a contract, when a subscription
   * is made.
   * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` when the validator does not know
   *   `type` (its descriptors lack the contract), so a missing contract fails at start-up.
   */
  checkFor<T>(type: MessageType<T>): MessageCheck<T> | undefined;
}

/**
 * The error of a message that broke its contract's rules: INVALID_ARGUMENT `CORE_INVALID_MESSAGE`,
 * not retryable, whose message names every field and rule and whose details carry them.
 *
 * @example
 * const violations = check(request);
 * if (violations.length > 0) throw invalidMessage(GetTicketRequest, violations);
 */
export function invalidMessage(
  type: MessageType<unknown>,
  violations: readonly FieldViolation[],
): RefrontError {
  return CoreErrors.INVALID_MESSAGE.with(
    { details: { fieldViolations: violations } },
    describeViolations(type, violations),
  );
}

/** `refront.tickets.v1.GetTicketRequest is invalid: id: value is empty, which is not a valid UUID [string.uuid_empty]` */
function describeViolations(type: MessageType<unknown>, violations: readonly FieldViolation[]): string {
  const each = violations.map((v) => `${v.field}: ${v.description}${v.reason ? ` [${v.reason}]` : ''}`);
  return `${type.$type} is invalid: ${each.join('; ')}`;
}
