/**
 * In-process request, one call at a time: Refront's in-process transport with the default
 * interceptors (client: context, span, metrics; server: context + deadline, span, metrics) with
 * its default protobuf copy and with `copyMessages: false`; Moleculer 0.14's local call
 * (`broker.call` to a service of the same broker, no transporter) with its metrics and tracing on
 * and with them off (its default); and a direct awaited function call, the baseline. Rounds are
 * interleaved after a warm-up; each figure is the median of the rounds, p50/p99 are those of the
 * mean of batches of 64 calls.
 */
import { createClient, createInProcessNetwork, createLogger, createMetricsRegistry } from '@refront/core';
import { type EchoRequest, EchoServiceDefinition } from '@refront/test-contracts';
import { echoImpl } from '../echoImpl.js';
import { compareSequential, printTable, recordTimings } from '../measure.js';
import { pick } from '../results.js';

const BARE = 'direct function call';
const REFRONT = 'Refront in-process (defaults)';
const MOLECULER_ON = 'Moleculer local call, metrics+tracing on';

async function moleculerBroker(observed: boolean) {
  const { ServiceBroker } = await import('moleculer');
  const broker = new ServiceBroker({
    nodeID: `bench-local-${observed ? 'observed' : 'plain'}`,
    logger: false,
    // Metrics on: Moleculer's own registry counting every request (no reporter, so nothing is
    // exported); tracing on: a span per call, kept by no exporter. Off is Moleculer's default.
    metrics: { enabled: observed },
    tracing: { enabled: observed },
  });
  broker.createService({
    name: 'echo',
    actions: { echo: (ctx: { params: { message: string } }) => ({ message: ctx.params.message }) },
  });
  await broker.start();
  return broker;
}

export default async function run(): Promise<void> {
  const logger = createLogger({ service: 'bench', level: 'silent' });
  const metrics = createMetricsRegistry({ processMetrics: false });
  const make = (copyMessages: boolean) => {
    const network = createInProcessNetwork({ copyMessages });
    const server = network.createServer({ service: 'echo', logger, metrics });
    server.add(EchoServiceDefinition, echoImpl);
    return { network, server };
  };
  const copying = make(true);
  const sharing = make(false);
  await copying.server.start();
  await sharing.server.start();
  const client = createClient(EchoServiceDefinition, copying.network.channel(), { caller: 'bench', metrics });
  const sharedClient = createClient(EchoServiceDefinition, sharing.network.channel(), {
    caller: 'bench',
    metrics,
  });
  const observed = await moleculerBroker(true);
  const plain = await moleculerBroker(false);
  const bare = (req: Partial<EchoRequest>) => echoImpl.echo(req as EchoRequest, undefined as never);
  const request = { message: 'hello, 32 bytes of payload text!' };
  // INPROC_BENCH_ITERATIONS: calls per round (and per warm-up), for a smoke run of the scenario.
  const iterations = Number(process.env.INPROC_BENCH_ITERATIONS ?? pick(200_000, 40_000));
  const rounds = pick(7, 3);
  try {
    const variants: Record<string, () => Promise<unknown>> = {
      [BARE]: () => bare(request),
      [REFRONT]: () => client.echo(request),
      'Refront in-process (copyMessages: false)': () => sharedClient.echo(request),
      [MOLECULER_ON]: () => observed.call('echo.echo', request),
      'Moleculer local call (its defaults: off)': () => plain.call('echo.echo', request),
    };
    // INPROC_BENCH_ONLY=refront keeps Refront's default lane alone, for a CPU profile of it.
    if (process.env.INPROC_BENCH_ONLY === 'refront')
      for (const k of Object.keys(variants)) if (k !== REFRONT) delete variants[k];
    const timings = await compareSequential(variants, {
      iterations,
      rounds,
      warmup: Math.min(iterations, pick(50_000, 10_000)),
    });
    printTable(timings, BARE);
    const of = (name: string) => timings.find((t) => t.name === name);
    const refront = of(REFRONT);
    const mol = of(MOLECULER_ON);
    if (refront && mol) {
      console.log(
        `aim (issue 25): Refront in-process ≥ 500k calls/s (≤ 2 µs added) and ≥ Moleculer with metrics+tracing: ` +
          `${Math.round(refront.opsPerSec).toLocaleString('en-US')} calls/s, ` +
          `${((refront.nsPerOp - (of(BARE)?.nsPerOp ?? 0)) / 1000).toFixed(2)} µs added, ` +
          `${(refront.opsPerSec / mol.opsPerSec).toFixed(2)}x Moleculer`,
      );
    }
    recordTimings(
      'in-process call, 32 B, one at a time',
      BARE,
      `${rounds} interleaved rounds of ${iterations} sequential calls after a warm-up, median; p50/p99 of 64-call batch means; one process`,
      timings,
    );
  } finally {
    await copying.server.close();
    await sharing.server.close();
    await observed.stop();
    await plain.stop();
  }
}
