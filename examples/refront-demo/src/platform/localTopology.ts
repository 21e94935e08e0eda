/**
 * The distributed topology on one machine: every service as its own process (src/serve.ts) on
 * loopback, against one RabbitMQ and one PostgreSQL. `npm run demo:distributed` and the system
 * tests of the topology's promises both drive it: start, kill, restart and upgrade processes one
 * at a time, read their metrics, and wait until the events in flight are handled.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Database, openDatabase } from '@refront/data';
import { createDevCertificates, type DevCertificates } from '@refront/identity';
import { type ChannelModel, connect } from 'amqplib';
import {
  brokerUserEnv,
  createConsoleBrokerUser,
  createLocalBrokerUsers,
  type LocalBrokerUsers,
} from './brokerUsers.js';
import { schemaOf } from './module.js';
import { DEFAULT_RPC_LANE, muxServiceName, type RpcLane } from './rpcLane.js';
import { PLATFORM_MODULES } from './services.js';

/** Options of {@link LocalTopology}. */
export interface LocalTopologyOptions {
  /** PostgreSQL every service keeps its schema on. */
  readonly databaseUrl: string;
  /** RabbitMQ every service publishes and consumes on. */
  readonly amqpUrl: string;
  /** Prefix of the exchanges and queues (`AMQP_NAMESPACE`). @default 'refront' */
  readonly namespace?: string;
  /** Gateway HTTP port. @default 8080 */
  readonly gatewayPort?: number;
  /**
   * First gRPC port; each service instance takes the next one. Below Linux's ephemeral range
   * (32768-60999), so no outgoing connection can hold one. @default 25051
   */
  readonly grpcBasePort?: number;
  /** First ops port (health, readiness, metrics); each process takes the next one. @default 9471 */
  readonly opsBasePort?: number;
  /**
   * The lane services (and the gateway) call each other on. Every service instance serves both
   * lanes on its own ports either way: gRPC from `grpcBasePort`, mux from `muxBasePort`.
   * @default 'mux'
   */
  readonly rpc?: RpcLane;
  /** First mux port; each service instance takes the next one. @default grpcBasePort + 1000 */
  readonly muxBasePort?: number;
  /** Instances per service. @default { invoicing: 3 }, 1 for the others */
  readonly instances?: Readonly<Record<string, number>>;
  /**
   * Events from their owner only (decision 0049): `startAll` creates a broker user per service
   * (`<namespace>.<service>`, a password of this topology, with `rabbitmqctl`), each service logs
   * in as its own, and `stopAll` deletes them. `false` runs every service as `amqpUrl`'s user,
   * with `AMQP_OWNERSHIP=off`. @default true
   */
  readonly ownership?: boolean;
  /** Environment given to every process, over the topology's own. @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Services call each other over mutual TLS with development certificates made by
   * {@link LocalTopology.startAll} (a fresh CA per topology), and serve only their declared
   * callers; `false` runs them plaintext (`MTLS=off`). @default true
   */
  readonly mtls?: boolean;
  /**
   * More certificates from the topology's CA, for identities no process of it runs (`intruder`):
   * what a test presents to prove a service refuses a caller it does not declare. @default []
   */
  readonly identities?: readonly string[];
  /**
   * Runs the Refront console as a process of its own (`SERVICE=console`) on this port: every other
   * process exports its spans to it over OTLP/HTTP, it reads their ops endpoints, and it shows the
   * dead letters of every group (as a broker user of its own with the `impersonator` tag when
   * `ownership` is on), and its API explorer calls the services on the topology's lane with a
   * certificate of its own (`spiffe://refront.local/console`, the operator identity every service
   * serves) and the gateway's routes. It requires {@link LocalTopology.consoleToken}.
   * @default none: no console, no tracing SDK in the processes
   */
  readonly consolePort?: number;
  /** `inherit` prints every process's output; `capture` keeps the last lines of each. @default 'inherit' */
  readonly output?: 'inherit' | 'capture';
}

/** How a process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One process of the topology (a service instance, or the gateway). */
export class LocalProcess {
  child: ChildProcess | undefined;
  /** Output kept with `output: 'capture'` (last 200 lines). */
  readonly output: string[] = [];
  /** How each earlier run of this process ended, in order. */
  readonly exits: Exit[] = [];

  constructor(
    /** Service name (`gateway` for the HTTP edge). */
    readonly service: string,
    /** Instance number within its service, from 0. */
    readonly index: number,
    /** gRPC port (0 for the gateway). */
    readonly grpcPort: number,
    /** Ops port: /healthz, /readyz, /metrics. */
    readonly opsPort: number,
    /** mux port (0 for the gateway). */
    readonly muxPort = 0,
  ) {}

  /** `invoicing#1`. */
  get name(): string {
    return `${this.service}#${this.index}`;
  }

  /** Whether the process runs. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }
}

const SERVE = fileURLToPath(new URL('../serve.ts', import.meta.url));
const EXIT_WITH_PARENT = new URL('./exitWithParent.ts', import.meta.url).href;

/** Every service of the platform (and the gateway) as separate processes on loopback. */
export class LocalTopology {
  /** Every process, services first, the gateway last. */
  readonly processes: readonly LocalProcess[];
  /** Static discovery of every instance (`REFRONT_ENDPOINTS`). */
  readonly endpoints: string;
  readonly namespace: string;
  readonly gatewayPort: number;
  readonly rpc: RpcLane;
  /** The bearer token of the console (with `consolePort`): a fresh one per topology. */
  readonly consoleToken: string;
  private readonly output: 'inherit' | 'capture';
  private consoleUser: { url: string; delete(): Promise<void> } | undefined;
  private certs: DevCertificates | undefined;
  private brokerUsers: LocalBrokerUsers | undefined;

  constructor(private readonly options: LocalTopologyOptions) {
    this.namespace = options.namespace ?? 'refront';
    this.gatewayPort = options.gatewayPort ?? 8080;
    this.output = options.output ?? 'inherit';
    this.rpc = options.rpc ?? DEFAULT_RPC_LANE;
    const instances = options.instances ?? { invoicing: 3 };
    let grpc = options.grpcBasePort ?? 25_051;
    let mux = options.muxBasePort ?? grpc + 1_000;
    let ops = options.opsBasePort ?? 9_471;
    const procs: LocalProcess[] = [];
    for (const m of PLATFORM_MODULES) {
      for (let i = 0; i < (instances[m.name] ?? 1); i++) {
        procs.push(new LocalProcess(m.name, i, grpc++, ops++, mux++));
      }
    }
    const entries = (name: string, service: string, port: (p: LocalProcess) => number) =>
      `${name}=${procs
        .filter((p) => p.service === service)
        .map((p) => `127.0.0.1:${port(p)}`)
        .join(',')}`;
    // Only the endpoints of the lane in use are listed: a call that went over the other lane would
    // find no instance, so the walk proves the lane. Each service still serves both.
    this.endpoints = PLATFORM_MODULES.map((m) =>
      this.rpc === 'mux'
        ? entries(muxServiceName(m.name), m.name, (p) => p.muxPort)
        : entries(m.name, m.name, (p) => p.grpcPort),
    ).join(';');
    procs.push(new LocalProcess('gateway', 0, 0, ops++));
    // The console last: services first, the gateway next (tests index them so).
    if (options.consolePort !== undefined) procs.push(new LocalProcess('console', 0, 0, ops));
    this.processes = procs;
    this.consoleToken = randomBytes(18).toString('base64url');
  }

  /** The gateway's base URL. */
  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.gatewayPort}`;
  }

  /** The console's base URL, with `consolePort`. */
  get consoleUrl(): string | undefined {
    const port = this.options.consolePort;
    return port === undefined ? undefined : `http://127.0.0.1:${port}`;
  }

  /** The ops endpoints of every process but the console, as `REFRONT_OPS_ENDPOINTS` lists them. */
  get opsEndpoints(): string {
    const services = [...new Set(this.processes.map((p) => p.service))].filter((s) => s !== 'console');
    return services
      .map(
        (s) =>
          `${s}=${this.of(s)
            .map((p) => `127.0.0.1:${p.opsPort}`)
            .join(',')}`,
      )
      .join(';');
  }

  /** The environment of the console process, or of the others (exporting their spans to it). */
  private consoleEnv(p: LocalProcess): Record<string, string> {
    const port = this.options.consolePort;
    if (port === undefined) return {};
    if (p.service !== 'console')
      return {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${this.consoleToken}`,
        // Spans reach the console within a second of ending (the SDK's default is 5 s).
        OTEL_BSP_SCHEDULE_DELAY: '1000',
        // A service with workflows serves its runs on its ops server to this token only.
        REFRONT_CONSOLE_TOKEN: this.consoleToken,
      };
    return {
      CONSOLE_HOST: '127.0.0.1',
      CONSOLE_PORT: String(port),
      REFRONT_CONSOLE_TOKEN: this.consoleToken,
      REFRONT_OPS_ENDPOINTS: this.opsEndpoints,
      // The explorer's gateway routes; its methods go through discovery like the gateway's calls.
      GATEWAY_URL: this.gatewayUrl,
      AMQP_URL: this.consoleUser?.url ?? this.options.amqpUrl,
      AMQP_OWNERSHIP: this.consoleUser ? 'on' : 'off',
    };
  }

  /** The instances of `service`. */
  of(service: string): LocalProcess[] {
    return this.processes.filter((p) => p.service === service);
  }

  /** The one instance of `service` (its first one). */
  one(service: string): LocalProcess {
    const p = this.processes.find((x) => x.service === service);
    if (!p) throw new Error(`no process of ${service}`);
    return p;
  }

  /**
   * The development certificates of every process (`<service>.crt`, `ca.crt`; the console's only
   * when the topology runs one) and of the extra `identities`, made on first use in a fresh
   * temporary folder; undefined with `mtls: false`. A client of the topology's ports presents one
   * of them (e.g. `gateway.crt`, a declared caller of every service).
   */
  async certificates(): Promise<DevCertificates | undefined> {
    if (this.options.mtls === false) return undefined;
    this.certs ??= await createDevCertificates({
      dir: await mkdtemp(join(tmpdir(), 'refront-certs-')),
      services: [...new Set([...this.processes.map((p) => p.service), ...(this.options.identities ?? [])])],
    });
    return this.certs;
  }

  private async removeCertificates(): Promise<void> {
    const certs = this.certs;
    this.certs = undefined;
    if (certs) await rm(certs.dir, { recursive: true, force: true });
  }

  /** Starts every service, waits until all are ready, then starts the gateway and waits for it. */
  async startAll(timeoutMs = 90_000): Promise<void> {
    await this.certificates();
    const services = this.processes.filter((p) => p.service !== 'gateway' && p.service !== 'console');
    if ((this.options.ownership ?? true) && !this.brokerUsers)
      this.brokerUsers = await createLocalBrokerUsers(PLATFORM_MODULES, {
        namespace: this.namespace,
        amqpUrl: this.options.amqpUrl,
      });
    const console = this.processes.find((p) => p.service === 'console');
    if (console) {
      if ((this.options.ownership ?? true) && !this.consoleUser)
        this.consoleUser = await createConsoleBrokerUser(this.namespace, this.options.amqpUrl);
      // First, so no span of a start is lost.
      this.start(console);
      await this.waitReady(console, timeoutMs);
    }
    for (const p of services) this.start(p);
    await Promise.all(services.map((p) => this.waitReady(p, timeoutMs)));
    const gateway = this.one('gateway');
    this.start(gateway);
    await this.waitReady(gateway, timeoutMs);
  }

  /**
   * Starts one process (again), with `env` over the topology's environment.
   * @throws Error when it runs, or with mutual TLS before {@link certificates} made the certificates.
   */
  start(p: LocalProcess, env: Readonly<Record<string, string>> = {}): void {
    if (p.running) throw new Error(`${p.name} is already running`);
    const o = this.options;
    if (o.mtls !== false && !this.certs)
      throw new Error('no certificates yet: await certificates() or startAll() first');
    // The console too: its API explorer calls the services as the operator identity `console`.
    const files = this.certs?.files(p.service);
    const identity: Record<string, string> = files
      ? { MTLS: 'on', TLS_CA_FILE: files.caFile, TLS_CERT_FILE: files.certFile, TLS_KEY_FILE: files.keyFile }
      : { MTLS: 'off' };
    if ((o.ownership ?? true) && !this.brokerUsers && p.service !== 'gateway' && p.service !== 'console')
      throw new Error(`${p.name}: no broker users yet (startAll creates them)`);
    const node = ['--conditions=@refront/source', '--import', 'tsx', '--import', EXIT_WITH_PARENT];
    const child = spawn(process.execPath, [...node, SERVE], {
      // Its own process group: a terminal's Ctrl-C reaches only this process, which SIGTERMs each
      // child once (a child that got both would skip its drain). The IPC channel tells the child
      // when this process is gone (exitWithParent.ts).
      detached: true,
      env: {
        ...process.env,
        SERVICE: p.service,
        DATABASE_URL: o.databaseUrl,
        AMQP_NAMESPACE: this.namespace,
        ...brokerUserEnv(this.brokerUsers, p.service, o.amqpUrl),
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: String(p.grpcPort),
        REFRONT_RPC: this.rpc,
        ...(p.muxPort ? { MUX_PORT: String(p.muxPort) } : {}),
        OPS_PORT: String(p.opsPort),
        GATEWAY_PORT: String(this.gatewayPort),
        GATEWAY_HOST: '127.0.0.1',
        DEV_AUTH: 'true',
        JWT_SECRET: process.env.JWT_SECRET ?? 'refront-demo-distributed-secret-0123456789',
        REFRONT_ENDPOINTS: this.endpoints,
        ...identity,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
        ...this.consoleEnv(p),
        ...o.env,
        ...env,
      },
      stdio: [
        'ignore',
        this.output === 'inherit' ? 'inherit' : 'pipe',
        this.output === 'inherit' ? 'inherit' : 'pipe',
        'ipc',
      ],
    });
    if (this.output === 'capture') {
      const keep = (d: Buffer) => {
        for (const line of d.toString().split('\n')) if (line) p.output.push(`[${p.name}] ${line}`);
        if (p.output.length > 200) p.output.splice(0, p.output.length - 200);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
    }
    child.once('exit', (code, signal) => p.exits.push({ code, signal }));
    p.child = child;
  }

  /** Waits until `p` answers 200 on /readyz; throws when it exits or the time is up. */
  async waitReady(p: LocalProcess, timeoutMs = 90_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (!p.running)
        throw new Error(`${p.name} exited (${JSON.stringify(p.exits.at(-1))})\n${p.output.join('\n')}`);
      try {
        const res = await fetch(`http://127.0.0.1:${p.opsPort}/readyz`);
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > until) throw new Error(`${p.name} (ops ${p.opsPort}) not ready after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /** The body of `p`'s /readyz (service, version, state, checks). */
  async readiness(p: LocalProcess): Promise<{ status: string; version: string; service: string }> {
    const res = await fetch(`http://127.0.0.1:${p.opsPort}/readyz`);
    return (await res.json()) as { status: string; version: string; service: string };
  }

  /** Sends `signal` to `p` and waits until it exits. */
  async stop(p: LocalProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    const child = p.child;
    if (!child || !p.running) return p.exits.at(-1) ?? { code: null, signal: null };
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    child.kill(signal);
    const [code, sig] = await exited;
    return { code, signal: sig };
  }

  /** SIGKILL: the process gets no chance to drain or close anything. */
  kill(p: LocalProcess): Promise<Exit> {
    return this.stop(p, 'SIGKILL');
  }

  /**
   * SIGTERMs every running process (the gateway first), waits until all exited, deletes the broker
   * users and the development certificates ({@link startAll} makes new ones).
   */
  async stopAll(): Promise<number> {
    const alive = this.processes.filter((p) => p.running);
    const gateway = alive.filter((p) => p.service === 'gateway');
    await Promise.all(gateway.map((p) => this.stop(p)));
    const services = alive.filter((p) => p.service !== 'gateway' && p.service !== 'console');
    await Promise.all(services.map((p) => this.stop(p)));
    // The console last: it receives the spans of the others' drain.
    await Promise.all(alive.filter((p) => p.service === 'console').map((p) => this.stop(p)));
    const users = this.brokerUsers;
    this.brokerUsers = undefined;
    await users?.delete();
    const consoleUser = this.consoleUser;
    this.consoleUser = undefined;
    await consoleUser?.delete();
    await this.removeCertificates();
    return alive.length;
  }

  /** The Prometheus text `p` serves on /metrics. */
  async metrics(p: LocalProcess): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${p.opsPort}/metrics`);
    return res.text();
  }

  /** The AMQP URL `service` logs in with: its own broker user's, or `amqpUrl` with ownership off. */
  amqpUrlOf(service: string): string {
    return this.brokerUsers?.urlOf(service) ?? this.options.amqpUrl;
  }

  /** The consumer queue of `group` (`<namespace>.<group>`). */
  queueOf(group: string): string {
    return `${this.namespace}.${group}`;
  }

  /**
   * Waits until no outbox holds an event and no consumer queue holds a message (ready or
   * unacknowledged), three looks in a row. Services that are down keep their queue non-empty:
   * leave them out with `except`.
   */
  async settle(
    options: { readonly timeoutMs?: number; readonly except?: readonly string[] } = {},
  ): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const modules = PLATFORM_MODULES.filter((m) => !options.except?.includes(m.name));
    const dbs: Database[] = [];
    let conn: ChannelModel | undefined;
    try {
      for (const m of modules)
        dbs.push(
          await openDatabase({ schema: schemaOf(m.name), url: this.options.databaseUrl, poolSize: 1 }),
        );
      conn = await connect(this.options.amqpUrl);
      conn.on('error', () => {});
      let quiet = 0;
      const until = Date.now() + timeoutMs;
      while (quiet < 3) {
        let pending = 0;
        for (const db of dbs) pending += await outboxPending(db);
        for (const m of modules) pending += await queueDepth(conn, this.queueOf(m.name));
        quiet = pending === 0 ? quiet + 1 : 0;
        if (Date.now() > until) throw new Error(`${pending} events still pending after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await conn?.close().catch(() => {});
      for (const db of dbs) await db.close();
    }
  }

  /** Messages waiting in a queue (ready, not yet delivered); 0 when the queue does not exist. */
  async queueMessages(queue: string): Promise<number> {
    const conn = await connect(this.options.amqpUrl);
    conn.on('error', () => {});
    try {
      return await queueDepth(conn, queue);
    } finally {
      await conn.close().catch(() => {});
    }
  }
}

async function outboxPending(db: Database): Promise<number> {
  const { rows } = await db.query<{ n: number }>('select count(*)::int as n from refront_outbox');
  return rows[0]?.n ?? 0;
}

/**
 * Messages ready in a queue; 0 when it does not exist. A message a consumer holds is not counted
 * (AMQP has no way to see it without the management plugin), so `settle` is a good wait before a
 * next step, not a proof: tests wait for the end state they expect.
 */
async function queueDepth(conn: ChannelModel, queue: string): Promise<number> {
  // A queue that does not exist closes the channel: one channel per look.
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  const q = await ch.checkQueue(queue).catch(() => undefined);
  if (q) await ch.close().catch(() => {});
  return q?.messageCount ?? 0;
}
