import type { LabelledTicket } from './dataset.js';
import type { AiProvider } from './provider.js';

/** How a provider did on a labelled set. */
export interface Evaluation {
  readonly provider: string;
  readonly tickets: number;
  /** Share of tickets whose category was right, 0..1. */
  readonly categoryAccuracy: number;
  /** Share of tickets whose urgency was right, 0..1. */
  readonly urgencyAccuracy: number;
  /** Share whose urgency was right or one step off (low↔normal, high↔urgent…), 0..1. */
  readonly urgencyWithinOne: number;
  /** Latency of one classify call, in ms. */
  readonly latencyMs: {
    readonly mean: number;
    readonly p50: number;
    readonly p95: number;
    readonly max: number;
  };
  /** confusion[actual][predicted] = count. */
  readonly confusion: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Tickets it got wrong, with what it said. */
  readonly misses: readonly { title: string; expected: string; got: string }[];
}

const URGENCY_ORDER = ['low', 'normal', 'high', 'urgent'];

/**
 * Classifies every ticket of a labelled set one at a time and measures accuracy and latency.
 *
 * @example
 * const e = await evaluateProvider(await createLocalProvider(), await loadLabelledTickets(TEST_SET_URL));
 */
export async function evaluateProvider(
  provider: AiProvider,
  tickets: readonly LabelledTicket[],
  options: { readonly signal?: AbortSignal } = {},
): Promise<Evaluation> {
  const latencies: number[] = [];
  const confusion: Record<string, Record<string, number>> = {};
  const misses: { title: string; expected: string; got: string }[] = [];
  let categoryRight = 0;
  let urgencyRight = 0;
  let urgencyNear = 0;
  for (const t of tickets) {
    const started = performance.now();
    const result = await provider.classify(t, options);
    latencies.push(performance.now() - started);
    const row = confusion[t.category] ?? {};
    confusion[t.category] = row;
    row[result.category] = (row[result.category] ?? 0) + 1;
    if (result.category === t.category) categoryRight++;
    else misses.push({ title: t.title, expected: t.category, got: result.category });
    if (result.urgency === t.urgency) urgencyRight++;
    if (Math.abs(URGENCY_ORDER.indexOf(result.urgency) - URGENCY_ORDER.indexOf(t.urgency)) <= 1)
      urgencyNear++;
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const n = tickets.length || 1;
  return {
    provider: provider.name,
    tickets: tickets.length,
    categoryAccuracy: categoryRight / n,
    urgencyAccuracy: urgencyRight / n,
    urgencyWithinOne: urgencyNear / n,
    latencyMs: {
      mean: latencies.reduce((a, b) => a + b, 0) / n,
      p50: at(0.5),
      p95: at(0.95),
      max: sorted.at(-1) ?? 0,
    },
    confusion,
    misses,
  };
}
