/**
 * Quick local echo benchmark (not part of `bench/`): Refront over mux vs Refront over gRPC, every
 * default on, server in a child process, closed loop at concurrency 1 and 64, 32-byte payload.
 *
 *   node --conditions=@refront/source --import tsx packages/transport-mux/bench-local.ts [seconds]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@refront/core';
import { EchoServiceDefinition } from '@refront/test-contracts';
import { createGrpcClient, createGrpcServer } from '@refront/transport-grpc';
import { createMuxClient, createMuxServer } from './src/index.js';

type Lane = 'mux' | 'grpc';
const logger = createLogger({ service: 'bench', level: 'silent' });
const payload = Buffer.alloc(32, 7);

async function serve(lane: Lane): Promise<void> {
  const opts = { service: 'echo', logger, host: '127.0.0.1' };
  const server = lane === 'mux' ? createMuxServer(opts) : createGrpcServer({ ...opts, health: false });
  server.add(EchoServiceDefinition, {
    echo: async (r) => ({ message: r.message, payload: r.payload, seen: {} }),
    sleep: async () => ({ aborted: false }),
    fail: async () => ({}),
  });
  await server.start();
  console.log(`port ${server.port}`);
  const rl = createInterface({ input: process.stdin });
  for await (const _ of rl) {
    const u = process.cpuUsage();
    console.log(`cpu ${u.user + u.system}`);
  }
}

function child(lane: Lane): Promise<{ proc: ChildProcess; port: number; cpu: () => Promise<number> }> {
  const proc = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'serve', lane], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: proc.stdout! });
  const waiters: ((line: string) => void)[] = [];
  lines.on('line', (l) => waiters.shift()?.(l));
  const next = () => new Promise<string>((r) => waiters.push(r));
  return next().then((l) => ({
    proc,
    port: Number(l.split(' ')[1]),
    cpu: async () => {
      const p = next();
      proc.stdin!.write('\n');
      return Number((await p).split(' ')[1]);
    },
  }));
}

async function run(lane: Lane, concurrency: number, seconds: number): Promise<string> {
  const srv = await child(lane);
  const target = `127.0.0.1:${srv.port}`;
  const client =
    lane === 'mux'
      ? createMuxClient(EchoServiceDefinition, { target, caller: 'bench', logger })
      : createGrpcClient(EchoServiceDefinition, { target, caller: 'bench', logger });
  const warmEnd = Date.now() + 1_000;
  const loop = async (until: number, counter: { n: number }) => {
    while (Date.now() < until) {
      await client.echo({ message: 'x', payload });
      counter.n++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => loop(warmEnd, { n: 0 })));
  const counter = { n: 0 };
  const s0 = await srv.cpu();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, () => loop(Date.now() + seconds * 1_000, counter)));
  const elapsed = (performance.now() - t0) / 1000;
  const c1 = process.cpuUsage(c0);
  const s1 = await srv.cpu();
  await client.close();
  srv.proc.kill();
  const rate = counter.n / elapsed;
  const clientUs = (c1.user + c1.system) / counter.n;
  const serverUs = (s1 - s0) / counter.n;
  return `| ${concurrency} | ${lane} | ${Math.round(rate).toLocaleString('en')} | ${clientUs.toFixed(1)} | ${serverUs.toFixed(1)} |`;
}

if (process.argv[2] === 'serve') {
  await serve(process.argv[3] as Lane);
} else {
  const seconds = Number(process.argv[2] ?? 5);
  console.log('| concurrency | lane | calls/s | client CPU µs/call | server CPU µs/call |');
  console.log('|---|---|---|---|---|');
  for (const c of [1, 64])
    for (const lane of ['grpc', 'mux'] as const) console.log(await run(lane, c, seconds));
}
