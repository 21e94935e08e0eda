import { isRefrontError, type RefrontError } from '@refront/core';
import { describe, expect, it } from 'vitest';
import { Violations } from './Violations.js';

function thrown(fn: () => unknown): RefrontError {
  try {
    fn();
  } catch (e: unknown) {
    if (isRefrontError(e)) return e;
    throw e;
  }
  throw new Error('expected a RefrontError');
}

describe('Violations', () => {
  it('throws nothing when every check passed', () => {
    expect(() =>
      new Violations().check(false, 'a', 'x').required('b', 'value').throwIfAny('TEST_INVALID'),
    ).not.toThrow();
  });

  it('throws one INVALID_ARGUMENT under the given reason, listing every violation in order', () => {
    const error = thrown(() =>
      new Violations()
        .required('name', '  ')
        .check(true, 'minutes', 'must be positive')
        .check(false, 'date', 'never recorded')
        .required('tenant', undefined, 'the envelope names no tenant')
        .throwIfAny('TEST_INVALID_ENTRY'),
    );
    expect([error.status, error.reason, error.message, error.retryable]).toEqual([
      'INVALID_ARGUMENT',
      'TEST_INVALID_ENTRY',
      'the request is invalid',
      false,
    ]);
    expect(error.details.fieldViolations).toEqual([
      { field: 'name', description: 'must not be empty' },
      { field: 'minutes', description: 'must be positive' },
      { field: 'tenant', description: 'the envelope names no tenant' },
    ]);
  });

  it('takes the message of the error', () => {
    const error = thrown(() =>
      new Violations().required('id', '').throwIfAny('TEST_BAD_EVENT', 'invalid event'),
    );
    expect(error.message).toBe('invalid event');
  });
});
