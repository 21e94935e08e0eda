import { RefrontError } from '@refront/core';

/** NOT_FOUND `INVOICING_RUN_NOT_FOUND`: no billing run `id` in the caller's tenant (another tenant's is reported the same way). */
export function billingRunNotFound(id: string): RefrontError {
  return notFound('INVOICING_RUN_NOT_FOUND', 'billingRun', id);
}

/** NOT_FOUND `INVOICING_INVOICE_NOT_FOUND`: no invoice `id` in the caller's tenant (another tenant's is reported the same way). */
export function invoiceNotFound(id: string): RefrontError {
  return notFound('INVOICING_INVOICE_NOT_FOUND', 'invoice', id);
}

function notFound(reason: string, kind: string, id: string): RefrontError {
  return new RefrontError('NOT_FOUND', reason, `${kind} ${id} does not exist`, {
    details: { metadata: { [`${kind}Id`]: id } },
    retryable: false,
  });
}
