import type { Policy } from '@refront/core';
import { type PolicyCall, runPolicy } from '@refront/resilience';

/** A transport's outgoing call: a {@link PolicyCall} that can also be sent once, without a policy. */
export interface OutgoingPolicyCall<T> extends PolicyCall<T> {
  /** Sends the call once, on its own deadline and signal, and reports to `ok`/`fail`. */
  sendOnce(): void;
}

/** What a call waits for before it starts: the first resolve of the service's instances (an `InstancePool` fits). */
export interface InstancesReady {
  /** Whether the instances arrived (checked first: `whenReady` allocates). */
  readonly isReady: boolean;
  /** Resolves once they have; rejects on `signal`, on close, or when discovery fails. */
  whenReady(signal?: AbortSignal): Promise<void>;
}

/**
 * Starts a transport's outgoing call: once `instances` are ready (only a channel's first calls
 * wait), through `policy` ({@link runPolicy}), or sent once when there is none. A failed wait is
 * the call's failure (`call.fail`).
 *
 * @example
 * const out = new OutgoingCall(channel, method, call, body, reply);
 * startCall(out, channel.policy, channel.pool);
 */
export function startCall<T>(
  call: OutgoingPolicyCall<T>,
  policy: Policy | undefined,
  instances: InstancesReady | undefined,
): void {
  if (instances && !instances.isReady) {
    instances.whenReady(call.signal).then(
      () => run(call, policy),
      (e: unknown) => call.fail(e),
    );
    return;
  }
  run(call, policy);
}

function run<T>(call: OutgoingPolicyCall<T>, policy: Policy | undefined): void {
  if (policy) runPolicy(policy, call);
  else call.sendOnce();
}
