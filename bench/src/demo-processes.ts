/**
 * What the `gateway` and `startup` scenarios share: the demo's entry points (found through
 * `@refront/demo`'s package.json, never by a path into its folder), a process started and waited
 * for until a line of its output says it is ready, the RSS of a process and its descendants, a
 * scratch PostgreSQL database per contender, and the broker objects a run leaves behind.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { connect } from 'amqplib';
import pg from 'pg';

/** PostgreSQL server URL without a database (REFRONT_PG_URL or the local one). */
export const PG_SERVER = process.env.REFRONT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
/** RabbitMQ URL (REFRONT_AMQP_URL or the local one). */
export const AMQP_URL = process.env.REFRONT_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** The demo's root folder, resolved as a dependency. */
export function demoDir(): string {
  return dirname(createRequire(import.meta.url).resolve('@refront/demo/package.json'));
}

/** Node flags that run the demo's TypeScript as `npm run demo` does. */
export const TSX = ['--conditions=@refront/source', '--import', 'tsx'];

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A started process and how long it took to print its ready line. */
export interface Started {
  readonly child: ChildProcess;
  /** ms from spawn to the ready line. */
  readonly readyMs: number;
  /** Everything it printed so far (kept for errors). */
  readonly output: string[];
}

/**
 * Spawns `node args` with `env` over this process's, and resolves once a line of its stdout or
 * stderr matches `ready`; rejects when it exits first or after `timeoutMs`.
 */
export function startUntil(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  ready: RegExp,
  timeoutMs: number,
): Promise<Started> {
  const t0 = performance.now();
  // BENCH_CPU_PROF_DIR: the process started here writes a CPU profile there when it exits (Node 20
  // refuses --cpu-prof in NODE_OPTIONS, so the processes it starts in turn are not profiled).
  const dir = process.env.BENCH_CPU_PROF_DIR;
  const profiling = dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
  const child = spawn(process.execPath, [...profiling, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready after ${timeoutMs} ms:\n${output.slice(-20).join('\n')}`));
    }, timeoutMs);
    let done = false;
    const onData = (d: Buffer): void => {
      for (const line of d.toString().split('\n')) {
        if (!line) continue;
        output.push(line);
        if (output.length > 200) output.shift();
        if (!done && ready.test(line)) {
          done = true;
          clearTimeout(timer);
          resolve({ child, readyMs: performance.now() - t0, output });
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!done) reject(new Error(`exited with ${code} before ready:\n${output.slice(-20).join('\n')}`));
    });
  });
}

/** Sends SIGTERM and waits for the exit (SIGKILL after `graceMs`). */
export function stop(child: ChildProcess, graceMs = 20_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** RSS (MB) of `pid` and every process below it, from /proc (Linux); null when unreadable. */
export async function treeRssMb(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid …; comm may hold spaces and parentheses, so cut after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (Number.isFinite(ppid)) parents.set(Number(entry), ppid);
  }
  const tree = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [p, pp] of parents) {
      if (!tree.has(p) && tree.has(pp)) {
        tree.add(p);
        grew = true;
      }
    }
  }
  let kb = 0;
  for (const p of tree) {
    const status = await readFile(`/proc/${p}/status`, 'utf8').catch(() => '');
    kb += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  }
  return kb > 0 ? Math.round(kb / 102.4) / 10 : null;
}

/** Creates a scratch database and returns its URL and a function that drops it. */
export async function scratchDatabase(name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  return {
    url: `${PG_SERVER}/${name}`,
    drop: async () => {
      const c = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`).catch(() => {});
      await c.end();
    },
  };
}

/** Deletes every queue and exchange whose name holds `marker`, and every broker user that does. */
export async function cleanBroker(marker: string): Promise<void> {
  const run = promisify(execFile);
  const list = async (...what: string[]): Promise<string[]> => {
    try {
      const { stdout } = await run('rabbitmqctl', ['-q', ...what], { timeout: 60_000 });
      return stdout
        .split('\n')
        .map((l) => l.split('\t')[0] ?? '')
        .filter((n) => n.includes(marker));
    } catch {
      return [];
    }
  };
  const conn = await connect(AMQP_URL);
  for (const q of await list('list_queues', 'name')) {
    const ch = await conn.createChannel();
    await ch.deleteQueue(q).catch(() => {});
    await ch.close().catch(() => {});
  }
  for (const x of await list('list_exchanges', 'name')) {
    const ch = await conn.createChannel();
    await ch.deleteExchange(x).catch(() => {});
    await ch.close().catch(() => {});
  }
  await conn.close();
  for (const u of await list('list_users'))
    await run('rabbitmqctl', ['-q', 'delete_user', '--', u]).catch(() => {});
}
