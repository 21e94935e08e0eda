/**
 * `npm run demo:distributed`: every service as its own process on loopback (invoicing with 3
 * instances), against the local RabbitMQ and PostgreSQL; waits until all are ready, runs the same
 * walk as `npm run demo`, and stops them all cleanly on exit or Ctrl-C. Requests go on mux, the
 * default lane, or on gRPC with `REFRONT_RPC=grpc`; every service serves both.
 * `npm run demo:distributed -- --once` exits 0 after the walk; `-- --no-walk` only starts and serves.
 * The processes run in their own process groups: one Ctrl-C drains every one of them, then exits 0.
 * Services call each other over mutual TLS with development certificates made at start (a fresh
 * CA, deleted on exit) and serve only the callers their modules declare; `MTLS=off` runs plaintext.
 */
import { openDatabase } from '@refront/data';
import { connect } from 'amqplib';
import { LocalTopology } from './platform/localTopology.js';
import { DEFAULT_RPC_LANE, RPC_LANES } from './platform/rpcLane.js';
import { walk } from './walk.js';

const ONCE = process.argv.includes('--once');
const WALK = !process.argv.includes('--no-walk');
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
  ...(process.env.MUX_BASE_PORT ? { muxBasePort: Number(process.env.MUX_BASE_PORT) } : {}),
  instances: { invoicing: 3 },
  rpc: lane,
  // Mutual TLS between the services with a fresh development CA, unless MTLS=off.
  mtls: process.env.MTLS?.trim() !== 'off',
  // The console as a process of its own, unless REFRONT_CONSOLE=0.
  ...(process.env.REFRONT_CONSOLE === '0' ? {} : { consolePort: Number(process.env.CONSOLE_PORT ?? 4318) }),
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

// The children run in their own process groups (LocalTopology), so Ctrl-C reaches this process
// only: the first SIGINT or SIGTERM sends each child one SIGTERM, waits until every one drained
// and exited, and exits 0; a second one SIGKILLs them and exits 130. A child whose parent dies
// without stopping it stops on its own.
let stopped: Promise<void> | undefined;
let exitCode: number | undefined;
async function stopAll(code: number): Promise<never> {
  exitCode ??= code;
  stopped ??= topology.stopAll().then((n) => console.log(`Stopped ${n} processes.`));
  await stopped;
  process.exit(exitCode);
}
function onSignal(signal: NodeJS.Signals): void {
  if (stopped) {
    console.error(`${signal} again: killing the processes without waiting for their drain.`);
    for (const p of procs) if (p.running) p.child?.kill('SIGKILL');
    process.exit(130);
  }
  console.log(`${signal}: stopping ${procs.filter((p) => p.running).length} processes (each drains first).`);
  void stopAll(0);
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

await preflight();
const t0 = performance.now();
try {
  await topology.startAll();
} catch (e) {
  if (!stopped) console.error(`The distributed demo could not start: ${(e as Error).message}`);
  await stopAll(1);
}
console.log(
  `Refront demo, distributed: ${procs.length} processes ready (requests on ${topology.rpc}) in ${(performance.now() - t0).toFixed(0)} ms ` +
    `(${procs.map((p) => `${p.service}${p.grpcPort ? `:${p.grpcPort}/${p.muxPort}` : ''}`).join(', ')}; ports gRPC/mux)`,
);
// The page keeps the token for the tab once opened with ?token= (docs/console.md).
const consolePage = topology.consoleUrl && `${topology.consoleUrl}/?token=${topology.consoleToken}`;
if (consolePage) console.log(`Console: ${consolePage}  (traces, services, API explorer, flow, dead letters)`);
console.log('');
if (WALK) {
  try {
    const result = await walk({
      baseUrl: topology.gatewayUrl,
      print: (l) => console.log(l),
      settle: () => topology.settle(),
      tenant: `acme-${Date.now().toString(36)}`,
      ...(consolePage ? { traceUrl: (traceId: string) => `${consolePage}#/traces/${traceId}` } : {}),
    });
    console.log(
      `\nWalk done: ${result.ticketIds.length} tickets, invoice total ${(result.totalMinor / 100).toFixed(2)}.`,
    );
  } catch (e) {
    // Calls in flight fail once Ctrl-C stops the processes: that is not the walk failing.
    if (!stopped) console.error(`The walk failed: ${(e as Error).message}`);
    await stopAll(1);
  }
}
console.log(`API: ${topology.gatewayUrl}/v1   docs: ${topology.gatewayUrl}/docs`);
const certs = await topology.certificates();
if (certs) {
  console.log(
    `mTLS: every service port requires a certificate from ${certs.caFile}; ` +
      `call them as the gateway with ${certs.files('gateway').certFile} (.key beside it).`,
  );
}
console.log(`Ops: ${procs.map((p) => `${p.service} http://127.0.0.1:${p.opsPort}/metrics`).join('\n     ')}`);
if (ONCE) await stopAll(0);
else console.log('Serving until Ctrl-C.');
