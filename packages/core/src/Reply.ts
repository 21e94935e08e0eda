/**
 * Where the outcome of a call being served goes, exactly once: a response, or an error (always a
 * RefrontError when the default interceptors run).
 */
export interface Reply {
  /** The call succeeded with `response`. */
  ok(response: unknown): void;
  /** The call failed with `error`. */
  fail(error: unknown): void;
}
