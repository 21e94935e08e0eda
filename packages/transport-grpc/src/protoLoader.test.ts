import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { STATUS_DETAILS_KEY } from './errors.js';
import { dynamicEchoClient, statusDecoder } from './testing/dynamicClients.js';
import { startEchoServer } from './testing/fixtures.js';

type Callback = (err: ServiceError | null, res?: Record<string, unknown>) => void;
type Unary = (req: object, md: Metadata, opts: object, cb: Callback) => void;

function call(
  client: object,
  method: string,
  req: object,
  md = new Metadata(),
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    (client as Record<string, Unary>)[method]!.call(
      client,
      req,
      md,
      { deadline: Date.now() + 5_000 },
      (err, res) => (err ? reject(err) : resolve(res as Record<string, unknown>)),
    );
  });
}

describe('a client built at run time from echo.proto calls a Refront service', () => {
  it('calls Echo and Sleep with plain gRPC and sees its metadata reach the handler', async () => {
    await using env = await startEchoServer();
    const client = dynamicEchoClient(env.address);
    try {
      const md = new Metadata();
      md.set('x-refront-caller', 'python-batch-job');
      md.set('x-refront-tenant', 'acme');
      const res = await call(client, 'Echo', { message: 'from anywhere', payload: Buffer.from('xyz') }, md);
      expect(res.message).toBe('from anywhere');
      expect(Buffer.from(res.payload as Buffer).toString()).toBe('xyz');
      const seen = res.seen as Record<string, string>;
      expect(seen.caller).toBe('python-batch-job');
      expect(seen.tenant).toBe('acme');
      expect(seen.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(await call(client, 'Sleep', { durationMs: 5 })).toEqual({ aborted: false });
    } finally {
      client.close();
    }
  });

  it('reads the google.rpc.Status details of a failure without any Refront code', async () => {
    await using env = await startEchoServer();
    const client = dynamicEchoClient(env.address);
    try {
      const err = (await call(client, 'Fail', {
        status: 'INVALID_ARGUMENT',
        reason: 'ECHO_EMPTY',
        message: 'message is empty',
      }).catch((e: unknown) => e)) as ServiceError;
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toBe('message is empty');
      const bytes = err.metadata.get(STATUS_DETAILS_KEY)[0] as Buffer;
      const decoded = statusDecoder()(bytes);
      expect(decoded.code).toBe(3);
      expect(decoded.message).toBe('message is empty');
      expect(decoded.details).toEqual([
        { '@type': 'google.rpc.ErrorInfo', reason: 'ECHO_EMPTY', domain: 'echo' },
        {
          '@type': 'google.rpc.BadRequest',
          fieldViolations: [{ field: 'message', description: 'must not be empty' }],
        },
      ]);
      const limited = (await call(client, 'Fail', {
        status: 'RESOURCE_EXHAUSTED',
        reason: 'ECHO_LIMITED',
        message: 'slow down',
      }).catch((e: unknown) => e)) as ServiceError;
      const retry = statusDecoder()(limited.metadata.get(STATUS_DETAILS_KEY)[0] as Buffer).details;
      expect(retry).toContainEqual({
        '@type': 'google.rpc.RetryInfo',
        retryDelay: { seconds: 1, nanos: 500_000_000 },
      });
      expect(retry).toContainEqual({
        '@type': 'google.rpc.ErrorInfo',
        reason: 'ECHO_LIMITED',
        domain: 'echo',
        metadata: { limit: '10/s' },
      });
    } finally {
      client.close();
    }
  });
});
