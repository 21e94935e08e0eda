import { RefrontError } from '@refront/core';

/** Reason codes of the AI service (status and retryability in README.md). */
export const AiReason = {
  /** A TicketCreated names no tenant or ticket. */
  BAD_TICKET_CREATED: 'AI_BAD_TICKET_CREATED',
  /** No classification stored for that ticket (yet). */
  CLASSIFICATION_NOT_FOUND: 'AI_CLASSIFICATION_NOT_FOUND',
  /** The labelled data set is missing or malformed. */
  BAD_DATASET: 'AI_BAD_DATASET',
  /** The provider's configuration is unusable (AI_BASE_URL, AI_MODEL…). */
  INVALID_CONFIG: 'AI_INVALID_CONFIG',
  /** The OpenAI-compatible endpoint answered with an error status. */
  PROVIDER_ERROR: 'AI_PROVIDER_ERROR',
  /** The OpenAI-compatible endpoint could not be reached. */
  PROVIDER_UNAVAILABLE: 'AI_PROVIDER_UNAVAILABLE',
  /** The OpenAI-compatible endpoint did not answer in time. */
  PROVIDER_TIMEOUT: 'AI_PROVIDER_TIMEOUT',
  /** The endpoint answered 200 with content that is not the JSON asked for. */
  PROVIDER_BAD_RESPONSE: 'AI_PROVIDER_BAD_RESPONSE',
} as const;

/** One of {@link AiReason}. */
export type AiReasonCode = (typeof AiReason)[keyof typeof AiReason];

/** NOT_FOUND `AI_CLASSIFICATION_NOT_FOUND`: no classification of ticket `id` in the caller's tenant (yet). */
export function classificationNotFound(ticketId: string): RefrontError {
  return new RefrontError(
    'NOT_FOUND',
    AiReason.CLASSIFICATION_NOT_FOUND,
    `ticket ${ticketId} does not exist`,
    {
      details: { metadata: { ticketId } },
      retryable: false,
    },
  );
}
