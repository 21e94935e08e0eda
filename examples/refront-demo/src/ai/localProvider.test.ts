import { isRefrontError } from '@refront/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type LabelledTicket,
  loadLabelledTickets,
  parseLabelledTickets,
  TEST_SET_URL,
  TRAINING_SET_URL,
} from './dataset.js';
import { evaluateProvider } from './evaluate.js';
import { createLocalProvider } from './localProvider.js';
import type { AiProvider } from './provider.js';
import { trimTo } from './summarize.js';

let local: AiProvider;
let training: LabelledTicket[];
let test: LabelledTicket[];

beforeAll(async () => {
  training = await loadLabelledTickets(TRAINING_SET_URL);
  test = await loadLabelledTickets(TEST_SET_URL);
  local = await createLocalProvider({ training });
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e: unknown) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('the local provider', () => {
  it('keeps the held-out test set apart from the training set', () => {
    expect(test.length).toBeGreaterThanOrEqual(60);
    const trained = new Set(training.map((t) => t.title.toLowerCase()));
    expect(test.filter((t) => trained.has(t.title.toLowerCase()))).toEqual([]);
  });

  it('classifies most held-out tickets into the labelled category', async () => {
    const e = await evaluateProvider(local, test);
    expect(e.tickets).toBe(test.length);
    // A floor, not the measured figure (src/ai/README.md has that): a regression of the model or
    // of the text preparation falls below it.
    expect(e.categoryAccuracy).toBeGreaterThanOrEqual(0.8);
    expect(e.urgencyWithinOne).toBeGreaterThanOrEqual(0.8);
    expect(
      Object.values(e.confusion)
        .flatMap((row) => Object.values(row))
        .reduce((a, b) => a + b, 0),
    ).toBe(test.length);
  });

  it('classifies a clear outage as an urgent outage with a confident score', async () => {
    const r = await local.classify({
      title: 'Everything is down',
      description: 'The whole platform returns 503 for all our users since 9:00. Production is stopped.',
    });
    expect(r.category).toBe('outage');
    expect(r.urgency).toBe('urgent');
    expect(r.confidence).toBeGreaterThan(0.5);
    expect(r.confidence).toBeLessThanOrEqual(1);
  });

  it('summarises with the most informative sentence of the description', async () => {
    const r = await local.classify({
      title: 'Charged twice for the invoice',
      description: 'Hello team. We were charged twice for invoice INV-000012 this month. Thanks in advance!',
    });
    expect(r.summary).toBe('We were charged twice for invoice INV-000012 this month.');
    const short = await local.summarize(
      'Our whole checkout is down and customers cannot pay for their orders today.',
      {
        maxSummaryLength: 30,
      },
    );
    expect(short.length).toBeLessThanOrEqual(30);
    expect(short.endsWith('…')).toBe(true);
    expect(await local.summarize('   ')).toBe('');
  });

  it('answers text without a known word with the most frequent label and confidence 0', async () => {
    const r = await local.classify({ title: 'Xyzzy', description: 'Plugh quux.' });
    expect(r.confidence).toBe(0);
    expect(['billing', 'bug', 'outage', 'account', 'feature']).toContain(r.category);
  });

  it('stops before working once the signal aborted', async () => {
    const reason = new Error('caller gave up');
    await expect(
      local.classify({ title: 'x', description: '' }, { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
  });

  it('rejects a bad smoothing and a training set with a single label', async () => {
    await expect(createLocalProvider({ training, smoothing: 0 })).rejects.toMatchObject({
      reason: 'CORE_INVALID_OPTION',
    });
    const one = training
      .filter((t) => t.category === 'billing')
      .map((t) => ({ ...t, urgency: 'low' as const }));
    await expect(createLocalProvider({ training: one })).rejects.toMatchObject({
      reason: 'CORE_INVALID_OPTION',
    });
  });
});

describe('labelled data', () => {
  it('names the first bad line of a data set', () => {
    const e = thrown(() =>
      parseLabelledTickets(
        '{"title":"a","description":"b","category":"bug","urgency":"low"}\n{"title":"a","category":"nope"}',
      ),
    );
    expect(isRefrontError(e) && e.reason).toBe('AI_BAD_DATASET');
    expect(String(e)).toContain('line 2');
    expect(isRefrontError(thrown(() => parseLabelledTickets('not json')))).toBe(true);
    expect(isRefrontError(thrown(() => parseLabelledTickets('\n\n')))).toBe(true);
  });

  it('fails to load a missing file with a typed error', async () => {
    await expect(loadLabelledTickets(new URL('./missing.jsonl', TEST_SET_URL))).rejects.toMatchObject({
      reason: 'AI_BAD_DATASET',
    });
  });

  it('trims at a word boundary', () => {
    expect(trimTo('short', 10)).toBe('short');
    expect(trimTo('one two three four five', 12)).toBe('one two…');
  });
});
