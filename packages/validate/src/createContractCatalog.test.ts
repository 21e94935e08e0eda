import {
  createClient,
  createInProcessNetwork,
  createLogger,
  createMetricsRegistry,
  isRefrontError,
  RefrontError,
} from '@refront/core';
import { EchoServiceDefinition, FILE_DESCRIPTOR_SET } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { createContractCatalog } from './createContractCatalog.js';
import { ValidateReason } from './errors.js';

const catalog = createContractCatalog({ descriptors: [FILE_DESCRIPTOR_SET] });

function thrown(fn: () => unknown): RefrontError {
  try {
    fn();
  } catch (e: unknown) {
    if (isRefrontError(e)) return e;
    throw e;
  }
  throw new Error('expected a throw');
}

async function echoServer(seen: unknown[]) {
  const network = createInProcessNetwork();
  const server = network.createServer({
    service: 'echo',
    logger: createLogger({ service: 'test', level: 'silent' }),
    metrics: createMetricsRegistry({ processMetrics: false }),
  });
  server.add(EchoServiceDefinition, {
    async echo(request) {
      seen.push(request);
      return { message: request.message.toUpperCase(), payload: request.payload, seen: { n: '1' } };
    },
    async sleep() {
      return { aborted: false };
    },
    async fail(request) {
      throw new RefrontError(request.status as 'NOT_FOUND', request.reason, request.message);
    },
  });
  await server.start();
  return { network, [Symbol.asyncDispose]: () => server.close() };
}

describe('createContractCatalog', () => {
  it('lists each service with its methods, owner, types and idempotency from the descriptors', () => {
    const echo = catalog.services.find((s) => s.fullName === 'refront.testing.v1.EchoService');
    expect(echo?.owner).toBe('testing');
    expect(echo?.methods.map((m) => [m.name, m.key, m.requestType, m.idempotent])).toEqual([
      ['Echo', 'echo', 'refront.testing.v1.EchoRequest', true],
      ['Sleep', 'sleep', 'refront.testing.v1.SleepRequest', false],
      ['Fail', 'fail', 'refront.testing.v1.FailRequest', false],
    ]);
    expect(echo?.methods[0]?.path).toBe('/refront.testing.v1.EchoService/Echo');
  });

  it('finds a method by the full service name or its Refront name, any case of the method', () => {
    expect(catalog.find('refront.testing.v1.EchoService/Echo').method.name).toBe('Echo');
    expect(catalog.find('testing/sleep').method.name).toBe('Sleep');
    expect(catalog.find('EchoService/Fail').method.name).toBe('Fail');
    const missing = thrown(() => catalog.find('testing/Nope'));
    expect([missing.status, missing.reason]).toEqual(['NOT_FOUND', ValidateReason.CONTRACT_NOT_FOUND]);
    expect(missing.message).toContain('Echo, Sleep, Fail');
    expect(thrown(() => catalog.find('nothing')).reason).toBe(ValidateReason.CONTRACT_NOT_FOUND);
  });

  it('makes a JSON skeleton with a typed placeholder per field', () => {
    expect(catalog.skeleton('refront.testing.v1.EchoRequest')).toEqual({ message: '', payload: '' });
    expect(catalog.skeleton('refront.testing.v1.SleepRequest')).toEqual({ durationMs: 0 });
    expect(thrown(() => catalog.skeleton('no.Such')).status).toBe('NOT_FOUND');
  });

  it('refuses a body that is not JSON, not an object or not the message, INVALID_ARGUMENT', () => {
    const { method } = catalog.find('testing/Echo');
    for (const body of ['{"message":', '[1]', '{"mesage":"typo"}', '{"message":12}']) {
      const e = thrown(() => catalog.requestFromJson(method, body));
      expect([e.status, e.reason, e.httpStatus]).toEqual([
        'INVALID_ARGUMENT',
        ValidateReason.INVALID_JSON,
        400,
      ]);
    }
    expect(thrown(() => catalog.requestFromJson(method, '{"mesage":"typo"}')).message).toContain('mesage');
  });

  it("calls a generated server through the descriptors' definition on the in-process lane", async () => {
    const seen: unknown[] = [];
    await using host = await echoServer(seen);
    const { service, method } = catalog.find('testing/Echo');
    const client = createClient(service.definition, host.network.channel(), { caller: 'console' });
    const request = catalog.requestFromJson(method, '{"message":"hello","payload":"AQI="}');
    const response = await client[method.key]?.(request);
    expect(seen).toEqual([{ message: 'hello', payload: Buffer.from([1, 2]) }]);
    expect(catalog.messageType(method.responseType).toJSON(response as never)).toEqual({
      message: 'HELLO',
      payload: 'AQI=',
      seen: { n: '1' },
    });
  });

  it("gets the server's typed error back", async () => {
    await using host = await echoServer([]);
    const { service, method } = catalog.find('testing/Fail');
    const client = createClient(service.definition, host.network.channel(), { caller: 'console' });
    const request = catalog.requestFromJson(
      method,
      '{"status":"NOT_FOUND","reason":"ECHO_GONE","message":"no such echo"}',
    );
    const error = await client[method.key]?.(request).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isRefrontError(error) && [error.status, error.reason, error.message]).toEqual([
      'NOT_FOUND',
      'ECHO_GONE',
      'no such echo',
    ]);
  });
});
