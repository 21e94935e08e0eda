/**
 * CPU per gateway request of the modular monolith, as `npm run demo` runs it (console on), read
 * with `process.cpuUsage()` in the monolith's own process around a fixed number of requests that
 * a separate client process sends: the client's work is not counted, and the figure moves far
 * less with the machine's load than throughput does. Each round ends with `flushTraces()`, so the
 * spans of its requests are exported (to the console) inside the round.
 *
 *   node --conditions=@refront/source --import tsx bench/src/probes/gateway-cpu-probe.ts [requests] [rounds]
 *
 * `GET /v1/customers/:id` through the gateway to the tickets service and its PostgreSQL read (a
 * scratch database, dropped at the end), rotating over the gateway scenario's 200 tenants so that none
 * reaches the per-tenant limit; 16 connections; a warm-up round first. `PROBE_PLATFORM` names another
 * `startPlatform.ts` (another checkout's) to measure it with the same probe.
 */

import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { demoDir, scratchDatabase } from '../demo-processes.js';
import { quantile } from '../measure.js';
import { seed, type Tenant } from '../scenarios/gateway.js';

const CONNECTIONS = 16;

/** What the probe uses of the demo's `startPlatform` (imported by path: this or another checkout's). */
interface Platform {
  readonly gatewayUrl: string;
  readonly console: { readonly store: { readonly size: number } } | undefined;
  flushTraces(): Promise<void>;
  stop(): Promise<void>;
}
type StartPlatform = (options: {
  gatewayPort: number;
  opsPort: false;
  databaseUrl: string;
  console: { port: number };
}) => Promise<Platform>;

interface ClientJob {
  readonly url: string;
  readonly requests: number;
  readonly tenants: readonly Tenant[];
}

/** The client process: sends `requests` requests with autocannon, answers the count of non-2xx. */
async function client(job: ClientJob): Promise<number> {
  let k = 0;
  const result = await autocannon({
    url: job.url,
    connections: CONNECTIONS,
    amount: job.requests,
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => {
          const t = job.tenants[k++ % job.tenants.length] as Tenant;
          return {
            ...req,
            path: `/v1/customers/${t.customerId}`,
            headers: { authorization: `Bearer ${t.token}` },
          };
        },
      },
    ],
  });
  return result.non2xx + result.errors + result.timeouts;
}

/** Runs one job in a child process and resolves once it is done. */
function inClient(job: ClientJob): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['client'], { execArgv: process.execArgv });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (m: { bad: number }) => {
      child.kill();
      if (m.bad > 0) reject(new Error(`${m.bad} of ${job.requests} requests failed`));
      else resolve();
    });
    child.send(job);
  });
}

async function main(): Promise<void> {
  const requests = Number(process.argv[2] ?? 3000);
  const rounds = Number(process.argv[3] ?? 7);
  const module = process.env.PROBE_PLATFORM ?? join(demoDir(), 'src/platform/startPlatform.ts');
  const { startPlatform } = (await import(pathToFileURL(module).href)) as { startPlatform: StartPlatform };
  const db = await scratchDatabase(`probe_gw_${randomBytes(3).toString('hex')}`);
  const platform = await startPlatform({
    gatewayPort: 0,
    opsPort: false,
    databaseUrl: db.url,
    console: { port: 0 },
  });
  try {
    const tenants = await seed(platform.gatewayUrl, randomBytes(3).toString('hex'));
    const job = { url: platform.gatewayUrl, requests, tenants };
    await inClient(job); // warm-up
    await platform.flushTraces();
    const perRequest: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const before = process.cpuUsage();
      await inClient(job);
      await platform.flushTraces();
      const used = process.cpuUsage(before);
      perRequest.push((used.user + used.system) / requests);
      console.log(`round ${r + 1}: ${perRequest[r]?.toFixed(1)} µs CPU per request`);
    }
    const sorted = [...perRequest].sort((a, b) => a - b);
    console.log(
      `${module}: ${requests} requests × ${rounds} rounds, µs CPU per request: median ${quantile(sorted, 0.5).toFixed(1)}, min ${sorted[0]?.toFixed(1)}, max ${sorted[sorted.length - 1]?.toFixed(1)}; traces in the console: ${platform.console?.store.size}`,
    );
  } finally {
    await platform.stop();
    await db.drop();
  }
}

if (process.argv[2] === 'client') {
  process.once('message', (job: ClientJob) => {
    void client(job).then((bad) => process.send?.({ bad }));
  });
} else {
  await main();
  process.exit(0);
}
