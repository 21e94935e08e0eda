import { readFile } from 'node:fs/promises';
import { RefrontError } from '@refront/core';
import { AiReason } from './errors.js';
import { type Category, isCategory, isUrgencyLabel, type UrgencyLabel } from './provider.js';

/** A ticket with the category and urgency a person gave it. */
export interface LabelledTicket {
  readonly title: string;
  readonly description: string;
  readonly category: Category;
  readonly urgency: UrgencyLabel;
}

/** The labelled tickets the local provider learns from (kept in the repo). */
export const TRAINING_SET_URL = new URL('../../data/tickets.train.jsonl', import.meta.url);
/** Held-out labelled tickets the accuracy is measured on; never used for training. */
export const TEST_SET_URL = new URL('../../data/tickets.test.jsonl', import.meta.url);

/**
 * Parses JSON Lines of labelled tickets (`{"title","description","category","urgency"}` a line;
 * blank lines are skipped).
 *
 * @throws RefrontError INVALID_ARGUMENT `AI_BAD_DATASET` naming the first bad line.
 * @example
 * const tickets = parseLabelledTickets('{"title":"Down","description":"","category":"outage","urgency":"urgent"}');
 */
export function parseLabelledTickets(text: string, source = 'data set'): LabelledTicket[] {
  const tickets: LabelledTicket[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (e: unknown) {
      throw bad(`${source} line ${i + 1} is not JSON`, e);
    }
    const r = row as Record<string, unknown>;
    if (
      typeof r?.title !== 'string' ||
      typeof r.description !== 'string' ||
      !isCategory(r.category) ||
      !isUrgencyLabel(r.urgency)
    ) {
      throw bad(`${source} line ${i + 1} needs a title, a description, a known category and urgency`);
    }
    tickets.push({ title: r.title, description: r.description, category: r.category, urgency: r.urgency });
  }
  if (tickets.length === 0) throw bad(`${source} holds no tickets`);
  return tickets;
}

/**
 * Reads a JSON Lines file of labelled tickets.
 *
 * @throws RefrontError INVALID_ARGUMENT `AI_BAD_DATASET` when it cannot be read or parsed.
 * @example
 * const training = await loadLabelledTickets(TRAINING_SET_URL);
 */
export async function loadLabelledTickets(file: URL | string): Promise<LabelledTicket[]> {
  const text = await readFile(file, 'utf8').catch((e: unknown) => {
    throw bad(`cannot read ${String(file)}`, e);
  });
  return parseLabelledTickets(text, String(file));
}

function bad(message: string, cause?: unknown): RefrontError {
  return new RefrontError('INVALID_ARGUMENT', AiReason.BAD_DATASET, message, { retryable: false, cause });
}
