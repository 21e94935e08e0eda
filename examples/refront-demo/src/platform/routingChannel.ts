import type { Call, Channel } from '@refront/core';
import type { ClientMethod, Reply } from '@refront/core/transport';

/** A {@link Channel} that routes each call to the channel of the service owning its contract. */
export interface RoutingChannel extends Channel {
  /**
   * The fast path (core's `Channel.send`): `createClient` without extra interceptors hands the
   * call and its reply straight through, to the service's channel's own `send` when it has one
   * (mux, gRPC), else to its `unary`. Reports to `reply` exactly once and never throws, with
   * what `unary` would resolve or reject with.
   */
  send<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>, reply: Reply): void;
  /** The channels opened so far, by service. */
  readonly channels: ReadonlyMap<string, Channel>;
}

/**
 * A channel that sends each call to the channel of the service owning its contract, created on
 * first use: `refront.tickets.v1.TicketsService` → `tickets`. Both paths (`unary`, `send`) route
 * the same way and fail the same way; a channel that cannot be opened is the call's failure.
 */
export function createRoutingChannel(
  serviceOf: (contract: string) => string,
  open: (service: string) => Channel,
): RoutingChannel {
  const channels = new Map<string, Channel>();
  const channelFor = (contract: string): Channel => {
    const service = serviceOf(contract);
    let channel = channels.get(service);
    if (!channel) {
      channel = open(service);
      channels.set(service, channel);
    }
    return channel;
  };
  return {
    channels,
    unary<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>): Promise<Res> {
      try {
        return channelFor(method.info.service).unary(method, call);
      } catch (e: unknown) {
        return Promise.reject(e);
      }
    },
    send<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>, reply: Reply): void {
      let pending: Promise<Res>;
      try {
        const channel = channelFor(method.info.service);
        // A channel's send never throws (core's Channel contract): it reports to `reply` itself.
        if (channel.send) {
          channel.send(method, call, reply);
          return;
        }
        pending = channel.unary(method, call);
      } catch (e: unknown) {
        reply.fail(e);
        return;
      }
      pending.then(
        (response) => reply.ok(response),
        (error: unknown) => reply.fail(error),
      );
    },
  };
}

/**
 * The service owning a contract of the demo, from the second segment of its protobuf package:
 * `refront.tickets.v1.X` → `tickets`; underscores are the hyphens of a service name
 * (`refront.billing_alerts.v1.X` → `billing-alerts`, the package `refront new service` writes);
 * `refront.timetracking.v1.X` → `time-tracking`, the one older name.
 */
export function demoServiceOf(contract: string): string {
  const pkg = contract.split('.')[1] ?? contract;
  return pkg === 'timetracking' ? 'time-tracking' : pkg.replaceAll('_', '-');
}
