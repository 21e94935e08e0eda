import { describe, expect, it } from 'vitest';
import { CoreErrors, CoreReason } from './coreErrors.js';
import { defineErrors, reasonsOf } from './defineErrors.js';
import { isRefrontError, RefrontError } from './errors.js';

const Tickets = defineErrors('TICKETS', {
  NOT_FOUND: {
    status: 'NOT_FOUND',
    message: (id: string) => `ticket ${id} does not exist`,
    description: 'No ticket has this id.',
  },
  BUSY: { status: 'UNAVAILABLE', message: 'try later', description: 'Busy.' },
  GONE: { status: 'UNAVAILABLE', message: 'gone', retryable: false, description: 'Gone for good.' },
});

describe('defineErrors', () => {
  it('makes RefrontErrors with the declared status and the message from the arguments', () => {
    const e = Tickets.NOT_FOUND('t-1');
    expect(e).toBeInstanceOf(RefrontError);
    expect(e).toMatchObject({
      status: 'NOT_FOUND',
      reason: 'TICKETS_NOT_FOUND',
      message: 'ticket t-1 does not exist',
      retryable: false,
    });
    expect(Tickets.BUSY()).toMatchObject({ message: 'try later', retryable: true });
    expect(Tickets.GONE().retryable).toBe(false);
  });

  it('passes constructor options through `with`, but never lets a throw site change retryable', () => {
    const cause = new Error('db down');
    const e = Tickets.NOT_FOUND.with(
      { cause, details: { metadata: { id: 't-2' } }, unprocessed: true },
      't-2',
    );
    expect(e).toMatchObject({
      cause,
      details: { metadata: { id: 't-2' } },
      unprocessed: true,
      retryable: false,
    });
    const forced = Tickets.GONE.with({ retryable: true } as never);
    expect(forced.retryable).toBe(false);
  });

  it('carries its declaration, its docs anchor, and recognises its own errors only', () => {
    expect({ ...Tickets.NOT_FOUND }).toEqual({
      reason: 'TICKETS_NOT_FOUND',
      status: 'NOT_FOUND',
      retryable: false,
      description: 'No ticket has this id.',
      docs: 'docs/errors.md#tickets_not_found',
    });
    expect(Tickets.NOT_FOUND.format('x')).toBe('ticket x does not exist');
    expect(Tickets.NOT_FOUND.is(Tickets.NOT_FOUND('x'))).toBe(true);
    expect(Tickets.NOT_FOUND.is(Tickets.BUSY())).toBe(false);
    expect(Tickets.NOT_FOUND.is({ reason: 'TICKETS_NOT_FOUND' })).toBe(false);
    expect(reasonsOf(Tickets)).toEqual({
      NOT_FOUND: 'TICKETS_NOT_FOUND',
      BUSY: 'TICKETS_BUSY',
      GONE: 'TICKETS_GONE',
    });
  });

  it('refuses prefixes and names that are not upper snake case', () => {
    expect(() => defineErrors('tickets', {})).toThrow(/prefix "tickets"/);
    expect(() =>
      defineErrors('TICKETS', { notFound: { status: 'NOT_FOUND', message: 'x', description: 'x' } }),
    ).toThrow(/name "notFound"/);
    try {
      defineErrors('T-1', {});
    } catch (e) {
      expect(isRefrontError(e) && e.reason).toBe(CoreReason.INVALID_OPTION);
    }
  });
});

describe('CoreErrors', () => {
  it('is the only source of the CORE_ reasons, each with a description', () => {
    for (const [name, f] of Object.entries(CoreErrors)) {
      expect(f.reason).toBe(`CORE_${name}`);
      expect(CoreReason[name as keyof typeof CoreReason]).toBe(f.reason);
      expect(f.description.length).toBeGreaterThan(20);
    }
  });
});
