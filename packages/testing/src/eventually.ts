import { TestingErrors } from './errors.js';
import { realSleep } from './internal/realTimers.js';

/** Options of {@link eventually}. */
export interface EventuallyOptions {
  /** Gives up after this long, in ms of real time. @default 10000 */
  readonly timeoutMs?: number;
  /** Pause between two looks, in ms of real time. @default 25 */
  readonly intervalMs?: number;
}

/**
 * Looks at `check` until it returns something other than `undefined`, and returns that. Time is
 * real time, not the test clock's, so it works with the clock installed (and does not move it).
 *
 * @throws RefrontError DEADLINE_EXCEEDED `TESTING_WAIT_TIMEOUT` when `check` keeps returning
 *   `undefined`; whatever `check` throws, at once.
 * @example
 * const report = await eventually(async () => {
 *   const r = await reports.getTicketReport({});
 *   return r.openTickets === 3 ? r : undefined;
 * });
 */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  options: EventuallyOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const until = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > until) throw TestingErrors.WAIT_TIMEOUT('the condition', timeoutMs);
    await realSleep(options.intervalMs ?? 25);
  }
}
