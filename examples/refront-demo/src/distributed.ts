/**
 * `npm run demo:distributed`: every service as its own process on loopback (invoicing with 3
 * instances), against the local RabbitMQ and PostgreSQL; waits until all are ready, runs the same
 * walk as `npm run demo`, and stops them all cleanly on exit or Ctrl-C. Requests go on mux, the
 * default lane, or on gRPC with `REFRONT_RPC=grpc`; every service serves both.
 * `npm run demo:distributed -- --once` exits 0 after the walk.
 */
import { openDatabase } from '@refront/data';
import { connect } from 'amqplib';
import { LocalTopology } from './platform/localTopology.js';
import { DEFAULT_RPC_LANE, RPC_LANES } from './platform/rpcLane.js';
import { walk } from './walk.js';

const ONCE = process.argv.includes('--once');
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
// As serve.ts reads it: empty is unset, anything but a lane is refused.
const RPC = process.env.REFRONT_RPC?.trim() || DEFAULT_RPC_LANE;
const lane = RPC_LANES.find((l) => l === RPC);
if (!lane) {
  console.error(`REFRONT_RPC=${RPC} is not one of ${RPC_LANES.join(', ')}.`);
  process.exit(1);
}

const topology = new LocalTopology({
  databaseUrl: DATABASE_URL,
  amqpUrl: AMQP_URL,
  namespace: process.env.AMQP_NAMESPACE ?? 'refront',
  gatewayPort: Number(process.env.GATEWAY_PORT ?? 8080),
  grpcBasePort: Number(process.env.GRPC_BASE_PORT ?? 25_051),
  opsBasePort: Number(process.env.OPS_BASE_PORT ?? 9_471),
  instances: { invoicing: 3 },
  rpc: lane,
});
const procs = topology.processes;

async function preflight(): Promise<void> {
  const problems: string[] = [];
  try {
    const db = await openDatabase({
      schema: 'refront_preflight',
      url: DATABASE_URL,
      connectTimeoutMs: 3_000,
    });
    await db.close();
  } catch (e) {
    problems.push(
      `PostgreSQL is not reachable at ${DATABASE_URL} (${(e as Error).message}).\n` +
        '  Start it (Debian: pg_ctlcluster 15 main start) or set DATABASE_URL.',
    );
  }
  try {
    const c = await connect(AMQP_URL);
    await c.close();
  } catch (e) {
    problems.push(
      `RabbitMQ is not reachable at ${AMQP_URL} (${(e as Error).message}).\n` +
        '  Start it (rabbitmq-server -detached) or set AMQP_URL.',
    );
  }
  if (problems.length > 0) {
    console.error(`The distributed demo needs a broker and a database:\n${problems.join('\n')}`);
    process.exit(1);
  }
}

let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    const stopped = await topology.stopAll();
    console.log(`Stopped ${stopped} processes.`);
  }
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

await preflight();
const t0 = performance.now();
try {
  await topology.startAll();
} catch (e) {
  console.error(`The distributed demo could not start: ${(e as Error).message}`);
  await stopAll(1);
}
console.log(
  `Refront demo, distributed: ${procs.length} processes ready (requests on ${topology.rpc}) in ${(performance.now() - t0).toFixed(0)} ms ` +
    `(${procs.map((p) => `${p.service}${p.grpcPort ? `:${p.grpcPort}/${p.muxPort}` : ''}`).join(', ')}; ports gRPC/mux)\n`,
);
try {
  const result = await walk({
    baseUrl: topology.gatewayUrl,
    print: (l) => console.log(l),
    settle: () => topology.settle(),
    tenant: `acme-${Date.now().toString(36)}`,
  });
  console.log(
    `\nWalk done: ${result.ticketIds.length} tickets, invoice total ${(result.totalMinor / 100).toFixed(2)}.`,
  );
} catch (e) {
  console.error(`The walk failed: ${(e as Error).message}`);
  await stopAll(1);
}
console.log(`API: ${topology.gatewayUrl}/v1   docs: ${topology.gatewayUrl}/docs`);
console.log(`Ops: ${procs.map((p) => `${p.service} http://127.0.0.1:${p.opsPort}/metrics`).join('\n     ')}`);
if (ONCE) await stopAll(0);
else console.log('Serving until Ctrl-C.');
