import type winkNLP from 'wink-nlp';
import type { ItemSentence, ItemToken, ItsFunction, Tokens } from 'wink-nlp';
import { DEFAULT_SUMMARY_LENGTH } from './provider.js';

type Nlp = ReturnType<typeof winkNLP>;

/**
 * Extractive summary: the sentence of `text` whose content words are the most frequent in the
 * whole text (words of `hint`, typically the ticket's title, count double), trimmed to `maxLength`
 * characters at a word boundary. Ties go to the earlier sentence. Empty text gives ''.
 */
export function extractiveSummary(
  nlp: Nlp,
  text: string,
  maxLength = DEFAULT_SUMMARY_LENGTH,
  hint = '',
): string {
  const its = nlp.its;
  // wink-nlp's typings declare its.stem with a signature its own ItsFunction does not accept.
  const stem = its.stem as unknown as ItsFunction<string>;
  const contentStems = (tokens: Tokens): string[] => {
    const stems: string[] = [];
    tokens
      .filter((t) => t.out(its.type) === 'word' && !t.out(its.stopWordFlag))
      .each((t: ItemToken) => void stems.push(String(t.out(stem))));
    return stems;
  };
  const doc = nlp.readDoc(text);
  const sentences: { text: string; stems: string[] }[] = [];
  doc
    .sentences()
    .each((s: ItemSentence) => void sentences.push({ text: s.out(), stems: contentStems(s.tokens()) }));
  if (sentences.length === 0) return '';
  const weight = new Map<string, number>();
  for (const s of sentences) for (const stem of s.stems) weight.set(stem, (weight.get(stem) ?? 0) + 1);
  if (hint !== '') {
    for (const stem of contentStems(nlp.readDoc(hint).tokens()))
      weight.set(stem, (weight.get(stem) ?? 0) + 2);
  }
  let best = sentences[0] as { text: string; stems: string[] };
  let bestScore = -1;
  for (const sentence of sentences) {
    // Divided by the square root of the length: dense sentences win without always picking the longest.
    const sum = sentence.stems.reduce((acc, s) => acc + (weight.get(s) ?? 0), 0);
    const score = sum / Math.sqrt(sentence.stems.length || 1);
    if (score > bestScore) {
      best = sentence;
      bestScore = score;
    }
  }
  return trimTo(best.text.trim().replace(/\s+/g, ' '), maxLength);
}

/** Cuts `text` to at most `max` characters at a word boundary, ending with an ellipsis when cut. */
export function trimTo(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.-]+$/, '')}…`;
}
