import type { Logger, MetricsRegistry, Registry } from '@refront/core';
import type { MutualClientTls } from '@refront/identity';
import { createRoutingChannel, demoServiceOf, type RoutingChannel } from './routingChannel.js';
import { openLane, type RpcLane } from './rpcLane.js';

/** The channel a process calls the platform's services through; closing it closes every lane it opened. */
export type PlatformChannel = RoutingChannel & { close(): Promise<void> };

/**
 * The channel every caller of the distributed topology (a service, the gateway, the console)
 * calls the platform through: each call routed to the channel of the service owning its
 * contract, opened on first use on `lane` through discovery, presenting this process's
 * certificate with `tls` (mutual TLS: the service knows the caller by it).
 *
 * @example
 * const channel = openPlatformChannel(cfg.REFRONT_RPC, registry, { metrics, logger, tls: mutualTls(files).client });
 */
export function openPlatformChannel(
  lane: RpcLane,
  registry: Registry,
  o: {
    readonly metrics: MetricsRegistry;
    readonly logger: Logger;
    readonly tls?: ((service: string) => MutualClientTls) | undefined;
  },
): PlatformChannel {
  const opened: { close(): Promise<void> }[] = [];
  const routing = createRoutingChannel(demoServiceOf, (service) => {
    const channel = openLane(lane, registry, service, o);
    opened.push(channel);
    return channel;
  });
  return Object.assign(routing, {
    async close() {
      for (const c of opened.splice(0)) await c.close();
    },
  });
}
