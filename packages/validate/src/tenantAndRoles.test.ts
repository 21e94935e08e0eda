import { isRefrontError, type RefrontError } from '@refront/core';
import { METADATA_ROLES } from '@refront/core/transport';
import { describe, expect, it } from 'vitest';
import { requireRole, requireTenant } from './tenantAndRoles.js';

function thrown(fn: () => unknown): RefrontError {
  try {
    fn();
  } catch (e: unknown) {
    if (isRefrontError(e)) return e;
    throw e;
  }
  throw new Error('expected a RefrontError');
}

describe('requireTenant', () => {
  it("returns the call's tenant", () => {
    expect(requireTenant({ tenant: 'acme' })).toBe('acme');
  });

  it.each([undefined, ''])(
    'refuses a call without a tenant (%j): UNAUTHENTICATED VALIDATE_NO_TENANT',
    (tenant) => {
      const error = thrown(() => requireTenant({ tenant }));
      expect([error.status, error.reason, error.retryable]).toEqual([
        'UNAUTHENTICATED',
        'VALIDATE_NO_TENANT',
        false,
      ]);
    },
  );
});

describe('requireRole', () => {
  it(`lets a call through whose ${METADATA_ROLES} lists the role`, () => {
    expect(() => requireRole({ metadata: { [METADATA_ROLES]: 'admin member' } }, 'admin')).not.toThrow();
    expect(() => requireRole({ metadata: { [METADATA_ROLES]: 'member admin' } }, 'admin')).not.toThrow();
  });

  it.each([
    ['no roles metadata', {}],
    ['other roles only', { [METADATA_ROLES]: 'member' }],
    ['a role that only contains the name', { [METADATA_ROLES]: 'administrator sysadmin' }],
    ['an empty value', { [METADATA_ROLES]: '' }],
  ])('refuses %s: PERMISSION_DENIED VALIDATE_ROLE_REQUIRED', (_, metadata: Record<string, string>) => {
    const error = thrown(() => requireRole({ metadata }, 'admin'));
    expect([error.status, error.reason, error.retryable]).toEqual([
      'PERMISSION_DENIED',
      'VALIDATE_ROLE_REQUIRED',
      false,
    ]);
    expect(error.message).toBe('this call requires the admin role');
  });
});
