import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';

/*
 * Everything the breaker pool does with opossum beyond its documented API, and nothing else: no
 * other file reaches into an opossum breaker. `opossumInternals.test.ts` checks each use against
 * the installed opossum (verified on 9.0) and fails naming the one that changed.
 *
 * 1. `status.increment('fires' | 'successes', latency)`: what each breaker's own `fire` and
 *    `success` listeners call, and all they do for a closed breaker. A call of a closed breaker
 *    that succeeds is counted here instead of going through `fire` (an argument array, a promise,
 *    two reactions, two event dispatches and two clock reads per call). If the installed opossum
 *    fails a one-time check of it, `windowCounterOf` returns undefined and the pool runs every
 *    call through `fire`: slower, never wrong.
 * 2. `status.window[0].latencyTimes`: the current bucket's latency array, which opossum fills with
 *    every call's latency even with percentiles off; `keepNoLatencies` swaps it for one that keeps
 *    nothing. If opossum moved it, breakers would hold latencies again (memory, not correctness).
 */

/** What `status.increment` is, on the opossum the check below passed. */
interface Incrementing {
  increment(property: 'fires' | 'successes', latencyMs?: number): void;
}

/** Counts calls of a closed breaker on its rolling window without going through `fire`. */
export interface WindowCounter {
  /** Counts one call that ended well (or in an answer the breaker does not count): a fire and a success. */
  countSuccess(): void;
}

class StatusCounter implements WindowCounter {
  constructor(private readonly status: Incrementing) {}

  countSuccess(): void {
    this.status.increment('fires');
    // The latency is 0: the pool keeps none (see keepNoLatencies), so no clock is read for it.
    this.status.increment('successes', 0);
  }
}

/** The breaker's window counter, or undefined when the installed opossum does not count as 9.0 does. */
export function windowCounterOf(breaker: CircuitBreaker): WindowCounter | undefined {
  if (!countingWorks()) return undefined;
  return new StatusCounter(breaker.status as unknown as Incrementing);
}

let checked: boolean | undefined;

/** Whether `status.increment` counts a success on the window `stats` decides on (checked once, on a breaker of its own). */
function countingWorks(): boolean {
  if (checked !== undefined) return checked;
  checked = false;
  const probe = new CircuitBreaker(() => Promise.resolve(), {
    timeout: false,
    enableSnapshots: false,
    rollingPercentilesEnabled: false,
    rotateBucketController: new EventEmitter(),
  });
  try {
    const status = probe.status as unknown as Partial<Incrementing>;
    if (typeof status.increment !== 'function') return false;
    keepNoLatencies(probe);
    new StatusCounter(status as Incrementing).countSuccess();
    const { fires, successes, failures } = probe.stats;
    checked = fires === 1 && successes === 1 && failures === 0;
    return checked;
  } catch {
    return false;
  } finally {
    probe.shutdown();
  }
}

/** A `latencyTimes` that keeps nothing (opossum only pushes to it while percentiles are off). */
const NO_LATENCIES: { readonly length: 0; push(): number } = Object.freeze({ length: 0, push: () => 0 });

/**
 * Keeps nothing of what opossum records for latency percentiles. opossum pushes every call's
 * latency into its current bucket even with percentiles off (as the pool sets them), so a breaker
 * held every latency of its whole window: at 50k calls/s, 500k numbers per target, which the
 * garbage collector walks again and again (a fifth of a client's CPU in the `chain` bench). The
 * counts the breaker decides on (fires, successes, failures) are untouched. Call it for each new
 * current bucket: at creation and after every rotation.
 */
export function keepNoLatencies(breaker: CircuitBreaker): void {
  const current = (breaker.status.window as Array<{ latencyTimes?: unknown }>)[0];
  if (current && Array.isArray(current.latencyTimes)) current.latencyTimes = NO_LATENCIES;
}

/** Latencies `breaker` holds in its window (tests check the pool's breakers hold none). */
export function latenciesHeld(breaker: CircuitBreaker): number {
  let n = 0;
  for (const bucket of breaker.status.window as Array<{ latencyTimes?: { length: number } }>)
    n += bucket.latencyTimes?.length ?? 0;
  return n;
}
