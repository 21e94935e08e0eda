import { isRefrontError, type RefrontError } from '@refront/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageOf, pageRequest } from './paging.js';

function thrown(fn: () => unknown): RefrontError {
  try {
    fn();
  } catch (e: unknown) {
    if (isRefrontError(e)) return e;
    throw e;
  }
  throw new Error('expected a RefrontError');
}

/** Rows numbered 1..n, newest first, as a keyset query returns them. */
function rows(n: number): { seq: number }[] {
  return Array.from({ length: n }, (_, i) => ({ seq: n - i }));
}

/** What a query for `req` returns from `all`: `limit + 1` rows below `before`. */
function query(all: readonly { seq: number }[], req: { limit: number; before: number | undefined }) {
  return all.filter((r) => req.before === undefined || r.seq < req.before).slice(0, req.limit + 1);
}

describe('keyset paging', () => {
  it('walks every row once, newest first, and ends with an empty token', () => {
    const all = rows(7);
    const seen: number[] = [];
    let token = '';
    let pages = 0;
    do {
      const req = pageRequest(3, token);
      const page = pageOf(query(all, req), req.limit);
      seen.push(...page.items.map((r) => r.seq));
      token = page.nextPageToken;
      pages++;
    } while (token !== '');
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(pages).toBe(3);
  });

  it('has no next page when the rows fill the last page exactly', () => {
    const req = pageRequest(3, '');
    expect(pageOf(query(rows(3), req), req.limit)).toEqual({ items: rows(3), nextPageToken: '' });
  });

  it(`asks for ${DEFAULT_PAGE_SIZE} rows when the page size is 0, and up to ${MAX_PAGE_SIZE}`, () => {
    expect(pageRequest(0, '')).toEqual({ limit: DEFAULT_PAGE_SIZE, before: undefined });
    expect(pageRequest(MAX_PAGE_SIZE, '').limit).toBe(MAX_PAGE_SIZE);
  });

  it.each([-1, MAX_PAGE_SIZE + 1, 2.5, Number.NaN])('refuses page size %d naming pageSize', (size) => {
    const error = thrown(() => pageRequest(size, ''));
    expect([error.status, error.reason, error.retryable]).toEqual([
      'INVALID_ARGUMENT',
      'DATA_INVALID_PAGE',
      false,
    ]);
    expect(error.details.fieldViolations?.map((v) => v.field)).toEqual(['pageSize']);
  });

  it.each(['nonsense', Buffer.from('s').toString('base64url'), Buffer.from('s-1').toString('base64url')])(
    'refuses a token no page made (%s) naming pageToken',
    (token) => {
      const error = thrown(() => pageRequest(10, token));
      expect([error.status, error.reason]).toEqual(['INVALID_ARGUMENT', 'DATA_INVALID_PAGE']);
      expect(error.details.fieldViolations?.map((v) => v.field)).toEqual(['pageToken']);
    },
  );
});
