import { type Client, createClient, type Registry } from '@refront/core';
import type { BalancerOptions } from '@refront/discovery';
import type { ResiliencePolicy, RetryEvent } from '@refront/resilience';
import { EchoServiceDefinition } from '@refront/test-contracts';
import { CONFORMANCE_CALLER, logger } from './environment.js';
import type { TransportFactory } from './TransportFactory.js';

/** An Echo client over the lane's discovery channel; disposing it closes the channel and the policy. */
export interface DiscoveryClient extends AsyncDisposable {
  readonly client: Client<typeof EchoServiceDefinition>;
  /** Every retry the policy made. */
  readonly retries: RetryEvent[];
}

/**
 * An Echo client of the instances of `echo` in `discovery`, over `factory`'s discovery channel
 * running `callPolicy` (closed with the client).
 *
 * @example
 * await using c = discoveryClient(factory, registry, createDefaultPolicy({ name: 'echo' }));
 */
export function discoveryClient<H>(
  factory: TransportFactory<H>,
  discovery: Registry,
  callPolicy: ResiliencePolicy,
  // Round robin without ejection: the instance each attempt reaches is the next one, never skipped.
  balancer: Omit<BalancerOptions, 'service'> = { strategy: 'round-robin', outlier: false },
): DiscoveryClient {
  if (!factory.discoveryChannel) throw new Error('capabilities.discovery needs factory.discoveryChannel');
  const retries: RetryEvent[] = [];
  callPolicy.events.on('retry', (e) => retries.push(e));
  const channel = factory.discoveryChannel({
    logger,
    discovery,
    service: 'echo',
    policy: callPolicy,
    balancer,
  });
  const client = createClient(EchoServiceDefinition, channel, {
    caller: CONFORMANCE_CALLER,
    ...(factory.system === undefined ? {} : { system: factory.system }),
  });
  return {
    client,
    retries,
    async [Symbol.asyncDispose]() {
      await channel.close();
      await callPolicy.close();
    },
  };
}
