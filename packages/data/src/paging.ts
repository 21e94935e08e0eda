import type { RefrontError } from '@refront/core';
import { DataErrors } from './errors.js';

/** Page size of a list request that asks for 0 (protobuf's unset). */
export const DEFAULT_PAGE_SIZE = 20;
/** Largest page a list request may ask for. */
export const MAX_PAGE_SIZE = 100;

/**
 * A keyset page request over rows numbered by an increasing `seq` column, newest first: the
 * `limit` rows with `seq` below `before`. Fetch `limit + 1` rows and give them to {@link pageOf}.
 */
export interface PageRequest {
  /** Rows in the page. */
  readonly limit: number;
  /** Exclusive upper bound of `seq`, or undefined for the first page. */
  readonly before: number | undefined;
}

/**
 * Reads the `page_size`/`page_token` of a list request (AIP-158). Tokens are opaque: the
 * base64url of the last row's sequence number, as {@link pageOf} made them.
 *
 * @throws RefrontError INVALID_ARGUMENT `DATA_INVALID_PAGE` (not retryable) naming `pageSize`
 *   when it is not an integer from 0 to {@link MAX_PAGE_SIZE}, or `pageToken` when it is not a
 *   token this list returned.
 * @example
 * const req = pageRequest(request.pageSize, request.pageToken);
 * const rows = await db.query(
 *   'select * from tickets where tenant = $1 and ($2::bigint is null or seq < $2) order by seq desc limit $3',
 *   [tenant, req.before ?? null, req.limit + 1],
 * );
 * const { items, nextPageToken } = pageOf(rows.rows, req.limit);
 */
export function pageRequest(pageSize: number, pageToken: string): PageRequest {
  if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > MAX_PAGE_SIZE) {
    throw invalidPage('pageSize', `must be between 0 and ${MAX_PAGE_SIZE}`);
  }
  const limit = pageSize === 0 ? DEFAULT_PAGE_SIZE : pageSize;
  if (pageToken === '') return { limit, before: undefined };
  const match = /^s(\d{1,15})$/.exec(Buffer.from(pageToken, 'base64url').toString('utf8'));
  if (!match?.[1]) throw invalidPage('pageToken', 'is not a token returned by this list');
  return { limit, before: Number(match[1]) };
}

/**
 * The page of rows fetched for a {@link PageRequest} with `limit + 1` (newest first): the first
 * `limit` rows, and the token of the next page, or `''` when the extra row was not there.
 */
export function pageOf<R extends { readonly seq: number }>(
  rows: readonly R[],
  limit: number,
): { items: R[]; nextPageToken: string } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const more = rows.length > limit && last !== undefined;
  return { items, nextPageToken: more ? Buffer.from(`s${last.seq}`).toString('base64url') : '' };
}

function invalidPage(field: string, description: string): RefrontError {
  return DataErrors.INVALID_PAGE.with({ details: { fieldViolations: [{ field, description }] } });
}
