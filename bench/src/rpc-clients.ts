/**
 * Client side of the `rpc` scenario: one closed-loop echo call per lane, each built as that
 * framework's users build it, with its defaults on.
 */
import { createClient, createLogger, createMetricsRegistry } from '@refront/core';
import { createStaticRegistry } from '@refront/discovery';
import type { ClientTlsOptions } from '@refront/rpc';
import { EchoRequest, EchoServiceDefinition } from '@refront/test-contracts';
import { MOLECULER_SERVER_NODE } from './rpc-protocol.js';

/** The 32-byte message every lane echoes. */
export const MESSAGE = 'hello, 32 bytes of payload text!';

/** One lane's call, and how to release its client. */
export interface LaneClient {
  /** One echo of {@link MESSAGE}. */
  readonly call: () => Promise<unknown>;
  /** A call that echoes `message` instead (its request built once, as `call`'s is). */
  readonly callWith: (message: string) => () => Promise<unknown>;
  readonly close: () => Promise<unknown> | unknown;
}

const logger = createLogger({ service: 'bench', level: 'silent' });

function staticEcho(port: number) {
  return createStaticRegistry({ services: { echo: [{ address: '127.0.0.1', port }] }, logger });
}

/** Bare grpc-js: a generic Client, ts-proto codecs, a deadline, no interceptors. */
export async function grpcBareClient(port: number): Promise<LaneClient> {
  const { Client, credentials, Metadata } = await import('@grpc/grpc-js');
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  const echo = EchoServiceDefinition.methods.echo;
  const serialize = (m: EchoRequest) => Buffer.from(echo.requestType.encode(m).finish());
  const deserialize = (b: Buffer) => echo.responseType.decode(b);
  const callWith = (message: string) => {
    const request = EchoRequest.fromPartial({ message });
    return () =>
      new Promise<unknown>((resolve, reject) => {
        client.makeUnaryRequest(
          '/refront.testing.v1.EchoService/Echo',
          serialize,
          deserialize,
          request,
          new Metadata(),
          { deadline: Date.now() + 10_000 },
          (err, res) => (err ? reject(err) : resolve(res)),
        );
      });
  };
  return { call: callWith(MESSAGE), callWith, close: () => client.close() };
}

/**
 * Refront over gRPC, all defaults: discovery, balancer, default policy, context, span, metrics;
 * over TLS when `tls` is given.
 */
export async function refrontGrpcClient(port: number, tls?: ClientTlsOptions): Promise<LaneClient> {
  const { createGrpcClient } = await import('@refront/transport-grpc');
  const client = createGrpcClient(EchoServiceDefinition, {
    discovery: staticEcho(port),
    service: 'echo',
    caller: 'bench',
    metrics: createMetricsRegistry({ processMetrics: false }),
    logger,
    ...(tls ? { tls } : {}),
  });
  const callWith = (message: string) => {
    const request = { message };
    return () => client.echo(request);
  };
  return { call: callWith(MESSAGE), callWith, close: () => client.close() };
}

/**
 * Refront over mux, all defaults: the same client chain on a mux channel found through discovery;
 * over TLS when `tls` is given.
 */
export async function refrontMuxClient(port: number, tls?: ClientTlsOptions): Promise<LaneClient> {
  const { createMuxChannel } = await import('@refront/transport-mux');
  const metrics = createMetricsRegistry({ processMetrics: false });
  const channel = createMuxChannel({
    discovery: staticEcho(port),
    service: 'echo',
    metrics,
    logger,
    ...(tls ? { tls } : {}),
  });
  const client = createClient(EchoServiceDefinition, channel, { caller: 'bench', metrics });
  const callWith = (message: string) => {
    const request = { message };
    return () => client.echo(request);
  };
  return { call: callWith(MESSAGE), callWith, close: () => channel.close() };
}

/** Refront over mux with the default interceptors and the policy off: the baseline of their cost. */
export async function refrontMuxBareClient(port: number): Promise<LaneClient> {
  const { createMuxChannel } = await import('@refront/transport-mux');
  const channel = createMuxChannel({
    discovery: staticEcho(port),
    service: 'echo',
    policy: false,
    logger,
  });
  const client = createClient(EchoServiceDefinition, channel, {
    caller: 'bench',
    defaultInterceptors: false,
  });
  const callWith = (message: string) => {
    const request = { message };
    return () => client.echo(request);
  };
  return { call: callWith(MESSAGE), callWith, close: () => channel.close() };
}

/** Moleculer's TCP transporter, UDP discovery off, the server named by a static URL; JSON serializer. */
export async function moleculerClient(port: number): Promise<LaneClient> {
  const { ServiceBroker } = await import('moleculer');
  const broker = new ServiceBroker({
    nodeID: 'bench-client',
    logger: false,
    transporter: {
      type: 'TCP',
      options: { udpDiscovery: false, urls: [`127.0.0.1:${port}/${MOLECULER_SERVER_NODE}`] },
    },
  });
  await broker.start();
  await broker.waitForServices('echo', 10_000);
  const callWith = (message: string) => {
    const params = { message };
    return () => broker.call('echo.echo', params);
  };
  return { call: callWith(MESSAGE), callWith, close: () => broker.stop() };
}

/** NestJS microservices TCP transport: ClientProxyFactory with `firstValueFrom(client.send())`. */
export async function nestClient(port: number): Promise<LaneClient> {
  await import('reflect-metadata');
  const { ClientProxyFactory, Transport } = await import('@nestjs/microservices');
  const { firstValueFrom } = await import('rxjs');
  const client = ClientProxyFactory.create({
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port },
  });
  await client.connect();
  const callWith = (message: string) => {
    const data = { message };
    return () => firstValueFrom(client.send('echo', data));
  };
  return { call: callWith(MESSAGE), callWith, close: () => client.close() };
}
