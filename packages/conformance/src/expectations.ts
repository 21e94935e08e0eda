import { isRefrontError, type RefrontError } from '@refront/core';

/** Guard against a hang: an observation that never comes fails the case with a message. */
export const OBSERVATION_TIMEOUT_MS = 5_000;

/** The rejection of `p`; fails the case when `p` resolves. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e: unknown) {
    return e;
  }
  throw new Error('expected the call to fail, it succeeded');
}

/** The RefrontError `p` rejects with; fails the case for anything else. */
export async function refused(p: Promise<unknown>): Promise<RefrontError> {
  const e = await rejection(p);
  if (!isRefrontError(e)) throw new Error(`expected a RefrontError, got ${String(e)}`, { cause: e });
  return e;
}

/** `p`, or a failure naming `what` when it does not settle within `ms` (a hang guard, not a timing assertion). */
export function within<T>(p: Promise<T>, what: string, ms = OBSERVATION_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}

/**
 * Runs `attempt` until it succeeds, pausing `pauseMs` between failures; fails with the last error
 * when `boundMs` has passed without a success.
 */
export async function eventually<T>(attempt: () => Promise<T>, boundMs: number, pauseMs = 50): Promise<T> {
  const until = Date.now() + boundMs;
  let failures = 0;
  for (;;) {
    try {
      return await attempt();
    } catch (e: unknown) {
      failures += 1;
      if (Date.now() >= until) {
        const last = isRefrontError(e) ? `${e.status} ${e.reason}: ${e.message}` : String(e);
        throw new Error(`no success within ${boundMs} ms (${failures} attempts; last: ${last})`, {
          cause: e,
        });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}
