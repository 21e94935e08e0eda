/**
 * In-process request with the default interceptors (client: context, span, metrics; server:
 * context + deadline, span, metrics) against a bare awaited function call, in the same run.
 */
import {
  createClient,
  createInProcessNetwork,
  createLogger,
  createMetricsRegistry,
  type ServiceImplementation,
} from '@refront/core';
import { type EchoRequest, EchoServiceDefinition } from '@refront/test-contracts';
import { compareSequential, printTable } from '../measure.js';

const impl: ServiceImplementation<typeof EchoServiceDefinition> = {
  async echo(req) {
    return { message: req.message };
  },
  async sleep() {
    return { aborted: false };
  },
  async fail() {
    return {};
  },
};

export default async function run(): Promise<void> {
  const logger = createLogger({ service: 'bench', level: 'silent' });
  const metrics = createMetricsRegistry({ processMetrics: false });
  const make = (copyMessages: boolean) => {
    const network = createInProcessNetwork({ copyMessages });
    const server = network.createServer({ service: 'echo', logger, metrics });
    server.add(EchoServiceDefinition, impl);
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
  const bare = (req: Partial<EchoRequest>) => impl.echo(req as EchoRequest, undefined as never);
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
