import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isRefrontError, type RefrontError } from '@refront/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { aiProviderFromEnv } from './config.js';
import { createOpenAiProvider } from './openAiProvider.js';

/**
 * A local server that follows the documented shape of OpenAI's `POST /v1/chat/completions`:
 * a JSON body with `model` and `messages`, `Authorization: Bearer`, a `chat.completion` object
 * with `choices[].message.content` on success and `{ error: { message, type, code } }` on failure.
 */
interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: {
    model: string;
    messages: { role: string; content: string }[];
    temperature: number;
    response_format: unknown;
  };
}
type Reply = (seen: Seen, res: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let reply: Reply;
const seen: Seen[] = [];

function completion(content: string, status = 200): Reply {
  return (s, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'chatcmpl-123',
        object: 'chat.completion',
        created: 1_700_000_000,
        model: s.body.model,
        choices: [
          { index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70 },
      }),
    );
  };
}

function apiError(status: number, message: string, type: string, code: string | null): Reply {
  return (_s, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message, type, param: null, code } }));
  };
}

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const s: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        body: JSON.parse(raw),
      };
      seen.push(s);
      reply(s, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen.length = 0;
});

async function failure(p: Promise<unknown>): Promise<RefrontError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!isRefrontError(e)) throw new Error(`expected a RefrontError, got ${String(e)}`);
  return e;
}

const ticket = { title: 'Checkout down', description: 'Every payment fails with 502 since 10:00.' };

describe('the OpenAI-compatible provider', () => {
  it('posts a chat completion request and reads the JSON answer', async () => {
    reply = completion(
      JSON.stringify({
        category: 'outage',
        urgency: 'urgent',
        summary: 'Payments fail with 502.',
        confidence: 0.93,
      }),
    );
    const provider = createOpenAiProvider({ baseUrl, model: 'gpt-test', apiKey: 'sk-test' });
    const r = await provider.classify(ticket);
    expect(r).toEqual({
      category: 'outage',
      urgency: 'urgent',
      summary: 'Payments fail with 502.',
      confidence: 0.93,
    });
    expect(provider.name).toBe('openai');
    const [req] = seen;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/v1/chat/completions');
    expect(req?.authorization).toBe('Bearer sk-test');
    expect(req?.body.model).toBe('gpt-test');
    expect(req?.body.temperature).toBe(0);
    expect(req?.body.response_format).toEqual({ type: 'json_object' });
    expect(req?.body.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(req?.body.messages[1]?.content).toContain('Every payment fails with 502');
  });

  it('summarises, trims to the length asked, and accepts JSON in a code fence', async () => {
    reply = completion(
      '```json\n{"summary": "The customer cannot pay because every checkout request fails."}\n```',
    );
    const provider = createOpenAiProvider({ baseUrl, model: 'm' });
    const summary = await provider.summarize('long text', { maxSummaryLength: 30 });
    expect(summary.length).toBeLessThanOrEqual(30);
    expect(summary.startsWith('The customer cannot pay')).toBe(true);
    expect(seen[0]?.authorization).toBeUndefined();
  });

  it('maps an error answer to a typed error with the HTTP status and the provider code', async () => {
    const provider = createOpenAiProvider({ baseUrl, model: 'm', apiKey: 'k' });
    reply = apiError(429, 'Rate limit reached for requests', 'requests', 'rate_limit_exceeded');
    const limited = await failure(provider.classify(ticket));
    expect([limited.status, limited.reason, limited.retryable]).toEqual([
      'RESOURCE_EXHAUSTED',
      'AI_PROVIDER_ERROR',
      true,
    ]);
    expect(limited.details.metadata).toEqual({ httpStatus: '429', providerCode: 'rate_limit_exceeded' });
    expect(limited.message).toContain('Rate limit reached');

    reply = apiError(401, 'Incorrect API key provided', 'invalid_request_error', 'invalid_api_key');
    const denied = await failure(provider.classify(ticket));
    expect([denied.status, denied.retryable]).toEqual(['FAILED_PRECONDITION', false]);

    reply = apiError(503, 'The engine is currently overloaded', 'server_error', null);
    const overloaded = await failure(provider.classify(ticket));
    expect([overloaded.status, overloaded.retryable]).toEqual(['UNAVAILABLE', true]);

    reply = (_s, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('upstream exploded');
    };
    const plain = await failure(provider.classify(ticket));
    expect(plain.message).toContain('upstream exploded');
  });

  it('rejects an answer that is not the JSON asked for', async () => {
    const provider = createOpenAiProvider({ baseUrl, model: 'm' });
    reply = completion('I think this is an outage.');
    expect((await failure(provider.classify(ticket))).reason).toBe('AI_PROVIDER_BAD_RESPONSE');
    reply = completion(JSON.stringify({ category: 'weather', urgency: 'urgent', summary: 's' }));
    expect((await failure(provider.classify(ticket))).reason).toBe('AI_PROVIDER_BAD_RESPONSE');
    reply = (_s, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [] }));
    };
    expect((await failure(provider.classify(ticket))).reason).toBe('AI_PROVIDER_BAD_RESPONSE');
  });

  it('gives up after its timeout with DEADLINE_EXCEEDED', async () => {
    reply = () => {}; // never answers
    const provider = createOpenAiProvider({ baseUrl, model: 'm', timeoutMs: 150 });
    const e = await failure(provider.classify(ticket));
    expect([e.status, e.reason, e.retryable]).toEqual(['DEADLINE_EXCEEDED', 'AI_PROVIDER_TIMEOUT', true]);
  });

  it("rethrows the caller's abort reason unchanged", async () => {
    reply = () => {};
    const provider = createOpenAiProvider({ baseUrl, model: 'm', timeoutMs: 10_000 });
    const controller = new AbortController();
    const reason = new Error('client went away');
    setTimeout(() => controller.abort(reason), 50);
    await expect(provider.classify(ticket, { signal: controller.signal })).rejects.toBe(reason);
  });

  it('reports an endpoint it cannot reach as UNAVAILABLE', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const provider = createOpenAiProvider({ baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm' });
    const e = await failure(provider.classify(ticket));
    expect([e.status, e.reason]).toEqual(['UNAVAILABLE', 'AI_PROVIDER_UNAVAILABLE']);
  });

  it('validates its options', () => {
    expect(() => createOpenAiProvider({ baseUrl: 'ftp://x', model: 'm' })).toThrow(/http/);
    expect(() => createOpenAiProvider({ baseUrl: 'nope', model: 'm' })).toThrow(/http/);
    expect(() => createOpenAiProvider({ baseUrl, model: ' ' })).toThrow(/model/);
    expect(() => createOpenAiProvider({ baseUrl, model: 'm', timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});

describe('provider configuration from the environment', () => {
  it('uses the local model unless AI_BASE_URL is set', async () => {
    expect((await aiProviderFromEnv({})).name).toBe('local');
    expect(
      (await aiProviderFromEnv({ AI_BASE_URL: baseUrl, AI_MODEL: 'm', AI_PROVIDER: 'local' })).name,
    ).toBe('local');
    const remote = await aiProviderFromEnv({
      AI_BASE_URL: baseUrl,
      AI_MODEL: 'gpt-env',
      AI_API_KEY: 'sk-env',
    });
    expect(remote.name).toBe('openai');
    reply = completion(JSON.stringify({ category: 'billing', urgency: 'normal', summary: 'Refund wanted.' }));
    await remote.classify({ title: 'Refund', description: '' });
    expect(seen[0]?.body.model).toBe('gpt-env');
    expect(seen[0]?.authorization).toBe('Bearer sk-env');
  });

  it('lists every configuration error at once', async () => {
    const e = await failure(
      aiProviderFromEnv({ AI_BASE_URL: baseUrl, AI_TIMEOUT_MS: 'soon', AI_PROVIDER: 'magic' }),
    );
    expect(e.reason).toBe('AI_INVALID_CONFIG');
    expect(e.details.fieldViolations?.map((v) => v.field)).toEqual([
      'AI_MODEL',
      'AI_TIMEOUT_MS',
      'AI_PROVIDER',
    ]);
    const url = await failure(aiProviderFromEnv({ AI_BASE_URL: 'not a url', AI_MODEL: 'm' }));
    expect(url.details.fieldViolations?.[0]?.field).toBe('AI_BASE_URL');
  });
});
