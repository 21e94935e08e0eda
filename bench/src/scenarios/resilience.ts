/**
 * Overhead of the default resilience policy (timeout → bulkhead → retry with budget → breaker per
 * target) around a no-op async call, against the bare call and cockatiel's equivalent policy
 * (wrap(timeout, bulkhead, retry, circuitBreaker)), timed in the same run.
 */
import { cancelSignalOf, createDefaultPolicy } from '@refront/resilience';
import {
  bulkhead,
  circuitBreaker,
  ExponentialBackoff,
  handleAll,
  retry,
  SamplingBreaker,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import { compareSequential, printTable } from '../measure.js';

export default async function (): Promise<void> {
  const noop = async (_signal: AbortSignal | undefined): Promise<number> => 1;

  const refront = createDefaultPolicy();
  const cockatiel = wrap(
    timeout(10_000, TimeoutStrategy.Aggressive),
    bulkhead(100, 50),
    retry(handleAll, {
      maxAttempts: 2,
      backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 5_000 }),
    }),
    circuitBreaker(handleAll, {
      halfOpenAfter: 10_000,
      breaker: new SamplingBreaker({ threshold: 0.5, duration: 10_000, minimumRps: 2 }),
    }),
  );

  const timings = await compareSequential(
    {
      bare: () => noop(undefined),
      'refront default policy': () => refront.execute(({ signal }) => noop(signal), { target: 'bench' }),
      // As the mux and gRPC channels run it: they enforce the deadline themselves and listen only
      // to the caller's own signal (`cancelSignalOf`), so the policy never makes an AbortController.
      'refront default policy, signal unread': () =>
        refront.execute((ctx) => noop(cancelSignalOf(ctx)), { target: 'bench' }),
      'cockatiel equivalent': () => cockatiel.execute(({ signal }) => noop(signal)),
    },
    { iterations: 200_000, rounds: 5, warmup: 50_000 },
  );
  console.log('vs the bare call:');
  printTable(timings, 'bare');
  console.log('vs cockatiel:');
  printTable(timings, 'cockatiel equivalent');
  await refront.close();
}
