/**
 * In-process request with the default interceptors (client: context, span, metrics; server:
 * context + deadline, span, metrics) against a bare awaited function call, in the same run.
 */
import { createClient, createInProcessNetwork, createLogger, createMetricsRegistry } from '@refront/core';
import { type EchoRequest, EchoServiceDefinition } from '@refront/test-contracts';
import { echoImpl } from '../echoImpl.js';
import { compareSequential, printTable } from '../measure.js';

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
  const bare = (req: Partial<EchoRequest>) => echoImpl.echo(req as EchoRequest, undefined as never);
  const request = { message: 'hello, 32 bytes of payload text!' };
  const timings = await compareSequential(
    {
      'bare await': () => bare(request),
      'refront in-process (protobuf copy, default)': () => client.echo(request),
      'refront in-process (copyMessages: false)': () => sharedClient.echo(request),
    },
    { iterations: 200_000, rounds: 5 },
  );
  printTable(timings, 'bare await');
  await copying.server.close();
  await sharing.server.close();
}
