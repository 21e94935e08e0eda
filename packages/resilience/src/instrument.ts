import { counterOf, type Logger, type MetricsRegistry } from '@refront/core';
import type { Disposable } from '@refront/core/transport';
import type { ResilienceEvent, ResilienceEvents } from './ResilienceEvents.js';

/** Label `policy` of every metric when no name is given. */
export const DEFAULT_POLICY_NAME = 'default';

/** Metric names written by {@link instrument}. */
export const RESILIENCE_METRICS = {
  retries: 'refront_resilience_retries_total',
  retryBudgetExhausted: 'refront_resilience_retry_budget_exhausted_total',
  timeouts: 'refront_resilience_timeouts_total',
  rejections: 'refront_resilience_rejections_total',
  breakerTransitions: 'refront_resilience_breaker_transitions_total',
} as const;

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /** Registry the counters go to; none are written without it. */
  readonly metrics?: MetricsRegistry | undefined;
  /** Logger each event is written to; nothing is logged without it. */
  readonly logger?: Logger | undefined;
  /** Value of the `policy` label and log field. @default 'default' */
  readonly name?: string | undefined;
}

type Level = 'debug' | 'info' | 'warn';

/**
 * Turns every resilience event into a prom-client counter increment and a log line: breaker
 * transitions at `warn` (open) and `info` (half-open, close); per-call events (retry, budget
 * refusal, timeout, rejection) at `debug`, since they come at request rate.
 *
 * @example
 * const sub = instrument(p.events, { metrics, logger, name: 'tickets' });
 * // refront_resilience_breaker_transitions_total{policy="tickets",target="tickets/10.0.0.7:50051",state="open"} 1
 * sub.dispose();
 */
export function instrument(events: ResilienceEvents, options: InstrumentOptions): Disposable {
  const name = options.name ?? DEFAULT_POLICY_NAME;
  const { metrics, logger } = options;
  const count = metrics ? counters(metrics) : undefined;
  return events.onAny((e) => {
    const target = e.target ?? '';
    if (count) count(e, { policy: name, target });
    if (logger) {
      const [level, message] = describe(e);
      const reason = 'error' in e ? { reason: e.error.reason, status: e.error.status } : {};
      logger[level]({ policy: name, event: e.type, target: e.target, ...fields(e), ...reason }, message);
    }
  });
}

function counters(registry: MetricsRegistry): (e: ResilienceEvent, labels: Record<string, string>) => void {
  const m = RESILIENCE_METRICS;
  const retries = counterOf(registry, m.retries, 'Retries started by resilience policies', [
    'policy',
    'target',
  ]);
  const budget = counterOf(registry, m.retryBudgetExhausted, 'Retries refused by the retry budget', [
    'policy',
    'target',
  ]);
  const timeouts = counterOf(registry, m.timeouts, 'Executions stopped by their deadline', [
    'policy',
    'target',
  ]);
  const rejections = counterOf(
    registry,
    m.rejections,
    'Calls refused without running (breaker, bulkhead, rate)',
    ['policy', 'target', 'reason'],
  );
  const transitions = counterOf(registry, m.breakerTransitions, 'Circuit breaker state changes', [
    'policy',
    'target',
    'state',
  ]);
  return (e, labels) => {
    switch (e.type) {
      case 'retry':
        return retries.inc(labels);
      case 'retryBudgetExhausted':
        return budget.inc(labels);
      case 'timeout':
        return timeouts.inc(labels);
      case 'rejected':
        return rejections.inc({ ...labels, reason: e.reason });
      case 'breakerOpen':
        return transitions.inc({ ...labels, state: 'open' });
      case 'breakerHalfOpen':
        return transitions.inc({ ...labels, state: 'half_open' });
      case 'breakerClose':
        return transitions.inc({ ...labels, state: 'closed' });
    }
  };
}

function describe(e: ResilienceEvent): [Level, string] {
  switch (e.type) {
    case 'retry':
      return ['debug', 'retrying call'];
    case 'retryBudgetExhausted':
      return ['debug', 'retry budget exhausted; not retrying'];
    case 'timeout':
      return ['debug', 'call deadline exceeded'];
    case 'rejected':
      return ['debug', 'call rejected'];
    case 'breakerOpen':
      return ['warn', 'circuit breaker opened'];
    case 'breakerHalfOpen':
      return ['info', 'circuit breaker half-open; probing'];
    case 'breakerClose':
      return ['info', 'circuit breaker closed'];
  }
}

function fields(e: ResilienceEvent): Record<string, number> {
  switch (e.type) {
    case 'retry':
      return { attempt: e.attempt, delayMs: Math.round(e.delayMs) };
    case 'retryBudgetExhausted':
      return { attempt: e.attempt };
    case 'timeout':
      return { budgetMs: e.budgetMs };
    default:
      return {};
  }
}
