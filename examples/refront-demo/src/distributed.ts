/**
 * `npm run demo:distributed`: every service as its own process on loopback (invoicing with 3
 * instances), against the local RabbitMQ and PostgreSQL; waits until all are ready, runs the same
 * walk as `npm run demo`, and stops them all cleanly on exit or Ctrl-C.
 * `npm run demo:distributed -- --once` exits 0 after the walk.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '@refront/data';
import { connect } from 'amqplib';
import { PLATFORM_MODULES } from './platform/startPlatform.js';
import { walk } from './walk.js';

const ONCE = process.argv.includes('--once');
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const GATEWAY_PORT = Number(process.env.GATEWAY_PORT ?? 8080);
const INVOICING_INSTANCES = 3;

/** One process of the topology. */
interface Proc {
  readonly service: string;
  readonly grpcPort: number;
  readonly opsPort: number;
  child?: ChildProcess;
}

const procs: Proc[] = [];
let port = Number(process.env.GRPC_BASE_PORT ?? 50_051);
let ops = Number(process.env.OPS_BASE_PORT ?? 9_471);
for (const m of PLATFORM_MODULES) {
  const n = m.name === 'invoicing' ? INVOICING_INSTANCES : 1;
  for (let i = 0; i < n; i++) procs.push({ service: m.name, grpcPort: port++, opsPort: ops++ });
}
const endpoints = PLATFORM_MODULES.map(
  (m) =>
    `${m.name}=${procs
      .filter((p) => p.service === m.name)
      .map((p) => `127.0.0.1:${p.grpcPort}`)
      .join(',')}`,
).join(';');
procs.push({ service: 'gateway', grpcPort: 0, opsPort: ops++ });

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

function start(p: Proc): void {
  const entry = fileURLToPath(new URL('./serve.ts', import.meta.url));
  p.child = spawn(process.execPath, ['--conditions=@refront/source', '--import', 'tsx', entry], {
    env: {
      ...process.env,
      SERVICE: p.service,
      DATABASE_URL,
      AMQP_URL,
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(p.grpcPort),
      OPS_PORT: String(p.opsPort),
      GATEWAY_PORT: String(GATEWAY_PORT),
      GATEWAY_HOST: '127.0.0.1',
      DEV_AUTH: 'true',
      JWT_SECRET: process.env.JWT_SECRET ?? 'refront-demo-distributed-secret-0123456789',
      REFRONT_ENDPOINTS: endpoints,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

async function waitReady(p: Proc, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (p.child?.exitCode !== null) throw new Error(`${p.service} exited with ${p.child?.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${p.opsPort}/readyz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until)
      throw new Error(`${p.service} (ops ${p.opsPort}) not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until no outbox holds an event and no consumer queue holds a message, three looks in a row. */
async function settle(): Promise<void> {
  const dbs = await Promise.all(
    PLATFORM_MODULES.map((m) => openDatabase({ schema: m.name.replace('-', '_'), url: DATABASE_URL })),
  );
  const conn = await connect(AMQP_URL);
  conn.on('error', () => {});
  try {
    let quiet = 0;
    const until = Date.now() + 30_000;
    while (quiet < 3) {
      let pending = 0;
      for (const db of dbs)
        pending += Number(
          (await db.query<{ n: number }>('select count(*)::int as n from refront_outbox')).rows[0]?.n ?? 0,
        );
      for (const m of PLATFORM_MODULES) {
        // A module without consumers has no queue: checkQueue then closes its channel, so one channel per look.
        const ch = await conn.createChannel();
        ch.on('error', () => {});
        const q = await ch.checkQueue(`refront.${m.name}`).catch(() => undefined);
        pending += q?.messageCount ?? 0;
        if (q) await ch.close().catch(() => {});
      }
      quiet = pending === 0 ? quiet + 1 : 0;
      if (Date.now() > until) throw new Error('events still pending after 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await conn.close();
    for (const db of dbs) await db.close();
  }
}

let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    const alive = procs.filter((p) => p.child && p.child.exitCode === null);
    for (const p of alive) p.child?.kill('SIGTERM');
    await Promise.all(alive.map((p) => once(p.child as ChildProcess, 'exit')));
    console.log(`Stopped ${alive.length} processes.`);
  }
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

await preflight();
const t0 = performance.now();
for (const p of procs.filter((x) => x.service !== 'gateway')) start(p);
try {
  await Promise.all(procs.filter((x) => x.service !== 'gateway').map((p) => waitReady(p)));
  const gateway = procs.find((x) => x.service === 'gateway') as Proc;
  start(gateway);
  await waitReady(gateway);
} catch (e) {
  console.error(`The distributed demo could not start: ${(e as Error).message}`);
  await stopAll(1);
}
console.log(
  `Refront demo, distributed: ${procs.length} processes ready in ${(performance.now() - t0).toFixed(0)} ms ` +
    `(${procs.map((p) => `${p.service}${p.grpcPort ? `:${p.grpcPort}` : ''}`).join(', ')})\n`,
);
try {
  const result = await walk({
    baseUrl: `http://127.0.0.1:${GATEWAY_PORT}`,
    print: (l) => console.log(l),
    settle,
    tenant: `acme-${Date.now().toString(36)}`,
  });
  console.log(
    `\nWalk done: ${result.ticketIds.length} tickets, invoice total ${(result.totalMinor / 100).toFixed(2)}.`,
  );
} catch (e) {
  console.error(`The walk failed: ${(e as Error).message}`);
  await stopAll(1);
}
console.log(`API: http://127.0.0.1:${GATEWAY_PORT}/v1   docs: http://127.0.0.1:${GATEWAY_PORT}/docs`);
console.log(`Ops: ${procs.map((p) => `${p.service} http://127.0.0.1:${p.opsPort}/metrics`).join('\n     ')}`);
if (ONCE) await stopAll(0);
else console.log('Serving until Ctrl-C.');
