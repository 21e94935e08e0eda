import { RefrontError, type Status } from '@refront/core';
import { invalidOption } from '@refront/core/transport';
import { z } from 'zod';
import { AiReason } from './errors.js';
import {
  type AiProvider,
  CATEGORIES,
  DEFAULT_SUMMARY_LENGTH,
  type ProviderCallOptions,
  type ProviderClassification,
  type TicketText,
  URGENCY_LABELS,
} from './provider.js';
import { trimTo } from './summarize.js';

/** Time allowed for one completion, in ms. */
export const DEFAULT_AI_TIMEOUT_MS = 15_000;

/** Options of {@link createOpenAiProvider}. */
export interface OpenAiProviderOptions {
  /** Base URL up to the API version, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`. */
  readonly baseUrl: string;
  /** Model name sent as `model`. */
  readonly model: string;
  /** Sent as `Authorization: Bearer <apiKey>` when set (local servers often need none). */
  readonly apiKey?: string | undefined;
  /** Time allowed for one completion, in ms. @default DEFAULT_AI_TIMEOUT_MS */
  readonly timeoutMs?: number;
}

const SYSTEM_PROMPT = [
  'You triage customer support tickets of a SaaS product.',
  `Answer with one JSON object only: {"category": one of ${CATEGORIES.map((c) => `"${c}"`).join(', ')},`,
  ` "urgency": one of ${URGENCY_LABELS.map((u) => `"${u}"`).join(', ')},`,
  ' "summary": one sentence of at most MAX characters, "confidence": a number from 0 to 1}.',
  'outage = the service or a part of it is down or degraded for many users; bug = something works',
  ' wrongly; billing = invoices, payments, prices; account = users, logins, access, personal data;',
  ' feature = a request for something new.',
].join('');

const SUMMARY_PROMPT =
  'Summarise the user text in one sentence of at most MAX characters. Answer with one JSON object only: {"summary": "..."}.';

/** The documented shape of a chat completion (the parts used). */
const Completion = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable().optional() }) })).min(1),
});
const ClassificationJson = z.object({
  category: z.enum(CATEGORIES),
  urgency: z.enum(URGENCY_LABELS),
  summary: z.string().min(1),
  confidence: z.number().min(0).max(1).optional(),
});
const SummaryJson = z.object({ summary: z.string().min(1) });
const ErrorJson = z.object({
  error: z.object({
    message: z.string().optional(),
    type: z.string().nullish(),
    code: z.unknown().optional(),
  }),
});

/**
 * An AI provider that calls an OpenAI-compatible `POST {baseUrl}/chat/completions` (OpenAI, Azure
 * OpenAI through a proxy, Ollama, vLLM, llama.cpp server…) with `temperature: 0` and a JSON
 * response format, and validates the JSON it gets back.
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` for a bad URL, model or timeout.
 * Calls throw `AI_PROVIDER_ERROR` (the HTTP status mapped: 429 RESOURCE_EXHAUSTED, 5xx UNAVAILABLE,
 * 401/403 FAILED_PRECONDITION…), `AI_PROVIDER_UNAVAILABLE`, `AI_PROVIDER_TIMEOUT` or
 * `AI_PROVIDER_BAD_RESPONSE`.
 * @example
 * const openai = createOpenAiProvider({ baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o-mini', apiKey });
 */
export function createOpenAiProvider(options: OpenAiProviderOptions): AiProvider {
  let base: URL;
  try {
    base = new URL(options.baseUrl);
  } catch {
    throw invalidOption(`baseUrl must be an http(s) URL, got "${options.baseUrl}"`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw invalidOption(`baseUrl must be an http(s) URL, got "${options.baseUrl}"`);
  }
  if (typeof options.model !== 'string' || options.model.trim() === '')
    throw invalidOption('model must not be empty');
  const timeoutMs = options.timeoutMs ?? DEFAULT_AI_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw invalidOption(`timeoutMs must be > 0, got ${timeoutMs}`);
  const endpoint = `${base.href.replace(/\/+$/, '')}/chat/completions`;

  async function complete(system: string, user: string, signal: AbortSignal | undefined): Promise<unknown> {
    signal?.throwIfAborted();
    const deadline = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
    let res: Response;
    let text: string;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: options.model,
          temperature: 0,
          response_format: { type: 'json_object' },
          messages: [
            { role: 'system', content: system },
            { role: 'user', content: user },
          ],
        }),
        signal: combined,
      });
      text = await res.text();
    } catch (e: unknown) {
      if (signal?.aborted) throw signal.reason;
      if (deadline.aborted) {
        throw new RefrontError(
          'DEADLINE_EXCEEDED',
          AiReason.PROVIDER_TIMEOUT,
          `no answer from ${endpoint} in ${timeoutMs} ms`,
          {
            retryable: true,
            cause: e,
          },
        );
      }
      throw new RefrontError('UNAVAILABLE', AiReason.PROVIDER_UNAVAILABLE, `cannot reach ${endpoint}`, {
        retryable: true,
        cause: e,
      });
    }
    if (!res.ok) throw httpError(res.status, text, endpoint);
    const completion = Completion.safeParse(parseJson(text));
    if (!completion.success) throw badResponse('the answer is not a chat completion', completion.error);
    const content = completion.data.choices[0]?.message.content ?? '';
    return parseJson(stripFence(content));
  }

  return {
    name: 'openai',
    async classify(ticket: TicketText, opts: ProviderCallOptions = {}): Promise<ProviderClassification> {
      const max = opts.maxSummaryLength ?? DEFAULT_SUMMARY_LENGTH;
      const json = await complete(
        SYSTEM_PROMPT.replace('MAX', String(max)),
        `Title: ${ticket.title}\nDescription: ${ticket.description}`,
        opts.signal,
      );
      const parsed = ClassificationJson.safeParse(json);
      if (!parsed.success)
        throw badResponse('the classification JSON is not the one asked for', parsed.error);
      const { category, urgency, summary, confidence } = parsed.data;
      return { category, urgency, summary: trimTo(summary.trim(), max), confidence: confidence ?? 1 };
    },
    async summarize(text: string, opts: ProviderCallOptions = {}): Promise<string> {
      const max = opts.maxSummaryLength ?? DEFAULT_SUMMARY_LENGTH;
      const json = await complete(SUMMARY_PROMPT.replace('MAX', String(max)), text, opts.signal);
      const parsed = SummaryJson.safeParse(json);
      if (!parsed.success) throw badResponse('the summary JSON is not the one asked for', parsed.error);
      return trimTo(parsed.data.summary.trim(), max);
    },
  };
}

const STATUS_OF_HTTP: Record<number, Status> = {
  400: 'INVALID_ARGUMENT',
  401: 'FAILED_PRECONDITION',
  403: 'FAILED_PRECONDITION',
  404: 'FAILED_PRECONDITION',
  408: 'DEADLINE_EXCEEDED',
  429: 'RESOURCE_EXHAUSTED',
};

/** Maps an error answer to a RefrontError; 408, 429 and 5xx may pass on a retry, the rest will not. */
function httpError(httpStatus: number, text: string, endpoint: string): RefrontError {
  const body = ErrorJson.safeParse(parseJsonOrUndefined(text));
  const message = body.success ? (body.data.error.message ?? '') : text.slice(0, 200);
  const providerCode = body.success ? String(body.data.error.code ?? body.data.error.type ?? '') : '';
  const retryable = httpStatus === 408 || httpStatus === 429 || httpStatus >= 500;
  const status: Status =
    STATUS_OF_HTTP[httpStatus] ?? (httpStatus >= 500 ? 'UNAVAILABLE' : 'FAILED_PRECONDITION');
  // A 400 means our request was wrong for this endpoint (model, format), not the caller's input.
  return new RefrontError(
    status === 'INVALID_ARGUMENT' ? 'FAILED_PRECONDITION' : status,
    AiReason.PROVIDER_ERROR,
    `${endpoint} answered ${httpStatus}${message ? `: ${message}` : ''}`,
    { retryable, details: { metadata: { httpStatus: String(httpStatus), providerCode } } },
  );
}

function badResponse(message: string, cause: unknown): RefrontError {
  return new RefrontError('UNAVAILABLE', AiReason.PROVIDER_BAD_RESPONSE, message, { retryable: true, cause });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e: unknown) {
    throw badResponse('the answer is not JSON', e);
  }
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Some models wrap JSON in a Markdown code fence even when asked not to. */
function stripFence(content: string): string {
  const m = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/.exec(content);
  return m?.[1] ?? content;
}
