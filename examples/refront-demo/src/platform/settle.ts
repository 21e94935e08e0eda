import type { InProcessEventBus } from '@refront/core';
import type { Outbox } from '@refront/data';

/** Groups of consumers that run in the platform. */
const GROUPS = ['tickets', 'time-tracking', 'invoicing', 'ai', 'notifications', 'reporting'];

/**
 * Waits until the monolith is quiet: no event waits in an outbox or a consumer group, three times in a row
 * (an outbox relay may publish between two looks). Fails after `timeoutMs`.
 */
export async function settle(
  platform: { readonly bus: InProcessEventBus; readonly outboxes: readonly Outbox[] },
  timeoutMs = 15_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let quiet = 0;
  while (quiet < 3) {
    let pending = GROUPS.reduce((n, g) => n + platform.bus.pendingCount(g), 0);
    for (const outbox of platform.outboxes) pending += await outbox.pending();
    quiet = pending === 0 ? quiet + 1 : 0;
    if (Date.now() > until) throw new Error(`events still pending after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
