import type { Call } from '@refront/core';
import type { ClientMethod, Reply } from '@refront/core/transport';
import { InstancePicks, type PooledInstance } from '@refront/discovery';
import { cancelSignalOf, isInstanceFailure, type ResilienceAttemptContext } from '@refront/resilience';
import type { CallRoute, Connector } from './CallRoute.js';
import type { OutgoingPolicyCall } from './startCall.js';

/**
 * One call on a network channel, as one object: the policy's view of it (options, target picker,
 * attempts, outcome; see resilience's `PolicyCall`), and the instance picks of its attempts (an
 * instance per attempt, so its breaker guards it and a retry goes to another one when there is
 * one; see discovery's `InstancePicks`). A lane extends it with {@link RpcOutgoingCall.transmit},
 * which sends one attempt on one connection and reports how it ended through
 * {@link RpcOutgoingCall.answered}, {@link RpcOutgoingCall.failed} or {@link RpcOutgoingCall.end},
 * exactly once. No closure or promise per call or attempt here.
 *
 * @example
 * class MuxOutgoingCall extends RpcOutgoingCall<Endpoint> {
 *   protected transmit(endpoint: Endpoint, deadline: number | undefined, signal: AbortSignal | undefined): void {
 *     endpoint.call(this.method, this.body, this.call.metadata, deadline, signal, this); // → answered / failed
 *   }
 * }
 */
export abstract class RpcOutgoingCall<C, K extends Connector<C> = Connector<C>>
  extends InstancePicks<C>
  implements OutgoingPolicyCall<unknown>, Reply
{
  readonly signal: AbortSignal | undefined;
  readonly deadline: number | undefined;
  readonly idempotent: boolean;
  readonly target: string;
  /** The attempt in flight: its context (undefined without a policy) and where its outcome goes. */
  private ctx: ResilienceAttemptContext | undefined = undefined;
  private done: Reply | undefined = undefined;

  /**
   * @param route the channel
   * @param method the method called
   * @param call the call (its `target` is set per attempt)
   * @param body the encoded request
   * @param reply where the call's outcome goes, once
   */
  constructor(
    protected readonly route: CallRoute<C, K>,
    protected readonly method: ClientMethod,
    protected readonly call: Call<unknown>,
    protected readonly body: Uint8Array,
    protected readonly reply: Reply,
  ) {
    super(route.pool);
    this.signal = call.signal;
    this.deadline = call.deadline;
    this.idempotent = method.info.idempotent;
    this.target = route.name;
  }

  /**
   * Sends one attempt on `connection`, ending at `deadline` (the lane enforces it) or when `signal`
   * (the caller's cancel) aborts, and reports its end once: {@link answered}, {@link failed}, or
   * {@link end} when the lane knows whether the instance did its part.
   */
  protected abstract transmit(
    connection: C,
    deadline: number | undefined,
    signal: AbortSignal | undefined,
  ): void;

  /** Sends the call once, without a policy: one instance, the call's own deadline and signal. */
  sendOnce(): void {
    let picked: PooledInstance<C> | undefined;
    try {
      picked = this.take();
    } catch (e: unknown) {
      this.reply.fail(e);
      return;
    }
    this.send(picked, undefined, this, this.call.deadline, this.call.signal);
  }

  /** The policy: runs one attempt (on the instance `pickTarget` chose, else a new pick). */
  attempt(ctx: ResilienceAttemptContext, done: Reply): void {
    const picked = this.take();
    // The lane ends the attempt at ctx.deadline itself; only the caller's cancel needs a listener.
    this.send(picked, ctx, done, ctx.deadline ?? this.call.deadline, cancelSignalOf(ctx));
  }

  private send(
    picked: PooledInstance<C> | undefined,
    ctx: ResilienceAttemptContext | undefined,
    done: Reply,
    deadline: number | undefined,
    signal: AbortSignal | undefined,
  ): void {
    this.ctx = ctx;
    this.done = done;
    this.call.target = picked?.key ?? this.route.name;
    this.transmit(picked?.connection ?? (this.route.single as C), deadline, signal);
  }

  /** The lane: the attempt in flight was answered with `response`. */
  answered(response: unknown): void {
    const done = this.done as Reply;
    this.done = undefined;
    this.settle(true);
    done.ok(response);
  }

  /**
   * The lane: the attempt in flight failed with `error`. It counts against its instance when the
   * policy's breaker would count it ({@link isInstanceFailure}) and the attempt was not aborted:
   * an attempt the policy's timeout or the caller ended is not the instance's fault.
   */
  failed(error: unknown): void {
    let instanceOk = true;
    if (this.route.pool) {
      // The attempt's full signal (deadline included) is read only on failure.
      const aborted = this.ctx ? this.ctx.signal.aborted : this.call.signal?.aborted === true;
      instanceOk = aborted || !isInstanceFailure(error, this.route.policy);
    }
    this.end(instanceOk, error);
  }

  /** The lane: the attempt in flight failed with `error`; `instanceOk` is what its pick records. */
  protected end(instanceOk: boolean, error: unknown): void {
    const done = this.done as Reply;
    this.done = undefined;
    this.settle(instanceOk);
    done.fail(error);
  }

  /** The policy (or the only attempt): the call succeeded. */
  ok(response: unknown): void {
    this.reply.ok(response);
  }

  /** The policy (or the only attempt): the call failed; a pick no attempt took ends as a failure of its instance. */
  fail(error: unknown): void {
    this.abandon();
    this.reply.fail(error);
  }
}
