import { describe, expect, it } from 'vitest';
import { callerPolicy } from './callerPolicy.js';
import { isRefrontError } from './errors.js';
import type { MethodInfo } from './Interceptor.js';

const method = (service: string, name: string): MethodInfo => ({
  service,
  name,
  path: `/${service}/${name}`,
  idempotent: false,
});
const getTicket = method('refront.tickets.v1.TicketsService', 'GetTicket');
const createTicket = method('refront.tickets.v1.TicketsService', 'CreateTicket');
const getCustomer = method('refront.tickets.v1.CustomersService', 'GetCustomer');

describe('callerPolicy', () => {
  const policy = callerPolicy({
    gateway: '*',
    invoicing: ['refront.tickets.v1.CustomersService/GetCustomer'],
    'time-tracking': ['refront.tickets.v1.TicketsService'],
  });

  it("lets '*' call every method", () => {
    for (const m of [getTicket, createTicket, getCustomer]) expect(policy.allows('gateway', m)).toBe(true);
  });

  it('lets a caller call only the methods and services listed for it', () => {
    expect(policy.allows('invoicing', getCustomer)).toBe(true);
    expect(policy.allows('invoicing', getTicket)).toBe(false);
    expect(policy.allows('time-tracking', getTicket)).toBe(true);
    expect(policy.allows('time-tracking', createTicket)).toBe(true);
    expect(policy.allows('time-tracking', getCustomer)).toBe(false);
  });

  it('lets a caller that is not listed call nothing', () => {
    expect(policy.allows('ai', getTicket)).toBe(false);
    expect(policy.allows('', getTicket)).toBe(false);
  });

  it('refuses entries that name no service', () => {
    for (const bad of ['GetTicket', 'TicketsService/GetTicket', 'a.B/C/D', 'a.B/']) {
      let error: unknown;
      try {
        callerPolicy({ x: [bad] });
      } catch (e) {
        error = e;
      }
      expect(isRefrontError(error) && error.reason).toBe('CORE_INVALID_OPTION');
    }
  });
});
