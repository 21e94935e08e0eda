/**
 * Which authenticated callers may call which methods of a server: the declaration each service
 * makes of its callers (issue 20). Checked by {@link serverAuthInterceptor} after the caller's
 * identity is known, the same on every request lane.
 */

import { invalidOption } from './coreErrors.js';
import type { MethodInfo } from './Interceptor.js';

/**
 * What one caller may call: `'*'` for every method the server serves, else a list of fully
 * qualified services (`refront.tickets.v1.TicketsService`, every method of it) and methods
 * (`refront.tickets.v1.TicketsService/GetTicket`).
 */
export type AllowedMethods = '*' | readonly string[];

/**
 * The callers of a server, by caller name (as `ServerAuthOptions.callerName` names an identity),
 * with what each may call. A caller not listed may call nothing.
 *
 * @example
 * const callers: CallerRules = {
 *   gateway: '*',
 *   invoicing: ['refront.tickets.v1.CustomersService/GetCustomer'],
 * };
 */
export type CallerRules = Readonly<Record<string, AllowedMethods>>;

/** {@link CallerRules} resolved for lookups. */
export interface CallerPolicy {
  /** Whether `caller` may call `method`. */
  allows(caller: string, method: MethodInfo): boolean;
}

const SERVICE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

/**
 * Resolves {@link CallerRules}; every entry must name a fully qualified service or method.
 * @throws RefrontError INVALID_ARGUMENT (`CORE_INVALID_OPTION`) for an entry that is neither.
 */
export function callerPolicy(rules: CallerRules): CallerPolicy {
  const everything = new Set<string>();
  const allowed = new Map<string, Set<string>>();
  for (const [caller, methods] of Object.entries(rules)) {
    if (methods === '*') {
      everything.add(caller);
      continue;
    }
    const set = new Set<string>();
    for (const m of methods) {
      const [service, name, extra] = m.split('/');
      if (!service || !SERVICE.test(service) || extra !== undefined || name === '') {
        throw invalidOption(
          `callers.${caller}: "${m}" is not a fully qualified service or "<service>/<Method>"`,
        );
      }
      set.add(m);
    }
    allowed.set(caller, set);
  }
  return {
    allows(caller, method) {
      if (everything.has(caller)) return true;
      const set = allowed.get(caller);
      return set !== undefined && (set.has(method.service) || set.has(`${method.service}/${method.name}`));
    },
  };
}
