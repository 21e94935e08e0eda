/**
 * Test support of the notifications service: an SMTP receiver whose acceptance tests can hold,
 * refuse or count per tenant, and the claim counter. Not used by the service itself.
 */
import type { MetricsRegistry } from '@refront/core';
import { type MailReceiver, type ReceivedMail, startMailReceiver } from './MailReceiver.js';

/** A receiver with knobs per tenant. */
export interface TestReceiver extends MailReceiver {
  /** Messages that reached the receiver for `tenant` (accepted, held or refused). */
  arrivals(tenant: string): number;
  /** Holds every message of `tenant` before accepting it, until the returned function is called. */
  hold(tenant: string): () => void;
  /** Refuses the next `times` messages of `tenant` with 451. */
  refuse(tenant: string, times: number): void;
  /** Delays every message of `tenant` by `ms` before accepting it. */
  slow(tenant: string, ms: number): void;
  /** The accepted messages of `tenant`. */
  of(tenant: string): readonly ReceivedMail[];
}

/**
 * Starts a loopback SMTP receiver for tests.
 *
 * @example
 * await using receiver = await startTestReceiver();
 * const release = receiver.hold('acme');
 */
export async function startTestReceiver(): Promise<TestReceiver> {
  const arrived = new Map<string, number>();
  const held = new Map<string, Promise<void>>();
  const refusals = new Map<string, number>();
  const delays = new Map<string, number>();
  const receiver = await startMailReceiver({
    async beforeAccept(mail) {
      arrived.set(mail.tenant, (arrived.get(mail.tenant) ?? 0) + 1);
      const refuse = refusals.get(mail.tenant) ?? 0;
      if (refuse > 0) {
        refusals.set(mail.tenant, refuse - 1);
        throw new Error('4.3.0 try again later');
      }
      await held.get(mail.tenant);
      const ms = delays.get(mail.tenant);
      if (ms) await new Promise((r) => setTimeout(r, ms));
    },
  });
  return Object.assign(receiver, {
    arrivals: (tenant: string) => arrived.get(tenant) ?? 0,
    hold(tenant: string) {
      let open = () => {};
      held.set(
        tenant,
        new Promise<void>((r) => {
          open = r;
        }),
      );
      return () => {
        held.delete(tenant);
        open();
      };
    },
    refuse: (tenant: string, times: number) => void refusals.set(tenant, times),
    slow: (tenant: string, ms: number) => void delays.set(tenant, ms),
    of: (tenant: string) => receiver.received().filter((m) => m.tenant === tenant),
  });
}

/**
 * `refront_notifications_claims_total{outcome}` in `metrics` (0 before the first claim).
 *
 * @example
 * expect(await claims(harness.metrics, 'lost')).toBeGreaterThan(0);
 */
export async function claims(metrics: MetricsRegistry, outcome: 'won' | 'lost'): Promise<number> {
  const metric = metrics.getSingleMetric('refront_notifications_claims_total');
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}
