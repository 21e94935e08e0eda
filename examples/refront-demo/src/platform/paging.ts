import { RefrontError } from '@refront/core';

/** Page size used when a request asks for 0. */
export const DEFAULT_PAGE_SIZE = 20;
/** Largest page a request may ask for. */
export const MAX_PAGE_SIZE = 100;

/** A keyset page request: rows with `seq` below `before`, newest first. */
export interface PageRequest {
  readonly limit: number;
  /** Exclusive upper bound of `seq`, or undefined for the first page. */
  readonly before: number | undefined;
}

/**
 * Reads `page_size`/`page_token` of a list request. Tokens are opaque (base64url of the last
 * row's sequence number); a token that does not decode is INVALID_ARGUMENT.
 */
export function pageRequest(pageSize: number, pageToken: string): PageRequest {
  if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > MAX_PAGE_SIZE) {
    throw invalid('pageSize', `must be between 0 and ${MAX_PAGE_SIZE}`);
  }
  const limit = pageSize === 0 ? DEFAULT_PAGE_SIZE : pageSize;
  if (pageToken === '') return { limit, before: undefined };
  const match = /^s(\d{1,15})$/.exec(Buffer.from(pageToken, 'base64url').toString('utf8'));
  if (!match?.[1]) throw invalid('pageToken', 'is not a token returned by this list');
  return { limit, before: Number(match[1]) };
}

/**
 * Builds a page from rows fetched with `limit + 1` (newest first): the extra row only says that
 * another page exists.
 */
export function page<R extends { seq: number }>(
  rows: readonly R[],
  limit: number,
): { items: R[]; nextPageToken: string } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const more = rows.length > limit && last !== undefined;
  return { items, nextPageToken: more ? Buffer.from(`s${last.seq}`).toString('base64url') : '' };
}

function invalid(field: string, description: string): RefrontError {
  return new RefrontError('INVALID_ARGUMENT', 'PLATFORM_INVALID_PAGE', 'the page request is invalid', {
    details: { fieldViolations: [{ field, description }] },
    retryable: false,
  });
}
