import type { CallerRules } from '@refront/core';
import type { ServiceModule } from '@refront/data';

/** The caller name of the console's API explorer: its certificate's service, its in-process channel's caller. */
export const CONSOLE_CALLER = 'console';

/**
 * The platform's operator identities and what they may call on every service: the console, whose
 * API explorer calls any method as a chosen tenant. An identity exists only where a certificate is
 * issued for it: a deployment without the console issues none, so no process can present it
 * (decision 0146). The console's own HTTP API is behind its token.
 */
export const OPERATOR_CALLERS: CallerRules = Object.freeze({ [CONSOLE_CALLER]: '*' });

/**
 * Who may call `module`'s methods on a host that authenticates callers: the callers it declares
 * and the platform's {@link OPERATOR_CALLERS}. Servers, network policies and the console's Flow
 * read it from here, so the three agree.
 */
export function callersOf(module: Pick<ServiceModule, 'callers'>): CallerRules {
  return { ...module.callers, ...OPERATOR_CALLERS };
}
