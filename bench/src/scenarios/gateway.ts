/**
 * HTTP end to end with autocannon: `GET /v1/customers/:id` through the demo's gateway to the
 * tickets service and its PostgreSQL read, and back, as
 *  - the modular monolith (`npm run demo`: in-process transport, here on PostgreSQL),
 *  - the distributed demo on mux and on gRPC (`npm run demo:distributed -- --no-walk`: every
 *    service its own process, mutual TLS between them, its defaults),
 * against the baseline, a bare Fastify route in its own process doing the same read on the same
 * table (bench/src/gateway-bare.ts). Each contender has its own scratch database (dropped at the
 * end) and namespace; the gateways run with their defaults, rate limit included: the requests
 * rotate over 200 tenants (each with its own token and customer) so that no tenant reaches the
 * per-tenant limit of the monolith (600 per minute, not configurable there). Rounds are
 * interleaved after a warm-up; autocannon runs in this process with 16 connections.
 * `--quick` measures the monolith and the baseline only.
 */

import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import autocannon from 'autocannon';
import {
  AMQP_URL,
  cleanBroker,
  demoDir,
  freePort,
  type Started,
  scratchDatabase,
  startUntil,
  stop,
  TSX,
  treeRssMb,
} from '../demo-processes.js';
import { quantile } from '../measure.js';
import { type ContenderFigures, isQuick, pick, recordCase, round } from '../results.js';

const TENANTS = 200;
const CONNECTIONS = 16;
const BARE = 'bare Fastify route + pg';

/** A tenant of the measured gateway: its dev token and customer. */
export interface Tenant {
  readonly tenant: string;
  readonly token: string;
  readonly customerId: string;
}

interface Target {
  readonly name: string;
  readonly url: string;
  readonly pid: number | undefined;
  /** The headers of a request as `t`. */
  readonly headers: (t: Tenant) => Record<string, string>;
  readonly close: () => Promise<unknown>;
}

async function json(url: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Makes `TENANTS` tenants through the gateway: a dev token and a customer each. */
export async function seed(base: string, run: string): Promise<Tenant[]> {
  const tenants: Tenant[] = [];
  for (let i = 0; i < TENANTS; i++) {
    const tenant = `b${run}t${i}`;
    const { token } = (await json(`${base}/v1/dev/tokens`, { tenant, user: 'bench@example.com' })) as {
      token: string;
    };
    const customer = await json(
      `${base}/v1/customers`,
      { name: `Customer ${i}`, hourlyRateMinor: 9_500, currency: 'EUR' },
      token,
    );
    tenants.push({ tenant, token, customerId: customer.id as string });
  }
  return tenants;
}

async function monolith(databaseUrl: string): Promise<{ target: Target; started: Started }> {
  const port = await freePort();
  const started = await startUntil(
    [...TSX, join(demoDir(), 'src/demo.ts')],
    {
      GATEWAY_PORT: String(port),
      OPS_PORT: String(await freePort()),
      // The console stays on, as `npm run demo` runs it, on a port of its own: the distributed
      // demos run their console processes in the same minutes.
      CONSOLE_PORT: String(await freePort()),
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'warn',
    },
    /Serving until Ctrl-C/,
    180_000,
  );
  return {
    started,
    target: {
      name: 'Refront monolith (gateway → in-process)',
      url: `http://127.0.0.1:${port}`,
      pid: started.child.pid,
      headers: (t) => ({ authorization: `Bearer ${t.token}` }),
      close: () => stop(started.child),
    },
  };
}

async function distributed(lane: 'mux' | 'grpc', ns: string, databaseUrl: string): Promise<Target> {
  const port = await freePort();
  // Ranges of ports above the ephemeral ones another helper is likely to hold.
  const base = 20_000 + Math.floor(Math.random() * 8_000);
  const started = await startUntil(
    [...TSX, join(demoDir(), 'src/distributed.ts'), '--no-walk'],
    {
      GATEWAY_PORT: String(port),
      GRPC_BASE_PORT: String(base),
      MUX_BASE_PORT: String(base + 300),
      OPS_BASE_PORT: String(base + 600),
      CONSOLE_PORT: String(await freePort()),
      DATABASE_URL: databaseUrl,
      AMQP_URL,
      AMQP_NAMESPACE: ns,
      REFRONT_RPC: lane,
      // The per-tenant limit stays on (the requests rotate over tenants), this only makes sure
      // the seeding's token requests from one address are not refused.
      RATE_LIMIT_PER_MINUTE: '1000000',
      LOG_LEVEL: 'warn',
    },
    /processes ready/,
    300_000,
  );
  return {
    name: `Refront distributed on ${lane} (gateway → service process)`,
    url: `http://127.0.0.1:${port}`,
    pid: started.child.pid,
    headers: (t) => ({ authorization: `Bearer ${t.token}` }),
    close: () => stop(started.child, 60_000),
  };
}

async function bare(databaseUrl: string): Promise<Target> {
  const child = fork(new URL('../gateway-bare.ts', import.meta.url), [], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    execArgv: process.execArgv.filter((a) => !a.startsWith('--cpu-prof')),
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bare Fastify exited with ${code}`)));
    child.once('message', (m: { port: number }) => resolve(m.port));
  });
  return {
    name: BARE,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    headers: (t) => ({ 'x-tenant': t.tenant }),
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send({ type: 'stop' });
      }),
  };
}

interface Sample {
  readonly perSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly bad: number;
}

/** One autocannon round against `t`, rotating over `tenants`. */
async function cannon(t: Target, tenants: readonly Tenant[], seconds: number): Promise<Sample> {
  let k = Math.floor(Math.random() * tenants.length);
  const result = await autocannon({
    url: t.url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => {
          const tenant = tenants[k++ % tenants.length]!;
          return { ...req, path: `/v1/customers/${tenant.customerId}`, headers: t.headers(tenant) };
        },
      },
    ],
  });
  return {
    perSec: result.requests.average,
    p50Us: result.latency.p50 * 1000,
    p99Us: result.latency.p99 * 1000,
    bad: result.non2xx + result.errors + result.timeouts,
  };
}

export default async function run(): Promise<void> {
  const id = randomBytes(3).toString('hex');
  const ns = `bench25gw${id}`;
  const seconds = pick(8, 3);
  const rounds = pick(3, 1);
  const drops: (() => Promise<void>)[] = [];
  const targets: Target[] = [];
  const tenantsOf = new Map<string, Tenant[]>();
  try {
    const monoDb = await scratchDatabase(`${ns}_mono`);
    drops.push(monoDb.drop);
    const mono = await monolith(monoDb.url);
    targets.push(mono.target);
    const monoTenants = await seed(mono.target.url, id);
    tenantsOf.set(mono.target.name, monoTenants);
    // The baseline reads the rows the monolith wrote, in the same database.
    const b = await bare(monoDb.url);
    targets.unshift(b);
    tenantsOf.set(b.name, monoTenants);
    // GATEWAY_BENCH_DISTRIBUTED=mux or grpc runs one lane only (for a profile); off leaves both out.
    const lanes = (['mux', 'grpc'] as const).filter(
      (l) => (process.env.GATEWAY_BENCH_DISTRIBUTED ?? l) === l,
    );
    if (!isQuick() || process.env.GATEWAY_BENCH_DISTRIBUTED) {
      for (const lane of lanes) {
        const db = await scratchDatabase(`${ns}_${lane}`);
        drops.push(db.drop);
        const t = await distributed(lane, `${ns}${lane}`, db.url);
        targets.push(t);
        tenantsOf.set(t.name, await seed(t.url, `${id}${lane}`));
      }
    } else {
      console.log('--quick: the distributed demo (two topologies of ten processes) is left out');
    }
    for (const t of targets) await cannon(t, tenantsOf.get(t.name)!, Math.min(2, seconds)); // warm-up
    const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
    const rss = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    for (let r = 0; r < rounds; r++) {
      for (const t of targets) {
        samples.get(t.name)!.push(await cannon(t, tenantsOf.get(t.name)!, seconds));
        const mb = await treeRssMb(t.pid);
        if (mb !== null) rss.get(t.name)!.push(mb);
      }
    }
    const figures: ContenderFigures[] = targets.map((t) => {
      const s = samples.get(t.name)!;
      const bad = s.reduce((n, x) => n + x.bad, 0);
      if (bad > 0) console.warn(`${t.name}: ${bad} requests failed or answered other than 2xx`);
      return {
        contender: t.name,
        opsPerSec: Math.round(
          quantile(
            s.map((x) => x.perSec),
            0.5,
          ),
        ),
        p50Us: Math.round(
          quantile(
            s.map((x) => x.p50Us),
            0.5,
          ),
        ),
        p99Us: Math.round(
          quantile(
            s.map((x) => x.p99Us),
            0.5,
          ),
        ),
        rssMb: rss.get(t.name)!.length ? round(quantile(rss.get(t.name)!, 0.5)) : null,
        extra: { failedOrNon2xx: bad },
      };
    });
    const result = recordCase(
      'HTTP GET /v1/customers/:id end to end (gateway → service → PostgreSQL read)',
      BARE,
      `autocannon, ${CONNECTIONS} connections, ${rounds} interleaved rounds of ${seconds} s per contender after a ` +
        '2 s warm-up, median req/s, p50/p99; RSS of the serving process tree (all ten processes when distributed)',
      figures,
    );
    console.table(
      Object.fromEntries(
        result.contenders.map((c) => [
          c.contender,
          {
            'req/s': c.opsPerSec.toLocaleString('en-US'),
            'p50 ms': ((c.p50Us ?? 0) / 1000).toFixed(2),
            'p99 ms': ((c.p99Us ?? 0) / 1000).toFixed(2),
            'RSS MB': c.rssMb ?? '-',
            [`vs ${BARE}`]: `${c.ratio?.toFixed(2)}x`,
          },
        ]),
      ),
    );
    console.log('aims (issue 25): monolith ≥ 0.50x the bare route, distributed ≥ 0.35x');
  } finally {
    for (const t of targets) await t.close().catch(() => {});
    for (const d of drops) await d().catch(() => {});
    await cleanBroker(ns).catch(() => {});
  }
}
