import { Urgency } from '../gen/refront/ai/v1/events.js';

/** Categories a ticket is classified into. */
export const CATEGORIES = ['billing', 'bug', 'outage', 'account', 'feature'] as const;
/** A ticket category. */
export type Category = (typeof CATEGORIES)[number];

/** Urgency labels as written in the labelled data and by the OpenAI-compatible provider. */
export const URGENCY_LABELS = ['low', 'normal', 'high', 'urgent'] as const;
/** An urgency label. */
export type UrgencyLabel = (typeof URGENCY_LABELS)[number];

/** Longest summary when a caller asks for none in particular, in characters. */
export const DEFAULT_SUMMARY_LENGTH = 160;

/** The text of a ticket, as a provider sees it. */
export interface TicketText {
  readonly title: string;
  readonly description: string;
}

/** What a provider made of a ticket. */
export interface ProviderClassification {
  readonly category: Category;
  readonly urgency: UrgencyLabel;
  /** One sentence of the ticket (or the provider's own words), at most the asked length. */
  readonly summary: string;
  /** 0..1: the provider's confidence in the category. */
  readonly confidence: number;
}

/** Options of one provider call. */
export interface ProviderCallOptions {
  /** Stops the call once aborted; the provider rethrows `signal.reason`. */
  readonly signal?: AbortSignal;
  /** Longest summary, in characters. @default DEFAULT_SUMMARY_LENGTH */
  readonly maxSummaryLength?: number;
}

/**
 * Classifies and summarises ticket text. The AI service depends only on this interface: the
 * default runs locally (no network), another calls an OpenAI-compatible HTTP endpoint.
 *
 * @example
 * const provider = await createLocalProvider();
 * const { category, urgency } = await provider.classify({ title: 'Site down', description: '' });
 */
export interface AiProvider {
  /** Short name stored with each result (`local`, `openai`). */
  readonly name: string;
  /**
   * Classifies a ticket and summarises it.
   * @throws RefrontError with an `AI_*` reason when the provider cannot answer.
   */
  classify(ticket: TicketText, options?: ProviderCallOptions): Promise<ProviderClassification>;
  /**
   * Summarises a text in at most `maxSummaryLength` characters.
   * @throws RefrontError with an `AI_*` reason when the provider cannot answer.
   */
  summarize(text: string, options?: ProviderCallOptions): Promise<string>;
  /** Releases what the provider holds. Idempotent. */
  close?(): Promise<void>;
}

const TO_URGENCY: Record<UrgencyLabel, Urgency> = {
  low: Urgency.URGENCY_LOW,
  normal: Urgency.URGENCY_NORMAL,
  high: Urgency.URGENCY_HIGH,
  urgent: Urgency.URGENCY_URGENT,
};

/** The contract's Urgency of a label. */
export function toUrgency(label: UrgencyLabel): Urgency {
  return TO_URGENCY[label];
}

/** Whether `value` is one of {@link CATEGORIES}. */
export function isCategory(value: unknown): value is Category {
  return typeof value === 'string' && (CATEGORIES as readonly string[]).includes(value);
}

/** Whether `value` is one of {@link URGENCY_LABELS}. */
export function isUrgencyLabel(value: unknown): value is UrgencyLabel {
  return typeof value === 'string' && (URGENCY_LABELS as readonly string[]).includes(value);
}
