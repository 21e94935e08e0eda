import type { Classification } from '../../gen/refront/ai/v1/ai.js';
import { Urgency } from '../../gen/refront/ai/v1/events.js';
import { isoOrNull, required } from '../json.js';
import { defineRoute, type Route } from '../route.js';
import { ID_PARAMS, type JsonSchema } from '../schemas.js';

/** Urgencies as the public API writes them. */
export const URGENCIES = ['low', 'normal', 'high', 'urgent'] as const;

const URGENCY_JSON: Record<number, (typeof URGENCIES)[number] | null> = {
  [Urgency.URGENCY_LOW]: 'low',
  [Urgency.URGENCY_NORMAL]: 'normal',
  [Urgency.URGENCY_HIGH]: 'high',
  [Urgency.URGENCY_URGENT]: 'urgent',
};

/** A classification as JSON. */
export interface ClassificationJson {
  category: string;
  urgency: (typeof URGENCIES)[number] | null;
  summary: string;
  confidence: number;
  provider: string;
  latencyMs: number;
}

/** Maps the contract's Classification to its JSON. */
export function classificationJson(c: Classification): ClassificationJson {
  return {
    category: c.category,
    urgency: URGENCY_JSON[c.urgency] ?? null,
    summary: c.summary,
    confidence: c.confidence,
    provider: c.provider,
    latencyMs: c.latencyMs,
  };
}

const CLASSIFICATION_PROPERTIES: Record<string, JsonSchema> = {
  category: { type: 'string', description: 'billing, bug, outage, account or feature.' },
  urgency: {
    type: ['string', 'null'],
    enum: [...URGENCIES, null],
    description: 'How soon it needs an answer.',
  },
  summary: { type: 'string', description: 'One sentence.' },
  confidence: {
    type: 'number',
    minimum: 0,
    maximum: 1,
    description: "The provider's confidence in the category.",
  },
  provider: { type: 'string', description: 'Which provider answered: local or openai.' },
  latencyMs: { type: 'number', description: 'Time the provider took, in ms.' },
};
const CLASSIFICATION: JsonSchema = {
  type: 'object',
  description: 'What the AI made of a ticket.',
  properties: CLASSIFICATION_PROPERTIES,
  required: Object.keys(CLASSIFICATION_PROPERTIES),
};
const TICKET_CLASSIFICATION: JsonSchema = {
  type: 'object',
  description: 'The stored classification of a ticket.',
  properties: {
    ticketId: { type: 'string' },
    classifiedAt: { type: ['string', 'null'], format: 'date-time' },
    ...CLASSIFICATION_PROPERTIES,
  },
  required: ['ticketId', 'classifiedAt', ...Object.keys(CLASSIFICATION_PROPERTIES)],
};

/** The AI service: on-demand classification and summaries, and each ticket's stored classification. */
export const aiRoutes: readonly Route[] = [
  defineRoute<{ title?: string; description?: string }, undefined, undefined, ClassificationJson>({
    method: 'POST',
    url: '/ai/classify',
    operationId: 'classifyText',
    summary: 'Classify a ticket text (category, urgency, summary) without storing anything',
    tag: 'ai',
    body: {
      type: 'object',
      properties: {
        title: { type: 'string', maxLength: 200, description: 'Short title.' },
        description: { type: 'string', maxLength: 10_000, description: 'Details.' },
      },
      minProperties: 1,
      additionalProperties: false,
    },
    response: CLASSIFICATION,
    async handler({ body, call }, { ai }) {
      const { classification } = await ai.classify(
        { title: body.title ?? '', description: body.description ?? '' },
        call,
      );
      return classificationJson(required(classification, 'classification'));
    },
  }),
  defineRoute<
    { text: string; maxLength?: number },
    undefined,
    undefined,
    { summary: string; provider: string }
  >({
    method: 'POST',
    url: '/ai/summarize',
    operationId: 'summarizeText',
    summary: 'Summarise a text in one sentence',
    tag: 'ai',
    body: {
      type: 'object',
      properties: {
        text: { type: 'string', minLength: 1, maxLength: 10_000, description: 'The text to summarise.' },
        maxLength: {
          type: 'integer',
          minimum: 20,
          maximum: 1_000,
          description: 'Longest summary, in characters. Default 160.',
        },
      },
      required: ['text'],
      additionalProperties: false,
    },
    response: {
      type: 'object',
      properties: { summary: { type: 'string' }, provider: { type: 'string' } },
      required: ['summary', 'provider'],
    },
    async handler({ body, call }, { ai }) {
      return ai.summarize({ text: body.text, maxLength: body.maxLength ?? 0 }, call);
    },
  }),
  defineRoute<undefined, undefined, { id: string }>({
    method: 'GET',
    url: '/tickets/:id/classification',
    operationId: 'getTicketClassification',
    summary: "Get the AI's classification of a ticket (404 until the AI service handled the ticket)",
    tag: 'ai',
    params: ID_PARAMS,
    response: TICKET_CLASSIFICATION,
    async handler({ params, call }, { ai }) {
      const { ticketClassification: t } = await ai.getTicketClassification({ ticketId: params.id }, call);
      const found = required(t, 'ticket classification');
      return {
        ticketId: found.ticketId,
        classifiedAt: isoOrNull(found.classifiedAt),
        ...classificationJson(required(found.classification, 'classification')),
      };
    },
  }),
];
