import type { Call } from '@refront/core';
import type { ClientMethod, Reply } from '@refront/core/transport';
import { InstancePicks, type InstancePool, type PooledInstance } from '@refront/discovery';
import {
  cancelSignalOf,
  isInstanceFailure,
  type PolicyCall,
  type ResilienceAttemptContext,
  type ResiliencePolicy,
} from '@refront/resilience';
import type { CallReply } from './ClientConnection.js';
import type { Endpoint } from './Endpoint.js';

/** One picked instance with its own connections. */
type Picked = PooledInstance<Endpoint>;

/** What an {@link OutgoingCall} needs of its channel. */
export interface CallRoute {
  /** The instances (discovery), or undefined with one fixed endpoint. */
  readonly pool: InstancePool<Endpoint> | undefined;
  /** The fixed endpoint, when there is no pool. */
  readonly single: Endpoint | undefined;
  /** The service (discovery) or target name. */
  readonly name: string;
  /** The policy calls run under: its breaker's `failureStatuses` decide what counts against an instance. */
  readonly policy: ResiliencePolicy | undefined;
}

/**
 * One call on a mux channel, as one object: the policy's view of it (options, target picker,
 * attempts, outcome; see `PolicyCall`), the reply target of each attempt's connection, and the
 * instance picks of its attempts (an instance per attempt, so its breaker guards it and a retry
 * goes to another one when there is one; see `InstancePicks`). No closure or promise per call or
 * attempt.
 */
export class OutgoingCall extends InstancePicks<Endpoint> implements PolicyCall<unknown>, CallReply {
  readonly signal: AbortSignal | undefined;
  readonly deadline: number | undefined;
  readonly idempotent: boolean;
  readonly target: string;
  /** The attempt in flight: its context (undefined without a policy) and where its outcome goes. */
  private ctx: ResilienceAttemptContext | undefined = undefined;
  private done: Reply | undefined = undefined;

  constructor(
    private readonly route: CallRoute,
    private readonly method: ClientMethod,
    private readonly call: Call<unknown>,
    private readonly body: Uint8Array,
    private readonly reply: Reply,
  ) {
    super(route.pool);
    this.signal = call.signal;
    this.deadline = call.deadline;
    this.idempotent = method.info.idempotent;
    this.target = route.name;
  }

  /** Sends the call once, without a policy: one instance, the call's own deadline and signal. */
  sendOnce(): void {
    let picked: Picked | undefined;
    try {
      picked = this.take();
    } catch (e: unknown) {
      this.reply.fail(e);
      return;
    }
    this.send(picked, undefined, this.reply, this.call.deadline, this.call.signal);
  }

  attempt(ctx: ResilienceAttemptContext, done: Reply): void {
    const picked = this.take();
    // The connection ends the call at ctx.deadline itself; only the caller's cancel needs a listener.
    this.send(picked, ctx, done, ctx.deadline ?? this.call.deadline, cancelSignalOf(ctx));
  }

  private send(
    picked: Picked | undefined,
    ctx: ResilienceAttemptContext | undefined,
    done: Reply,
    deadline: number | undefined,
    signal: AbortSignal | undefined,
  ): void {
    this.ctx = ctx;
    this.done = done;
    const call = this.call;
    call.target = picked?.key ?? this.route.name;
    const endpoint = picked?.connection ?? (this.route.single as Endpoint);
    endpoint.call(this.method, this.body, call.metadata, deadline, signal, this);
  }

  /** @internal the connection: the attempt in flight was answered. */
  answered(response: unknown): void {
    const done = this.done as Reply;
    this.done = undefined;
    this.settle(true);
    done.ok(response);
  }

  /** @internal the connection: the attempt in flight failed. */
  failed(error: unknown): void {
    const done = this.done as Reply;
    this.done = undefined;
    if (this.route.pool) {
      // The attempt's full signal (deadline included) is read only on failure: an attempt the
      // policy's timeout ended is not the instance's fault.
      const aborted = this.ctx ? this.ctx.signal.aborted : this.call.signal?.aborted;
      this.settle(aborted || !isInstanceFailure(error, this.route.policy));
    }
    done.fail(error);
  }

  /** The policy: the call succeeded. */
  ok(response: unknown): void {
    this.reply.ok(response);
  }

  /** The policy: the call failed; a pick no attempt took ends as a failure of its instance. */
  fail(error: unknown): void {
    this.abandon();
    this.reply.fail(error);
  }
}
