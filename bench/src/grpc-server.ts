/**
 * Child process of the gRPC scenario: serves Echo twice, through bare grpc-js and through a
 * Refront server with every default interceptor (context + deadline, span, RED metrics), and
 * reports its CPU time over IPC so the parent can charge each round to the variant it ran.
 */
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { createLogger, createMetricsRegistry } from '@refront/core';
import { type EchoRequest, EchoResponse, EchoServiceDefinition } from '@refront/test-contracts';
import { createGrpcServer } from '@refront/transport-grpc';
import { echoImpl } from './echoImpl.js';

/** Messages the parent sends. */
export type ToChild = { readonly type: 'cpu' } | { readonly type: 'stop' };
/** Messages the child sends. */
export type FromChild =
  | { readonly type: 'ready'; readonly bare: number; readonly refront: number }
  | { readonly type: 'cpu'; readonly micros: number; readonly userMicros: number };

function bindBare(): Promise<{ server: Server; port: number }> {
  const server = new Server();
  const echo = EchoServiceDefinition.methods.echo;
  server.addService(
    {
      Echo: {
        path: '/refront.testing.v1.EchoService/Echo',
        requestStream: false,
        responseStream: false,
        requestSerialize: (m: EchoRequest) => Buffer.from(echo.requestType.encode(m).finish()),
        requestDeserialize: (b: Buffer) => echo.requestType.decode(b),
        responseSerialize: (m: EchoResponse) => Buffer.from(echo.responseType.encode(m).finish()),
        responseDeserialize: (b: Buffer) => echo.responseType.decode(b),
      },
    },
    {
      Echo: (call: ServerUnaryCall<EchoRequest, EchoResponse>, callback: sendUnaryData<EchoResponse>) => {
        callback(null, EchoResponse.fromPartial({ message: call.request.message }));
      },
    },
  );
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve({ server, port }),
    ),
  );
}

const logger = createLogger({ service: 'bench-echo', level: 'silent' });
const metrics = createMetricsRegistry({ processMetrics: false });
const refront = createGrpcServer({ service: 'echo', logger, metrics, host: '127.0.0.1', health: false });
refront.add(EchoServiceDefinition, echoImpl);
await refront.start();
const bare = await bindBare();

const send = (m: FromChild): void => {
  process.send?.(m);
};
process.on('message', (m: ToChild) => {
  if (m.type === 'cpu') {
    const u = process.cpuUsage();
    send({ type: 'cpu', micros: u.user + u.system, userMicros: u.user });
  } else {
    bare.server.forceShutdown();
    void refront.close().then(() => process.exit(0));
  }
});
send({ type: 'ready', bare: bare.port, refront: refront.port });
