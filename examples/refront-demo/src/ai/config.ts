import { RefrontError } from '@refront/core';
import { AiReason } from './errors.js';
import { createLocalProvider } from './localProvider.js';
import { createOpenAiProvider } from './openAiProvider.js';
import type { AiProvider } from './provider.js';

/**
 * The provider the environment asks for: an OpenAI-compatible endpoint when `AI_BASE_URL` is set
 * (with `AI_MODEL`, and `AI_API_KEY` when the endpoint needs one; `AI_TIMEOUT_MS` optional),
 * otherwise the local provider. `AI_PROVIDER=local` forces the local one.
 *
 * @throws RefrontError INVALID_ARGUMENT `AI_INVALID_CONFIG` when AI_BASE_URL is set without
 *   AI_MODEL, or a value is malformed.
 * @example
 * const provider = await aiProviderFromEnv(process.env);
 */
export async function aiProviderFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): Promise<AiProvider> {
  const baseUrl = env.AI_BASE_URL?.trim() ?? '';
  if (env.AI_PROVIDER === 'local' || baseUrl === '') return createLocalProvider();
  const model = env.AI_MODEL?.trim() ?? '';
  const timeout = env.AI_TIMEOUT_MS === undefined ? undefined : Number(env.AI_TIMEOUT_MS);
  const problems: { field: string; description: string }[] = [];
  if (model === '') problems.push({ field: 'AI_MODEL', description: 'must be set when AI_BASE_URL is' });
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) {
    problems.push({ field: 'AI_TIMEOUT_MS', description: 'must be a whole number of milliseconds > 0' });
  }
  if (env.AI_PROVIDER !== undefined && env.AI_PROVIDER !== 'openai') {
    problems.push({ field: 'AI_PROVIDER', description: 'must be local or openai' });
  }
  if (problems.length > 0) {
    throw new RefrontError(
      'INVALID_ARGUMENT',
      AiReason.INVALID_CONFIG,
      'the AI provider configuration is invalid',
      {
        details: { fieldViolations: problems },
        retryable: false,
      },
    );
  }
  try {
    return createOpenAiProvider({ baseUrl, model, apiKey: env.AI_API_KEY || undefined, timeoutMs: timeout });
  } catch (e: unknown) {
    throw new RefrontError(
      'INVALID_ARGUMENT',
      AiReason.INVALID_CONFIG,
      `AI_BASE_URL is unusable: ${String(e)}`,
      {
        details: { fieldViolations: [{ field: 'AI_BASE_URL', description: 'must be an http(s) URL' }] },
        retryable: false,
        cause: e,
      },
    );
  }
}
