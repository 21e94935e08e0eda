/**
 * `npm run demo:distributed` as a test runs it: in its own process group (as a shell runs a
 * foreground job, so the test can signal the group as a terminal's Ctrl-C does), on its own
 * database, AMQP namespace and ports, with its output (and its children's) captured.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { topologyPorts } from './ports.js';
import { isolatedInfrastructure, type TestInfrastructure, until } from './topology.js';

const ENTRY = fileURLToPath(new URL('../src/distributed.ts', import.meta.url));
/** The distributed demo's processes: 8 service instances (invoicing ×3), the gateway and the console. */
const PROCESSES = 10;

/** A running distributed demo. */
export interface DemoProcess extends AsyncDisposable {
  readonly child: ChildProcess;
  /** Everything it and its children wrote so far (stdout and stderr). */
  readonly output: () => string;
  /** How it exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until its output matches `pattern`; throws when it exits first or the time is up. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
  /** The run's own AMQP namespace (in the environment of each of its processes). */
  readonly namespace: string;
  /** The pids of the processes it started that run now (remembered for disposal). */
  children(): number[];
}

/**
 * Starts the distributed demo with `args` and `env` over the inherited environment (REFRONT_RPC
 * left out unless given). Disposing it SIGKILLs its process group if it still runs, waits until
 * every child it started is gone, and drops its database and namespace.
 *
 * @throws Error when no free ports or database can be had.
 * @example
 * await using demo = await startDemo(['--once'], { REFRONT_RPC: 'grpc' });
 */
export async function startDemo(args: readonly string[], env: Record<string, string>): Promise<DemoProcess> {
  const infra: TestInfrastructure = await isolatedInfrastructure('refront_demo');
  const ports = await topologyPorts(PROCESSES);
  const { REFRONT_RPC: _, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--conditions=@refront/source', '--import', 'tsx', ENTRY, ...args], {
    detached: true,
    env: {
      ...inherited,
      DATABASE_URL: infra.databaseUrl,
      AMQP_NAMESPACE: infra.namespace,
      GATEWAY_PORT: String(ports.gatewayPort),
      // The block's last gRPC port: only service instances take one, and there are fewer of them.
      CONSOLE_PORT: String(ports.grpcBasePort + PROCESSES - 1),
      GRPC_BASE_PORT: String(ports.grpcBasePort),
      MUX_BASE_PORT: String(ports.muxBasePort),
      OPS_BASE_PORT: String(ports.opsBasePort),
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const seen = new Set<number>();
  const children = () => {
    const now = child.pid ? childrenOf(child.pid) : [];
    for (const pid of now) seen.add(pid);
    return now;
  };
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    child,
    output: () => out,
    exited,
    async waitFor(pattern, timeoutMs) {
      await until(
        `the demo to print ${pattern}`,
        async () => {
          if (done && !pattern.test(out))
            throw new Error(`the demo exited before printing ${pattern}:\n${out}`);
          return pattern.test(out);
        },
        timeoutMs,
      );
    },
    namespace: infra.namespace,
    children,
    async [Symbol.asyncDispose]() {
      try {
        if (!done && child.pid) {
          children();
          process.kill(-child.pid, 'SIGKILL');
        }
        await exited;
        // Its children stop on their own once it is gone; wait for them before dropping their database.
        await until(
          'the demo processes to exit',
          async () => [...seen].every((pid) => !runsOn(pid, infra.namespace)),
          60_000,
        );
      } finally {
        for (const pid of seen) if (runsOn(pid, infra.namespace)) process.kill(pid, 'SIGKILL');
        await infra[Symbol.asyncDispose]();
      }
    },
  };
}

/** One JSON log line of a demo process (pino). */
export interface LogLine {
  readonly service: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** The JSON log lines in `output`. */
export function logLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of output.split('\n')) {
    if (!text.startsWith('{')) continue;
    try {
      const line = JSON.parse(text) as LogLine;
      if (typeof line.service === 'string' && typeof line.msg === 'string') lines.push(line);
    } catch {
      // not a log line
    }
  }
  return lines;
}

/**
 * The pids of the live service processes (src/serve.ts) whose parent is `pid` (Linux: read from
 * /proc; tsx's esbuild helper is left out).
 */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('serve.ts'))
        children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/**
 * Whether `pid` is still a process of the demo run on `namespace` (its environment says so: a pid
 * reused by another process after ours exited is not one).
 */
export function runsOn(pid: number, namespace: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`AMQP_NAMESPACE=${namespace}`);
  } catch {
    return false;
  }
}
