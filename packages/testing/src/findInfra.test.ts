import { CoreErrors, isRefrontError } from '@refront/core';
import { describe, expect, it } from 'vitest';
import { findInfra } from './index.js';

const NOWHERE = {
  REFRONT_TEST_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
  REFRONT_TEST_AMQP_URL: 'amqp://127.0.0.1:1',
};

// The machine's own servers (CI requires them: a missing one fails here rather than skipping).
const pgUrl = await findInfra('postgres', { REFRONT_REQUIRE_INFRA: process.env.REFRONT_REQUIRE_INFRA });
const amqpUrl = await findInfra('rabbitmq', { REFRONT_REQUIRE_INFRA: process.env.REFRONT_REQUIRE_INFRA });

describe('findInfra', () => {
  it('gives undefined for a server that does not answer, so the suite skips', async () => {
    expect(await findInfra('postgres', NOWHERE)).toBeUndefined();
    expect(await findInfra('rabbitmq', NOWHERE)).toBeUndefined();
  });

  it('fails instead of skipping when REFRONT_REQUIRE_INFRA=1', async () => {
    const e = await findInfra('rabbitmq', { ...NOWHERE, REFRONT_REQUIRE_INFRA: '1' }).catch(
      (x: unknown) => x,
    );
    expect(isRefrontError(e) && CoreErrors.INFRA_MISSING.is(e)).toBe(true);
    expect(String((e as Error).message)).toContain('RabbitMQ at 127.0.0.1:1 does not answer');
  });

  it.skipIf(!(pgUrl && amqpUrl))('gives the URL of a server that answers', () => {
    expect(pgUrl).toBe('postgres://postgres@127.0.0.1:5432/postgres');
    expect(amqpUrl).toBe('amqp://guest:guest@127.0.0.1:5672');
  });
});
