/** Reasons raised by `@refront/validate` (besides core's `CORE_INVALID_MESSAGE` and `CORE_INVALID_OPTION`). */
export const ValidateReason = {
  /**
   * INTERNAL, not retryable: a rule could not be evaluated for this message (a CEL expression
   * errored or returned a non-boolean). The rule is at fault, not the caller; the same message
   * fails the same way every time.
   */
  RULE_FAILED: 'VALIDATE_RULE_FAILED',
} as const;
