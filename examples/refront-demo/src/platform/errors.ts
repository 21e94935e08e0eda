import { type FieldViolation, RefrontError } from '@refront/core';

/** Collects field violations and throws one INVALID_ARGUMENT listing all of them. */
export class Violations {
  private readonly list: FieldViolation[] = [];

  /** Records `description` for `field` when `failed` is true. */
  check(failed: boolean, field: string, description: string): this {
    if (failed) this.list.push({ field, description });
    return this;
  }

  /** Throws INVALID_ARGUMENT with every recorded violation, if any. */
  throwIfAny(reason: string, message = 'the request is invalid'): void {
    if (this.list.length === 0) return;
    throw new RefrontError('INVALID_ARGUMENT', reason, message, {
      details: { fieldViolations: [...this.list] },
      retryable: false,
    });
  }
}

/** The tenant of the call; UNAUTHENTICATED when the caller sent none. */
export function requireTenant(tenant: string | undefined): string {
  if (tenant === undefined || tenant === '') {
    throw new RefrontError('UNAUTHENTICATED', 'PLATFORM_NO_TENANT', 'the call carries no tenant', {
      retryable: false,
    });
  }
  return tenant;
}

/** NOT_FOUND for a record of `kind` (another tenant's record is reported the same way). */
export function notFound(reason: string, kind: string, id: string): RefrontError {
  return new RefrontError('NOT_FOUND', reason, `${kind} ${id} does not exist`, {
    details: { metadata: { [`${kind}Id`]: id } },
    retryable: false,
  });
}

/** True for a string that is empty or only whitespace. */
export function blank(value: string | undefined): boolean {
  return value === undefined || value.trim() === '';
}
