/**
 * What the default chain costs per side, with no transport around it: the client's default
 * interceptor (context, span, `traceparent`, metrics) and default resilience policy (timeout,
 * bulkhead, retry, per-target breaker) around a channel that answers at once, and the server's
 * default interceptor (request context, deadline, span, metrics) around a handler that echoes,
 * fed the metadata a Refront client sends. Each side is timed with its defaults on and off in
 * the same run, one call at a time and 64 at once, and the difference is the chain's cost.
 *
 * The `rpc` scenario prints the same difference end to end (lanes with defaults on and off);
 * there it also holds what the defaults put on the wire (the `traceparent` and caller bytes,
 * encoded and decoded) and the Node 20 `AsyncLocalStorage` promise hooks that a request context
 * turns on for the whole server process, which this scenario charges to neither side.
 */
import { type Channel, createClient, createLogger, createMetricsRegistry } from '@refront/core';
import { createDispatcher, type Dispatcher } from '@refront/core/transport';
import { createDefaultPolicy, policyInterceptor } from '@refront/resilience';
import { EchoRequest, EchoResponse, EchoServiceDefinition } from '@refront/test-contracts';
import { echoImpl } from '../echoImpl.js';

/** The ~4 µs per side that issue 11 allows the default interceptors. */
const AIM_NS = 4_000;
const CALLS = 100_000;
const ROUNDS = 7;

type Call = () => Promise<unknown>;

/** Calls each worker makes between two turns of the event loop. */
const CALLS_PER_TURN = 64;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * CPU ns per call of `n` calls, `concurrency` at a time. Each worker yields to the event loop
 * every {@link CALLS_PER_TURN} calls, as a server does between socket reads: without a turn the
 * whole run is one microtask drain, during which V8's incremental marking (posted as tasks that
 * run only between turns) cannot finish, and every scavenge slows down; that doubled the server
 * chain's CPU per call at concurrency 64, which no transport sees.
 */
async function cpuPerCall(call: Call, n: number, concurrency: number): Promise<number> {
  const worker = async (k: number): Promise<void> => {
    for (let i = 0; i < k; i++) {
      await call();
      if (i % CALLS_PER_TURN === CALLS_PER_TURN - 1) await nextTurn();
    }
  };
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, () => worker(Math.ceil(n / concurrency))));
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / n;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Medians of interleaved rounds (A B A B …) after a warm-up. */
async function compare(variants: Record<string, Call>, concurrency: number): Promise<Record<string, number>> {
  const names = Object.keys(variants);
  for (const name of names) await cpuPerCall(variants[name]!, CALLS / 4, concurrency);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of names) samples[name]!.push(await cpuPerCall(variants[name]!, CALLS, concurrency));
  }
  return Object.fromEntries(names.map((n) => [n, median(samples[n]!)]));
}

function clientVariants(): Record<string, Call> {
  const answer = EchoResponse.fromPartial({ message: 'hello, 32 bytes of payload text!' });
  const channel: Channel = { unary: () => Promise.resolve(answer as never) };
  const metrics = createMetricsRegistry({ processMetrics: false });
  const bare = createClient(EchoServiceDefinition, channel, { caller: 'bench', defaultInterceptors: false });
  const interceptors = createClient(EchoServiceDefinition, channel, { caller: 'bench', metrics });
  const policy = createDefaultPolicy({ name: 'echo', metrics });
  const full = createClient(EchoServiceDefinition, channel, {
    caller: 'bench',
    metrics,
    // As a channel runs it: the breaker guards the picked instance.
    interceptors: [policyInterceptor(policy, { pickTarget: () => 'echo/127.0.0.1:50051' })],
  });
  const request = { message: 'hello, 32 bytes of payload text!' };
  return {
    'client, defaults off': () => bare.echo(request),
    'client, default interceptor': () => interceptors.echo(request),
    'client, default interceptor + policy': () => full.echo(request),
  };
}

function serverVariants(): Record<string, Call> {
  const logger = createLogger({ service: 'bench', level: 'silent' });
  const make = (defaults: boolean): Dispatcher => {
    const d = createDispatcher({
      service: 'echo',
      logger,
      system: 'refront',
      defaultInterceptors: defaults,
      metrics: defaults ? createMetricsRegistry({ processMetrics: false }) : undefined,
    });
    d.add(EchoServiceDefinition, echoImpl);
    return d;
  };
  const off = make(false);
  const on = make(true);
  const path = `/${EchoServiceDefinition.fullName}/Echo`;
  const request = EchoRequest.fromPartial({ message: 'hello, 32 bytes of payload text!' });
  // What a Refront client with the defaults sends; a bare client sends nothing.
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const ignoreCancel = (): void => {};
  return {
    'server, defaults off': () =>
      off.invoke(path, { request, metadata: {}, deadline: Date.now() + 10_000, onCancel: ignoreCancel }),
    'server, default interceptor': () =>
      on.invoke(path, {
        request,
        metadata: { traceparent, 'x-refront-caller': 'bench' },
        deadline: Date.now() + 10_000,
        onCancel: ignoreCancel,
      }),
  };
}

export default async function run(): Promise<void> {
  const client = clientVariants();
  const server = serverVariants();
  const rows: Record<string, string>[] = [];
  for (const concurrency of [1, 64]) {
    const c = await compare(client, concurrency);
    const s = await compare(server, concurrency);
    const clientOff = c['client, defaults off']!;
    const serverOff = s['server, defaults off']!;
    const cost = (ns: number, off: number): string => `${((ns - off) / 1000).toFixed(2)} µs`;
    for (const [name, ns] of Object.entries({ ...c, ...s })) {
      const off = name.startsWith('client') ? clientOff : serverOff;
      rows.push({
        concurrency: String(concurrency),
        variant: name,
        'CPU ns/call': ns.toFixed(0),
        'cost of the defaults': name.endsWith('defaults off') ? '-' : cost(ns, off),
        [`vs aim ${AIM_NS / 1000} µs`]: name.endsWith('defaults off')
          ? '-'
          : `${((ns - off) / AIM_NS).toFixed(2)}x`,
      });
    }
  }
  console.table(rows);
}
