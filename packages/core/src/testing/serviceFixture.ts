/**
 * A real service process for lifecycle tests: an HTTP front calling an in-process Echo server.
 * Prints one JSON line `{"ready":true,"port":…,"ops":…}` once ready.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EchoServiceDefinition } from '@refront/test-contracts';
import { z } from 'zod';
import { createClient } from '../createClient.js';
import { isRefrontError } from '../errors.js';
import { createInProcessNetwork } from '../InProcessNetwork.js';
import { createService } from '../Service.js';
import { echoImplementation } from './echo.js';

function graceFromEnv(): number {
  const g = Number(process.env.FIXTURE_GRACE_MS ?? 3_000);
  return Number.isFinite(g) && g >= 0 ? g : 3_000;
}

const service = createService({
  name: 'fixture',
  version: '1.0.0',
  config: z.object({
    FIXTURE_PORT: z.coerce.number().int().min(0).max(65535),
    FIXTURE_MODE: z.enum(['normal', 'strict']),
    FIXTURE_GRACE_MS: z.coerce.number().int().min(0).default(3_000),
  }),
  gracePeriodMs: graceFromEnv(),
});

const network = createInProcessNetwork();
const rpc = network.createServer({ service: 'fixture', logger: service.logger, metrics: service.metrics });
rpc.add(EchoServiceDefinition, echoImplementation);
const client = createClient(EchoServiceDefinition, network.channel(), {
  caller: 'http',
  metrics: service.metrics,
});

let draining = false;
let inflight = 0;
let idle: (() => void) | undefined;
const http = createServer((req, res) => {
  if (draining) {
    res.writeHead(503, { connection: 'close' }).end('{"error":"draining"}');
    return;
  }
  inflight++;
  const url = new URL(req.url ?? '/', 'http://x');
  const ms = Number(url.searchParams.get('ms') ?? 0);
  // Tests wait for this line before they signal the process, instead of for a guessed time.
  process.stdout.write(`${JSON.stringify({ accepted: ms })}\n`);
  client
    .sleep({ durationMs: ms }, { timeoutMs: 60_000 })
    .then((r) => res.writeHead(200).end(JSON.stringify(r)))
    .catch((e: unknown) =>
      res.writeHead(isRefrontError(e) ? e.httpStatus : 500).end(JSON.stringify({ error: String(e) })),
    )
    .finally(() => {
      inflight--;
      if (inflight === 0) idle?.();
    });
});

service.use({
  name: 'rpc',
  start: () => rpc.start(),
  drain: (signal) => rpc.drain(signal),
  close: () => rpc.close(),
});
service.use({
  name: 'http',
  start: () => new Promise<void>((resolve) => http.listen(service.config.FIXTURE_PORT, '127.0.0.1', resolve)),
  ready: () => http.listening,
  drain: async (signal) => {
    draining = true;
    http.close();
    http.closeIdleConnections();
    if (inflight > 0)
      await new Promise<void>((resolve) => {
        idle = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
  },
  close: async () => {
    http.closeAllConnections();
  },
});

await service.start();
process.stdout.write(
  `${JSON.stringify({ ready: true, port: (http.address() as AddressInfo).port, ops: service.opsAddress?.port })}\n`,
);
