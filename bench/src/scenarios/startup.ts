/**
 * Start-up: the time from spawning a process to its ready line, and its resident set size once it
 * has been idle for 2 s after that, for
 *  - one service of the distributed demo (tickets) on PostgreSQL and RabbitMQ, run as the image
 *    runs it (the tsup bundle `examples/refront-demo/dist/serve/serve.mjs` on the packages'
 *    `dist`, decision 0081; built here first when it is missing) and as development runs it
 *    (`serve.ts` under tsx on the packages' sources);
 *  - the whole monolith demo (`npm run demo`: embedded PGlite, every module, the gateway), until
 *    its "ready" line; its RSS is taken once its scripted walk has run and it idles.
 * The service's schema is made by a first start that is not counted (a warm-up); every contender
 * then starts in turn, rounds interleaved. ops/s here is starts per second (1000 / ms to ready).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  AMQP_URL,
  cleanBroker,
  demoDir,
  freePort,
  scratchDatabase,
  startUntil,
  stop,
  TSX,
  treeRssMb,
} from '../demo-processes.js';
import { quantile } from '../measure.js';
import { isQuick, pick, recordCase, round } from '../results.js';

const BUNDLE = 'one service (tickets), image bundle';
const SERVICE_TSX = 'one service (tickets), tsx';
const MONOLITH = 'monolith demo (npm run demo)';

interface Kind {
  readonly name: string;
  /** Starts once; resolves with ms to ready and the idle RSS, the process stopped again. */
  readonly once: () => Promise<{ readyMs: number; rssMb: number | null }>;
}

/** Builds the image's bundle of serve.ts when it is not there (as the Dockerfile's build stage does). */
async function bundle(): Promise<string | undefined> {
  const file = join(demoDir(), 'dist/serve/serve.mjs');
  if (existsSync(file)) return file;
  const root = join(demoDir(), '../..');
  console.log('building the image bundle (tsup --config deploy/tsup.config.ts)…');
  try {
    await promisify(execFile)('npx', ['tsup', '--config', 'deploy/tsup.config.ts'], {
      cwd: root,
      timeout: 300_000,
    });
  } catch (e: unknown) {
    console.warn(`the bundle could not be built: ${(e as Error).message}`);
    return undefined;
  }
  return existsSync(file) ? file : undefined;
}

function service(name: string, args: readonly string[], databaseUrl: string, ns: string): Kind {
  return {
    name,
    once: async () => {
      const env = {
        SERVICE: 'tickets',
        DATABASE_URL: databaseUrl,
        AMQP_URL,
        AMQP_NAMESPACE: ns,
        AMQP_OWNERSHIP: 'off',
        MTLS: 'off',
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: String(await freePort()),
        MUX_PORT: String(await freePort()),
        OPS_PORT: String(await freePort()),
        LOG_LEVEL: 'info',
      };
      const s = await startUntil(args, env, /"msg":"ready"/, 120_000);
      await sleep(2_000);
      const rssMb = await treeRssMb(s.child.pid);
      await stop(s.child);
      return { readyMs: s.readyMs, rssMb };
    },
  };
}

function monolith(): Kind {
  return {
    name: MONOLITH,
    once: async () => {
      const s = await startUntil(
        [...TSX, join(demoDir(), 'src/demo.ts')],
        {
          GATEWAY_PORT: String(await freePort()),
          OPS_PORT: String(await freePort()),
          CONSOLE_PORT: String(await freePort()),
          LOG_LEVEL: 'warn',
        },
        /modular monolith ready/,
        120_000,
      );
      // Its walk runs after the ready line; RSS is taken once that is done and it idles.
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (s.output.some((l) => /Serving until Ctrl-C/.test(l)) || s.child.exitCode !== null) {
            clearInterval(check);
            resolve();
          }
        }, 100);
      });
      await sleep(2_000);
      const rssMb = await treeRssMb(s.child.pid);
      await stop(s.child);
      return { readyMs: s.readyMs, rssMb };
    },
  };
}

export default async function run(): Promise<void> {
  const ns = `bench25st${randomBytes(3).toString('hex')}`;
  const rounds = pick(3, 1);
  const db = await scratchDatabase(ns);
  try {
    const kinds: Kind[] = [];
    const file = await bundle();
    if (file) kinds.push(service(BUNDLE, [file], db.url, ns));
    else console.warn(`${BUNDLE}: left out (no bundle)`);
    const tsx = service(SERVICE_TSX, [...TSX, join(demoDir(), 'src/serve.ts')], db.url, ns);
    kinds.push(tsx, monolith());
    if (!isQuick()) await tsx.once(); // warm-up: makes the schema, fills tsx's cache
    const samples = new Map<string, { readyMs: number; rssMb: number | null }[]>(
      kinds.map((k) => [k.name, []]),
    );
    for (let r = 0; r < rounds; r++) for (const k of kinds) samples.get(k.name)!.push(await k.once());
    const result = recordCase(
      'start to ready, and idle RSS',
      kinds[0]!.name,
      `${rounds} interleaved starts per contender after a warm-up start, median; ops/s is starts/s (1000 / ms to ready); ` +
        'RSS after 2 s idle (the monolith: after its walk)',
      kinds.map((k) => {
        const s = samples.get(k.name)!;
        const ms = quantile(
          s.map((x) => x.readyMs),
          0.5,
        );
        const rss = s.map((x) => x.rssMb).filter((x): x is number => x !== null);
        return {
          contender: k.name,
          opsPerSec: round(1000 / ms, 3),
          p50Us: null,
          p99Us: null,
          rssMb: rss.length ? round(quantile(rss, 0.5)) : null,
          extra: { readyMs: Math.round(ms) },
        };
      }),
    );
    console.table(
      Object.fromEntries(
        result.contenders.map((c) => [
          c.contender,
          { 'ms to ready': c.extra?.readyMs, 'idle RSS MB': c.rssMb ?? '-' },
        ]),
      ),
    );
    console.log('aims (issue 25): one service < 1,000 ms and < 80 MB; the monolith < 3,000 ms');
  } finally {
    await db.drop();
    await cleanBroker(ns).catch(() => {});
  }
}
