import type { Channel, Logger, MetricsRegistry, Registry, RpcServer } from '@refront/core';
import type { MutualClientTls } from '@refront/identity';
import { createGrpcChannel } from '@refront/transport-grpc';
import { createMuxChannel } from '@refront/transport-mux';

/**
 * The request lane between Refront services (`REFRONT_RPC`): mux, the lean native protocol (the
 * default), or gRPC. Both run from the same contracts and handlers; every service serves both
 * whatever lane it calls on (gRPC for callers outside Refront too), unless `MUX_PORT=off`.
 */
export type RpcLane = 'grpc' | 'mux';

/** The lanes `REFRONT_RPC` accepts. */
export const RPC_LANES: readonly [RpcLane, ...RpcLane[]] = ['grpc', 'mux'];

/**
 * The lane Refront services call each other on when nothing says otherwise: mux, since it passes
 * the conformance, fuzz and fault tests gRPC passes (decision 0090). `REFRONT_RPC=grpc` goes back.
 */
export const DEFAULT_RPC_LANE: RpcLane = 'mux';

/**
 * The discovery name of a service's mux endpoints: `tickets` → `tickets-mux`. The same registry
 * holds both lanes (a second Consul registration, a second static entry, or the same headless
 * Service on another port), so no registry needs to know about lanes.
 */
export function muxServiceName(service: string): string {
  return `${service}-mux`;
}

/** A channel that can be closed. */
export type ClosableChannel = Channel & { close(): Promise<void> };

/**
 * Opens the channel to `service` on `lane`, through discovery, behind the default policy; with
 * `tls`, over mutual TLS, presenting this process's certificate and accepting only a server
 * whose certificate names `service`.
 */
export function openLane(
  lane: RpcLane,
  registry: Registry,
  service: string,
  o: {
    readonly metrics: MetricsRegistry;
    readonly logger: Logger;
    readonly tls?: ((service: string) => MutualClientTls) | undefined;
  },
): ClosableChannel {
  const tls = o.tls ? { tls: o.tls(service) } : {};
  return lane === 'mux'
    ? createMuxChannel({
        discovery: registry,
        service: muxServiceName(service),
        metrics: o.metrics,
        logger: o.logger,
        ...tls,
      })
    : createGrpcChannel({ discovery: registry, service, metrics: o.metrics, logger: o.logger, ...tls });
}

/** One server the module registers on, serving every lane given (`add` goes to each). */
export function multiLaneServer(servers: readonly RpcServer[]): RpcServer {
  return {
    add(definition, implementation) {
      for (const s of servers) s.add(definition, implementation);
    },
    async start() {
      for (const s of servers) await s.start();
    },
    async drain(signal) {
      await Promise.all(servers.map((s) => s.drain(signal)));
    },
    async close() {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}
