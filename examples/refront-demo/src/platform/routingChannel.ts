import type { Call, Channel } from '@refront/core';
import type { ClientMethod } from '@refront/core/transport';

/**
 * A channel that sends each call to the channel of the service owning its contract, created on
 * first use: `refront.tickets.v1.TicketsService` → `tickets`.
 */
export function createRoutingChannel(
  serviceOf: (contract: string) => string,
  open: (service: string) => Channel,
): Channel & { readonly channels: ReadonlyMap<string, Channel> } {
  const channels = new Map<string, Channel>();
  return {
    channels,
    unary<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>): Promise<Res> {
      const service = serviceOf(method.info.service);
      let channel = channels.get(service);
      if (!channel) {
        channel = open(service);
        channels.set(service, channel);
      }
      return channel.unary(method, call);
    },
  };
}

/** The service owning a contract of the demo: `refront.time_tracking…`/`refront.timetracking.v1.X` → its module name. */
export function demoServiceOf(contract: string): string {
  const pkg = contract.split('.')[1] ?? contract;
  return pkg === 'timetracking' ? 'time-tracking' : pkg;
}
