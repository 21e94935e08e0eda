/** What a policy passes to each attempt of the operation it runs. */
export interface AttemptContext {
  /** Aborts when the caller aborts, the deadline passes or the policy's timeout fires. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry… */
  readonly attempt: number;
}

/** Per-execution options of a {@link Policy}. */
export interface ExecuteOptions {
  /** Stops the execution and any further attempt once aborted. */
  readonly signal?: AbortSignal;
  /**
   * Whether the operation is safe to run twice. Only idempotent operations are retried on
   * statuses other than UNAVAILABLE. @default false
   */
  readonly idempotent?: boolean;
  /** Name of what is called (`tickets` or `tickets/10.0.0.7:50051`), for breakers, metrics and logs. */
  readonly target?: string;
}

/**
 * A resilience policy (timeout, retry, breaker, bulkhead…): runs an async operation under its
 * rules. `@refront/resilience` implements it; transports accept any implementation.
 *
 * @example
 * const res = await policy.execute(({ signal }) => fetchThing(signal), { signal, idempotent: true });
 */
export interface Policy {
  /**
   * Runs `fn` under the policy.
   * @throws RefrontError with the policy's reason when it refuses or gives up (an open circuit is
   *   UNAVAILABLE, a full bulkhead RESOURCE_EXHAUSTED, a fired timeout DEADLINE_EXCEEDED); the
   *   caller's own abort reason, unchanged, when the caller aborted.
   */
  execute<T>(fn: (ctx: AttemptContext) => Promise<T>, options?: ExecuteOptions): Promise<T>;
}
