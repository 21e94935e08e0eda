import type { ConsoleContractsOptions } from '@refront/console';
import type { Channel } from '@refront/core';
import { FILE_DESCRIPTOR_SET } from '../gen/descriptors.js';
import { callersOf } from './operators.js';
import { PLATFORM_MODULES } from './services.js';

/** The service name of the gateway, as the services' `callers` name it. */
const GATEWAY = 'gateway';

/**
 * What the console knows of the platform's contracts: the descriptor set of `proto/`, each
 * module's events and callers (the operators too: `callersOf`) from the service registry, the
 * channel the API explorer calls through (the platform's own: in-process in the monolith, each
 * service's lane in the distributed topology), and the gateway whose routes it
 * offers, with a dev token (`POST /v1/dev/tokens`, as the demo's tests get one) when dev auth is on.
 *
 * @example
 * const channel = network.channel({ caller: CONSOLE_CALLER });
 * createConsole({ enabled: true, contracts: consoleContracts(channel, () => gatewayUrl, true) });
 */
export function consoleContracts(
  channel: Channel,
  gatewayUrl: () => string | undefined,
  devAuth: boolean,
): ConsoleContractsOptions {
  return {
    descriptors: [FILE_DESCRIPTOR_SET],
    channel,
    services: [
      { name: GATEWAY, publishes: [], consumes: [] },
      ...PLATFORM_MODULES.map((m) => ({
        name: m.name,
        publishes: m.events.publishes.map((t) => t.$type),
        consumes: m.events.consumes.map((t) => t.$type),
        callers: callersOf(m),
      })),
    ],
    gateway: {
      url: gatewayUrl,
      ...(devAuth
        ? {
            token: async ({ tenant, user, roles }) => {
              const res = await fetch(new URL('/v1/dev/tokens', gatewayUrl()), {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ tenant, user, roles }),
              });
              const body = (await res.json()) as { token?: string };
              if (!res.ok || !body.token) throw new Error(`no dev token for ${tenant}: HTTP ${res.status}`);
              return body.token;
            },
          }
        : {}),
    },
  };
}
