import { describe, expect, it } from 'vitest';
import { cancelReason, DEADLINE_CANCEL_MARGIN_MS } from './cancelReason.js';

const ARRIVED = 1_000_000;

describe('cancelReason: a cancel near the deadline is the deadline', () => {
  it('reads a cancel that arrives within the margin before the deadline as DEADLINE_EXCEEDED', () => {
    // The client cancelled at its own deadline; the server's is later by the transit time.
    const deadline = ARRIVED + 150;
    const err = cancelReason(deadline, ARRIVED, deadline - DEADLINE_CANCEL_MARGIN_MS + 1);
    expect(err.status).toBe('DEADLINE_EXCEEDED');
    expect(err.reason).toBe('CORE_DEADLINE_EXCEEDED');
  });

  it('reads a cancel at or after the deadline as DEADLINE_EXCEEDED', () => {
    const deadline = ARRIVED + 10_000;
    expect(cancelReason(deadline, ARRIVED, deadline).status).toBe('DEADLINE_EXCEEDED');
    expect(cancelReason(deadline, ARRIVED, deadline + 5).status).toBe('DEADLINE_EXCEEDED');
  });

  it('reads an earlier cancel as CANCELLED', () => {
    const deadline = ARRIVED + 10_000;
    const err = cancelReason(deadline, ARRIVED, deadline - DEADLINE_CANCEL_MARGIN_MS - 1);
    expect(err.status).toBe('CANCELLED');
    expect(err.reason).toBe('CORE_CANCELLED');
  });

  it('caps the margin at half the timeout, so a short call cancelled early stays CANCELLED', () => {
    const deadline = ARRIVED + 20;
    expect(cancelReason(deadline, ARRIVED, ARRIVED + 5).status).toBe('CANCELLED');
    expect(cancelReason(deadline, ARRIVED, ARRIVED + 10).status).toBe('DEADLINE_EXCEEDED');
  });

  it('keeps one millisecond of slack for timers that fire just before the deadline', () => {
    expect(cancelReason(ARRIVED + 1, ARRIVED, ARRIVED).status).toBe('DEADLINE_EXCEEDED');
  });

  it('reads any cancel of a call without a deadline as CANCELLED', () => {
    expect(cancelReason(undefined, ARRIVED, ARRIVED + 1e9).status).toBe('CANCELLED');
  });
});
