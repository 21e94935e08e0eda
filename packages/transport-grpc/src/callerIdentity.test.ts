import {
  type Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { EchoResponse } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { createGrpcClient } from './createGrpcClient.js';
import { EchoServiceDefinition, logger, startEchoServer } from './testing/fixtures.js';

const ECHO = '/refront.testing.v1.EchoService/Echo';

/** A bare grpc-js server answering Echo that records the metadata each call arrived with. */
async function recordingServer() {
  const seen: Metadata[] = [];
  const server = new Server();
  const raw = (b: Buffer) => b;
  server.register(
    ECHO,
    (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      seen.push(call.metadata);
      callback(null, Buffer.from(EchoResponse.encode(EchoResponse.fromPartial({ message: 'ok' })).finish()));
    },
    raw,
    raw,
    'unary',
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { seen, target: `127.0.0.1:${port}`, [Symbol.asyncDispose]: async () => server.forceShutdown() };
}

describe('caller identity over gRPC', () => {
  it('announces the caller once per connection in user-agent, not as a header per call', async () => {
    await using env = await recordingServer();
    await using client = createGrpcClient(EchoServiceDefinition, {
      target: env.target,
      caller: 'billing',
      logger,
    });
    await client.echo({ message: 'a' });
    await client.echo({ message: 'b' }, { metadata: { 'x-refront-caller': 'on-behalf-of' } });
    const [plain, explicit] = env.seen;
    expect(plain!.get('user-agent')[0]).toMatch(/^refront\/billing grpc-node-js\//);
    expect(plain!.get('x-refront-caller')).toEqual([]);
    expect(plain!.get('traceparent')).toHaveLength(1);
    expect(explicit!.get('x-refront-caller')).toEqual(['on-behalf-of']);
  });

  it('sends the header on every call when the name cannot travel in user-agent', async () => {
    await using env = await recordingServer();
    await using client = createGrpcClient(EchoServiceDefinition, {
      target: env.target,
      caller: 'two words',
      logger,
    });
    await client.echo({ message: 'a' });
    expect(env.seen[0]!.get('x-refront-caller')).toEqual(['two words']);
    expect(env.seen[0]!.get('user-agent')[0]).toMatch(/^grpc-node-js\//);
  });

  it("keeps the user's own primary user agent, and then sends the header", async () => {
    await using env = await recordingServer();
    await using client = createGrpcClient(EchoServiceDefinition, {
      target: env.target,
      caller: 'billing',
      grpcOptions: { 'grpc.primary_user_agent': 'my-app/2.0' },
      logger,
    });
    await client.echo({ message: 'a' });
    expect(env.seen[0]!.get('user-agent')[0]).toMatch(/^my-app\/2\.0 /);
    expect(env.seen[0]!.get('x-refront-caller')).toEqual(['billing']);
  });

  it('gives a Refront handler the announced caller, in ctx.caller and in its metadata', async () => {
    await using env = await startEchoServer();
    await using client = createGrpcClient(EchoServiceDefinition, {
      target: env.address,
      caller: 'billing',
      logger,
    });
    const res = await client.echo({ message: 'a' });
    expect(res.seen.caller).toBe('billing');
    expect(res.seen['md:x-refront-caller']).toBe('billing');
  });

  it('leaves Error.stackTraceLimit as it was after starting calls', async () => {
    await using env = await startEchoServer();
    await using client = createGrpcClient(EchoServiceDefinition, {
      target: env.address,
      caller: 'billing',
      logger,
    });
    const before = Error.stackTraceLimit;
    await client.echo({ message: 'a' });
    expect(Error.stackTraceLimit).toBe(before);
  });
});
