/**
 * Child process of the `rpc` and `tls` scenarios: serves a 32-byte echo on 127.0.0.1 through ONE
 * lane, named by argv[2] (`grpc-bare`, `refront-grpc`, `refront-mux`, `moleculer`, `nest`), each
 * with its defaults, and reports its CPU time over IPC so the parent can charge each round to its
 * side. argv[3], for the Refront lanes only, is a JSON {@link ServerSecuritySpec}: TLS, or mTLS
 * with declared callers (default plaintext).
 */
import { createServer } from 'node:net';
import { createLogger, createMetricsRegistry, type RpcServer } from '@refront/core';
import { EchoServiceDefinition } from '@refront/test-contracts';
import { echoImpl } from './echoImpl.js';
import { type FromChild, type Lane, MOLECULER_SERVER_NODE, type ToChild } from './rpc-protocol.js';
import { type ServerSecuritySpec, serverSecurity } from './tls-security.js';

type Stop = () => Promise<unknown> | unknown;

const logger = createLogger({ service: 'bench-echo', level: 'silent' });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function grpcBare(): Promise<{ port: number; stop: Stop }> {
  const { Server, ServerCredentials } = await import('@grpc/grpc-js');
  const { EchoRequest, EchoResponse } = await import('@refront/test-contracts');
  type Req = ReturnType<typeof EchoRequest.decode>;
  type Res = ReturnType<typeof EchoResponse.decode>;
  // As a grpc-js user writes it: ts-proto codecs, one handler, no interceptors.
  const server = new Server();
  server.addService(
    {
      Echo: {
        path: '/refront.testing.v1.EchoService/Echo',
        requestStream: false,
        responseStream: false,
        requestSerialize: (m: Req) => Buffer.from(EchoRequest.encode(m).finish()),
        requestDeserialize: (b: Buffer) => EchoRequest.decode(b),
        responseSerialize: (m: Res) => Buffer.from(EchoResponse.encode(m).finish()),
        responseDeserialize: (b: Buffer) => EchoResponse.decode(b),
      },
    },
    {
      Echo: (call: { request: Req }, callback: (err: null, res: Res) => void) => {
        callback(null, EchoResponse.fromPartial({ message: call.request.message }));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { port, stop: () => server.forceShutdown() };
}

async function refront(server: RpcServer & { readonly port: number }): Promise<{ port: number; stop: Stop }> {
  server.add(EchoServiceDefinition, echoImpl);
  await server.start();
  return { port: server.port, stop: () => server.close() };
}

async function refrontGrpc(spec: ServerSecuritySpec): Promise<{ port: number; stop: Stop }> {
  const { createGrpcServer } = await import('@refront/transport-grpc');
  const metrics = createMetricsRegistry({ processMetrics: false });
  const secured = serverSecurity(spec);
  return refront(createGrpcServer({ service: 'echo', logger, metrics, host: '127.0.0.1', ...secured }));
}

async function refrontMux(spec: ServerSecuritySpec): Promise<{ port: number; stop: Stop }> {
  const { createMuxServer } = await import('@refront/transport-mux');
  const metrics = createMetricsRegistry({ processMetrics: false });
  const secured = serverSecurity(spec);
  return refront(createMuxServer({ service: 'echo', logger, metrics, host: '127.0.0.1', ...secured }));
}

/** Mux with the server's default interceptors (context, span, metrics) off: the baseline of their cost. */
async function refrontMuxBare(): Promise<{ port: number; stop: Stop }> {
  const { createMuxServer } = await import('@refront/transport-mux');
  return refront(createMuxServer({ service: 'echo', logger, host: '127.0.0.1', defaultInterceptors: false }));
}

async function moleculer(): Promise<{ port: number; stop: Stop }> {
  const { ServiceBroker } = await import('moleculer');
  const port = await freePort();
  const broker = new ServiceBroker({
    nodeID: MOLECULER_SERVER_NODE,
    logger: false,
    transporter: { type: 'TCP', options: { udpDiscovery: false, port, urls: [] } },
  });
  broker.createService({
    name: 'echo',
    actions: { echo: (ctx: { params: { message: string } }) => ({ message: ctx.params.message }) },
  });
  await broker.start();
  return { port, stop: () => broker.stop() };
}

async function nest(): Promise<{ port: number; stop: Stop }> {
  await import('reflect-metadata');
  const { Controller, Module } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { MessagePattern, Transport } = await import('@nestjs/microservices');
  // Decorators applied by hand: the bench tsconfig has no experimentalDecorators, and the
  // controller has no constructor parameters, so no emitted design-time metadata is needed.
  class EchoController {
    echo(data: { message: string }): { message: string } {
      return { message: data.message };
    }
  }
  const descriptor = Object.getOwnPropertyDescriptor(EchoController.prototype, 'echo');
  Reflect.decorate([MessagePattern('echo')], EchoController.prototype, 'echo', descriptor);
  Reflect.decorate([Controller()], EchoController);
  class EchoModule {}
  Reflect.decorate([Module({ controllers: [EchoController] })], EchoModule);
  const port = await freePort();
  const app = await NestFactory.createMicroservice(EchoModule, {
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port },
    logger: false,
  });
  await app.listen();
  return { port, stop: () => app.close() };
}

const lanes: Record<Lane, (spec: ServerSecuritySpec) => Promise<{ port: number; stop: Stop }>> = {
  'grpc-bare': grpcBare,
  'refront-grpc': refrontGrpc,
  'refront-mux': refrontMux,
  'refront-mux-bare': refrontMuxBare,
  moleculer,
  nest,
};

const send = (m: FromChild): void => {
  process.send?.(m);
};

const lane = process.argv[2] as Lane;
try {
  const start = lanes[lane];
  if (!start) throw new Error(`unknown lane ${lane}`);
  const spec = JSON.parse(process.argv[3] ?? '{"security":"plaintext"}') as ServerSecuritySpec;
  if (spec.security !== 'plaintext' && lane !== 'refront-grpc' && lane !== 'refront-mux') {
    throw new Error(`lane ${lane} serves plaintext only`);
  }
  const { port, stop } = await start(spec);
  process.on('message', (m: ToChild) => {
    if (m.type === 'cpu') {
      const u = process.cpuUsage();
      send({ type: 'cpu', micros: u.user + u.system, rssBytes: process.memoryUsage.rss() });
    } else {
      void Promise.resolve(stop()).finally(() => process.exit(0));
    }
  });
  send({ type: 'ready', port });
} catch (e: unknown) {
  send({ type: 'failed', error: e instanceof Error ? e.message : String(e) });
  process.exit(1);
}
