import { describe, expect, it } from 'vitest';
import { serviceOfSpiffeId, spiffeId } from './spiffe.js';

describe('SPIFFE ids', () => {
  it('names a service in a trust domain, and reads it back', () => {
    expect(spiffeId('time-tracking')).toBe('spiffe://refront.local/time-tracking');
    expect(spiffeId('tickets', 'prod.example.com')).toBe('spiffe://prod.example.com/tickets');
    const of = serviceOfSpiffeId('prod.example.com');
    expect(of('spiffe://prod.example.com/tickets')).toBe('tickets');
  });

  it('reads no service from another trust domain or shape', () => {
    const of = serviceOfSpiffeId();
    for (const id of [
      'spiffe://evil.local/tickets',
      'spiffe://refront.local.evil/tickets',
      'spiffe://refront.local/ns/default/sa/tickets',
      'spiffe://refront.local/',
      'tickets',
      'CN=tickets',
    ])
      expect(of(id)).toBeUndefined();
  });

  it('refuses names that are not plain', () => {
    expect(() => spiffeId('a/b')).toThrow(/not a service name/);
    expect(() => spiffeId('tickets', 'UPPER')).toThrow(/trust domain/);
  });
});
