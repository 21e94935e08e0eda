import {
  type Client,
  createClient,
  createLogger,
  type Interceptor,
  type Logger,
  type MessageValidator,
} from '@refront/core';
import { EchoServiceDefinition } from '@refront/test-contracts';
import { createEchoProbe, type EchoProbe } from './echoProbe.js';
import type {
  ConformanceAuth,
  ConformanceChannel,
  ConformanceClientTls,
  ConformanceServer,
  ConformanceServerTls,
  ServedContract,
  TransportFactory,
} from './TransportFactory.js';

/** The caller identity every conformance client sends. */
export const CONFORMANCE_CALLER = 'conformance-caller';

/** The silent logger of every server and channel the suite starts. */
export const logger: Logger = createLogger({ service: 'conformance', level: 'silent' });

/** An Echo client over its own channel; disposing it closes the channel. */
export interface EchoConnection extends AsyncDisposable {
  readonly channel: ConformanceChannel;
  readonly client: Client<typeof EchoServiceDefinition>;
}

/** A started Echo server, what its handlers saw, and a client of it; disposing closes them all. */
export interface Env<H> extends AsyncDisposable {
  readonly server: ConformanceServer<H>;
  readonly channel: ConformanceChannel;
  readonly client: Client<typeof EchoServiceDefinition>;
  readonly probe: EchoProbe;
  /** Another client of this server over its own channel (closed with the env): other TLS, another handle or caller. */
  connect(options?: {
    readonly tls?: ConformanceClientTls;
    readonly handle?: H;
    readonly caller?: string;
  }): EchoConnection;
}

/** How a case wants its server and first channel. */
export interface SetupOptions {
  readonly auth?: ConformanceAuth;
  readonly interceptors?: readonly Interceptor[];
  readonly tls?: ConformanceServerTls;
  readonly port?: number;
  readonly validator?: MessageValidator;
  /** TLS of the env's own channel. @default plaintext */
  readonly clientTls?: ConformanceClientTls;
  /** The caller identity the env's own channel presents (lanes with `capabilities.channelCaller`). @default none */
  readonly caller?: string;
}

/** A served contract, its implementation typed against its definition. */
export function served(implementation: EchoProbe['implementation']): ServedContract {
  return { definition: EchoServiceDefinition, implementation } as unknown as ServedContract;
}

/** Opens an Echo client of `handle` through `factory`'s channel, over `tls` and presenting `caller` when given. */
export function connectEcho<H>(
  factory: TransportFactory<H>,
  handle: H,
  tls?: ConformanceClientTls,
  caller?: string,
): EchoConnection {
  const channel = factory.channel(handle, {
    logger,
    ...(tls ? { tls } : {}),
    ...(caller === undefined ? {} : { caller }),
  });
  const client = createClient(EchoServiceDefinition, channel, {
    caller: CONFORMANCE_CALLER,
    ...(factory.system === undefined ? {} : { system: factory.system }),
  });
  return { channel, client, [Symbol.asyncDispose]: () => channel.close() };
}

/** Starts an Echo server of `factory` with a fresh probe, and a client of it. */
export async function setupEnv<H>(factory: TransportFactory<H>, options: SetupOptions = {}): Promise<Env<H>> {
  const { clientTls, caller, ...serverOptions } = options;
  const probe = createEchoProbe();
  const server = await factory.startServer({
    service: 'echo',
    logger,
    contracts: [served(probe.implementation)],
    ...serverOptions,
  });
  const first = connectEcho(factory, server.handle, clientTls, caller);
  const others: EchoConnection[] = [];
  return {
    server,
    channel: first.channel,
    client: first.client,
    probe,
    connect: ({ tls, handle, caller: as } = {}) => {
      const connection = connectEcho(factory, handle ?? server.handle, tls, as);
      others.push(connection);
      return connection;
    },
    [Symbol.asyncDispose]: async () => {
      await Promise.all([first, ...others].map((c) => c.channel.close()));
      await server.close();
    },
  };
}
