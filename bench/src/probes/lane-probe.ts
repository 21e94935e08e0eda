/**
 * A fixed amount of work on one request lane, for instruction counts (`valgrind --tool=callgrind`)
 * and CPU profiles that do not depend on the machine's load: client and server in this one
 * process, a warm-up, then `calls` echo calls of 32 bytes, `concurrency` at a time.
 *
 * `node --import tsx bench/src/probes/lane-probe.ts <lane> <calls> [concurrency]`, lanes:
 * `inproc`, `inproc-callers` (the server checks declared callers), `inproc-nocopy`, `mux`,
 * `mux-off` (defaults and policy off), `grpc`, `grpc-bare`.
 * Instructions per call: run it under callgrind with two `calls` values and divide the difference
 * of the totals by the difference of the calls (the start, warm-up and exit cancel out); see
 * `bench/src/probes/README.md`.
 */
import { createClient, createInProcessNetwork, createLogger, createMetricsRegistry } from '@refront/core';
import { createStaticRegistry } from '@refront/discovery';
import { createDefaultPolicy } from '@refront/resilience';
import { EchoRequest, EchoServiceDefinition } from '@refront/test-contracts';
import { echoImpl } from '../echoImpl.js';
import { MESSAGE } from '../rpc-clients.js';

type Lane = { call: () => Promise<unknown>; close: () => Promise<unknown> | unknown };

const logger = createLogger({ service: 'probe', level: 'silent' });

/** `callers`: the server checks its declared callers and the channel presents one, as the monolith's do. */
async function inproc(copyMessages: boolean, callers: boolean): Promise<Lane> {
  const metrics = createMetricsRegistry({ processMetrics: false });
  const network = createInProcessNetwork({ copyMessages });
  const server = network.createServer({
    service: 'echo',
    logger,
    metrics,
    ...(callers ? { auth: { callers: { gateway: '*', probe: ['refront.testing.v1.EchoService'] } } } : {}),
  });
  server.add(EchoServiceDefinition, echoImpl);
  await server.start();
  // A long timeout: the first calls under valgrind are slow.
  const client = createClient(EchoServiceDefinition, network.channel(callers ? { caller: 'probe' } : {}), {
    caller: 'probe',
    metrics,
    timeoutMs: 600_000,
  });
  const request = { message: MESSAGE };
  return { call: () => client.echo(request), close: () => server.close() };
}

/** A deadline long enough for the first calls under valgrind, which run 50-100 times slower. */
const TIMEOUT_MS = 600_000;

async function network(lane: string): Promise<Lane> {
  if (lane === 'grpc-bare') {
    const { port, stop } = await grpcBareServer();
    const client = await grpcBareClient(port, TIMEOUT_MS);
    return {
      call: client.call,
      close: async () => {
        await client.close();
        stop();
      },
    };
  }
  const metrics = createMetricsRegistry({ processMetrics: false });
  const mux = lane === 'mux' || lane === 'mux-off';
  const server = mux
    ? (await import('@refront/transport-mux')).createMuxServer({
        service: 'echo',
        logger,
        host: '127.0.0.1',
        ...(lane === 'mux' ? { metrics } : { defaultInterceptors: false }),
      })
    : (await import('@refront/transport-grpc')).createGrpcServer({
        service: 'echo',
        logger,
        metrics,
        host: '127.0.0.1',
      });
  server.add(EchoServiceDefinition, echoImpl);
  await server.start();
  const discovery = createStaticRegistry({
    services: { echo: [{ address: '127.0.0.1', port: server.port }] },
    logger,
  });
  const request = { message: MESSAGE };
  // The default policy, with its per-attempt timeout as long as the call's.
  const policy = createDefaultPolicy({ name: 'echo', metrics, logger, timeout: { timeoutMs: TIMEOUT_MS } });
  if (mux) {
    const { createMuxChannel } = await import('@refront/transport-mux');
    const channel = createMuxChannel({
      discovery,
      service: 'echo',
      logger,
      ...(lane === 'mux' ? { metrics, policy } : { policy: false }),
    });
    const client = createClient(EchoServiceDefinition, channel, {
      caller: 'probe',
      timeoutMs: TIMEOUT_MS,
      ...(lane === 'mux' ? { metrics } : { defaultInterceptors: false }),
    });
    return {
      call: () => client.echo(request),
      close: async () => {
        await channel.close();
        await server.close();
      },
    };
  }
  const { createGrpcClient } = await import('@refront/transport-grpc');
  const client = createGrpcClient(EchoServiceDefinition, {
    discovery,
    service: 'echo',
    caller: 'probe',
    metrics,
    logger,
    policy,
    timeoutMs: TIMEOUT_MS,
  });
  return {
    call: () => client.echo(request),
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

async function grpcBareClient(port: number, timeoutMs: number) {
  const { Client, credentials, Metadata } = await import('@grpc/grpc-js');
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  const echo = EchoServiceDefinition.methods.echo;
  const serialize = (m: EchoRequest) => Buffer.from(echo.requestType.encode(m).finish());
  const deserialize = (b: Buffer) => echo.responseType.decode(b);
  const request = EchoRequest.fromPartial({ message: MESSAGE });
  const call = () =>
    new Promise<unknown>((resolve, reject) => {
      client.makeUnaryRequest(
        '/refront.testing.v1.EchoService/Echo',
        serialize,
        deserialize,
        request,
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, res) => (err ? reject(err) : resolve(res)),
      );
    });
  return { call, close: () => client.close() };
}

async function grpcBareServer(): Promise<{ port: number; stop: () => void }> {
  const { Server, ServerCredentials } = await import('@grpc/grpc-js');
  const { EchoRequest, EchoResponse } = await import('@refront/test-contracts');
  type Req = ReturnType<typeof EchoRequest.decode>;
  type Res = ReturnType<typeof EchoResponse.decode>;
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

async function drive(call: () => Promise<unknown>, calls: number, concurrency: number): Promise<void> {
  let left = calls;
  const worker = async (): Promise<void> => {
    while (left > 0) {
      left--;
      await call();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, calls) }, worker));
}

const [laneName = 'inproc', callsArg = '10000', concArg = '1'] = process.argv.slice(2);
const calls = Number(callsArg);
const concurrency = Number(concArg);
const lane = laneName.startsWith('inproc')
  ? await inproc(laneName !== 'inproc-nocopy', laneName === 'inproc-callers')
  : await network(laneName);
const warmup = Number(process.env.PROBE_WARMUP ?? 20_000);
await drive(lane.call, warmup, concurrency);
const elu0 = performance.eventLoopUtilization();
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
await drive(lane.call, calls, concurrency);
const ns = Number(process.hrtime.bigint() - t0);
const cpu = process.cpuUsage(cpu0);
const elu = performance.eventLoopUtilization(elu0);
console.log(
  `${laneName} c=${concurrency}: ${calls} calls, ${(ns / calls / 1000).toFixed(2)} µs/call wall, ` +
    `${((cpu.user + cpu.system) / calls).toFixed(2)} µs/call CPU, event loop busy ${(elu.utilization * 100).toFixed(0)}%`,
);
await lane.close();
process.exit(0);
