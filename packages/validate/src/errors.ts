import { defineErrors } from '@refront/core';
import { reasonsOf } from '@refront/core/transport';

/**
 * The errors `@refront/validate` raises, declared once with their status and meaning (listed in
 * `docs/errors.md#refrontvalidate`). A message that breaks its rules is core's
 * `CORE_INVALID_MESSAGE`, a descriptor set or rule that does not load core's `CORE_INVALID_OPTION`.
 *
 * @example
 * throw ValidateErrors.RULE_FAILED.with({ cause: e }, 'refront.tickets.v1.CreateTicket', e);
 */
export const ValidateErrors = defineErrors('VALIDATE', {
  RULE_FAILED: {
    status: 'INTERNAL',
    message: (typeName: string, error: Error) =>
      `a validation rule of ${typeName} failed to evaluate: ${error.message}`,
    description:
      'A rule could not be evaluated for this message (a CEL expression errored or returned a non-boolean): the rule is at fault, not the caller, and the same message fails the same way every time. `cause` has the evaluation error.',
  },
  NO_TENANT: {
    status: 'UNAUTHENTICATED',
    message: 'the call carries no tenant',
    description:
      '`requireTenant`: a handler that acts for a tenant got a call that names none (no `x-refront-tenant`, or an empty one).',
  },
  CONTRACT_NOT_FOUND: {
    status: 'NOT_FOUND',
    message: (what: string, hint: string) => `no ${what} in the contracts: ${hint}`,
    description:
      "A contract catalog (`createContractCatalog`: `refront call`, the console's API explorer) was asked for a service, method or message its descriptor sets do not hold; the message lists what they have.",
  },
  AMBIGUOUS_SERVICE: {
    status: 'INVALID_ARGUMENT',
    message: (name: string, matches: readonly string[]) =>
      `"${name}" names several services (${matches.join(', ')}): name one in full`,
    description: 'A short service name matched more than one service of the contracts.',
  },
  INVALID_JSON: {
    status: 'INVALID_ARGUMENT',
    message: (typeName: string, why: string) => `the request is not a JSON ${typeName}: ${why}`,
    description:
      "A request given as JSON (`refront call`, the console's API explorer) does not parse, is not an object, or does not fit its message in protobuf's JSON mapping (an unknown field, a value of the wrong type). Fix the body; nothing was sent.",
  },
  ROLE_REQUIRED: {
    status: 'PERMISSION_DENIED',
    message: (role: string) => `this call requires the ${role} role`,
    description:
      "`requireRole`: the user the call acts for does not hold the role the operation requires (it is not in the call's `x-refront-roles`, set by the edge from a verified token).",
  },
});

/** The reason codes of {@link ValidateErrors}, for comparisons: `e.reason === ValidateReason.RULE_FAILED`. */
export const ValidateReason = reasonsOf(ValidateErrors);
