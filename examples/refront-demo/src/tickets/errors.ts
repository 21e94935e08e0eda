import { RefrontError } from '@refront/core';

/** NOT_FOUND `TICKETS_CUSTOMER_NOT_FOUND`: no customer `id` in the caller's tenant (another tenant's is reported the same way). */
export function customerNotFound(id: string): RefrontError {
  return notFound('TICKETS_CUSTOMER_NOT_FOUND', 'customer', id);
}

/** NOT_FOUND `TICKETS_TICKET_NOT_FOUND`: no ticket `id` in the caller's tenant (another tenant's is reported the same way). */
export function ticketNotFound(id: string): RefrontError {
  return notFound('TICKETS_TICKET_NOT_FOUND', 'ticket', id);
}

function notFound(reason: string, kind: string, id: string): RefrontError {
  return new RefrontError('NOT_FOUND', reason, `${kind} ${id} does not exist`, {
    details: { metadata: { [`${kind}Id`]: id } },
    retryable: false,
  });
}
