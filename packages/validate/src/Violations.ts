import { type FieldViolation, RefrontError } from '@refront/core';

/**
 * Collects the field violations of a request or event that its contract's rules cannot express
 * (a rule across fields, one that needs state), then throws one INVALID_ARGUMENT listing every
 * one of them: the same error shape as a contract rule's `CORE_INVALID_MESSAGE`, under the
 * caller's own reason, so a client fixes every field at once.
 *
 * @example
 * new Violations()
 *   .required('customerId', request.customerId)
 *   .check(request.minutes <= 0, 'minutes', 'must be positive')
 *   .throwIfAny('TIMETRACKING_INVALID_ENTRY');
 */
export class Violations {
  private readonly list: FieldViolation[] = [];

  /** Records `description` for `field` when `failed` is true. */
  check(failed: boolean, field: string, description: string): this {
    if (failed) this.list.push({ field, description });
    return this;
  }

  /** Records `description` for `field` when `value` is missing, empty or only whitespace. */
  required(field: string, value: string | undefined, description = 'must not be empty'): this {
    return this.check(value === undefined || value.trim() === '', field, description);
  }

  /**
   * Throws INVALID_ARGUMENT `reason` (not retryable) with every recorded violation in
   * `details.fieldViolations`, in the order recorded; does nothing when there is none.
   */
  throwIfAny(reason: string, message = 'the request is invalid'): void {
    if (this.list.length === 0) return;
    throw new RefrontError('INVALID_ARGUMENT', reason, message, {
      details: { fieldViolations: [...this.list] },
      retryable: false,
    });
  }
}
