import { invalidOption } from '@refront/core/transport';
import type naiveBayes from 'wink-naive-bayes-text-classifier';
import type winkNLP from 'wink-nlp';
import type { ItemToken, ItsFunction } from 'wink-nlp';
import { type LabelledTicket, loadLabelledTickets, TRAINING_SET_URL } from './dataset.js';
import {
  type AiProvider,
  type Category,
  DEFAULT_SUMMARY_LENGTH,
  isCategory,
  isUrgencyLabel,
  type ProviderCallOptions,
  type ProviderClassification,
  type TicketText,
  type UrgencyLabel,
} from './provider.js';
import { extractiveSummary } from './summarize.js';

/** Additive smoothing of the naive Bayes classifiers. */
export const DEFAULT_SMOOTHING = 0.5;

/** Options of {@link createLocalProvider}. */
export interface LocalProviderOptions {
  /** Labelled tickets to learn from. @default the training set in `data/tickets.train.jsonl` */
  readonly training?: readonly LabelledTicket[];
  /** Additive (Laplace) smoothing factor, > 0 and ≤ 1. @default DEFAULT_SMOOTHING */
  readonly smoothing?: number;
}

type Nlp = ReturnType<typeof winkNLP>;
let shared: Promise<{ nlp: Nlp; naiveBayes: typeof naiveBayes }> | undefined;

/**
 * One wink-nlp instance per process: loading its English model takes ~200 ms and ~18 MB, so it is
 * imported when the first local provider is made, not with the module (a process that runs
 * another service never loads it; decision 0143).
 */
function wink(): Promise<{ nlp: Nlp; naiveBayes: typeof naiveBayes }> {
  shared ??= Promise.all([
    import('wink-nlp'),
    import('wink-eng-lite-web-model'),
    import('wink-naive-bayes-text-classifier'),
  ])
    .then(([nlp, model, nb]) => ({ nlp: nlp.default(model.default), naiveBayes: nb.default }))
    .catch((e: unknown) => {
      shared = undefined;
      throw e;
    });
  return shared;
}

/**
 * The default AI provider: runs in the process with no network and no download. wink-nlp (with
 * its lite English web model, shipped in npm) tokenises, drops stop words and stems; two naive
 * Bayes classifiers trained at creation from the labelled tickets in the repo give the category
 * and the urgency; the summary is the ticket's most informative sentence (extractive).
 *
 * @throws RefrontError INVALID_ARGUMENT `AI_BAD_DATASET` when the training set cannot be read,
 *   `CORE_INVALID_OPTION` for a bad smoothing or a training set with fewer than two labels.
 * @example
 * const local = await createLocalProvider();
 * const result = await local.classify({ title: 'Charged twice', description: 'Please refund.' });
 */
export async function createLocalProvider(options: LocalProviderOptions = {}): Promise<AiProvider> {
  const smoothing = options.smoothing ?? DEFAULT_SMOOTHING;
  if (!(smoothing > 0 && smoothing <= 1))
    throw invalidOption(`smoothing must be in (0, 1], got ${smoothing}`);
  const training = options.training ?? (await loadLabelledTickets(TRAINING_SET_URL));
  const { nlp, naiveBayes } = await wink();
  const its = nlp.its;
  // wink-nlp's typings declare its.stem with a signature its own ItsFunction does not accept.
  const stem = its.stem as unknown as ItsFunction<string>;
  const prepare = (text: string): string[] => {
    const tokens: string[] = [];
    nlp
      .readDoc(text)
      .tokens()
      .filter((t) => (t.out(its.type) === 'word' && !t.out(its.stopWordFlag)) || t.out(its.type) === 'number')
      .each((t: ItemToken) => void tokens.push(t.out(its.negationFlag) ? `!${t.out(stem)}` : t.out(stem)));
    return tokens;
  };
  const train = (label: (t: LabelledTicket) => string) => {
    const nb = naiveBayes();
    nb.defineConfig({ considerOnlyPresence: true, smoothingFactor: smoothing });
    const counts = new Map<string, number>();
    for (const t of training) {
      nb.learn(prepare(textOf(t)), label(t));
      counts.set(label(t), (counts.get(label(t)) ?? 0) + 1);
    }
    try {
      nb.consolidate();
    } catch (e: unknown) {
      throw invalidOption(`the training set cannot train a classifier: ${String(e)}`);
    }
    // The most frequent label answers text with no known word (the prior's best guess).
    const fallback = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
    return (tokens: string[]): { label: string; confidence: number } => {
      const [best] = nb.computeOdds(tokens);
      if (!best || best[1] === 0) return { label: fallback, confidence: 0 };
      // computeOdds gives log2 odds of "this label" against "any other label".
      return { label: best[0], confidence: 1 / (1 + 2 ** -best[1]) };
    };
  };
  const category = train((t) => t.category);
  const urgency = train((t) => t.urgency);

  return {
    name: 'local',
    async classify(ticket: TicketText, opts: ProviderCallOptions = {}): Promise<ProviderClassification> {
      opts.signal?.throwIfAborted();
      const tokens = prepare(textOf(ticket));
      const c = category(tokens);
      const u = urgency(tokens);
      const max = opts.maxSummaryLength ?? DEFAULT_SUMMARY_LENGTH;
      const summary =
        ticket.description.trim() === ''
          ? extractiveSummary(nlp, ticket.title, max)
          : extractiveSummary(nlp, ticket.description, max, ticket.title);
      return {
        category: (isCategory(c.label) ? c.label : 'bug') as Category,
        urgency: (isUrgencyLabel(u.label) ? u.label : 'normal') as UrgencyLabel,
        summary,
        confidence: round(c.confidence),
      };
    },
    async summarize(text: string, opts: ProviderCallOptions = {}): Promise<string> {
      opts.signal?.throwIfAborted();
      return extractiveSummary(nlp, text, opts.maxSummaryLength ?? DEFAULT_SUMMARY_LENGTH);
    },
  };
}

function textOf(t: TicketText): string {
  return `${t.title}. ${t.description}`;
}

function round(n: number): number {
  return Math.round(n * 1_000) / 1_000;
}
