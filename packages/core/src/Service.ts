import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { ConfigError, type Env, loadConfig } from './config.js';
import { CoreErrors, invalidOption } from './coreErrors.js';
import { createLogger, type Logger } from './logger.js';
import { createMetricsRegistry, type MetricsRegistry } from './metrics.js';
import { type OpsHandler, type ReadinessCheck, startOpsServer } from './OpsServer.js';

/** Where a service is in its life: `created → starting → ready → draining → stopped`. */
export type ServiceState = 'created' | 'starting' | 'ready' | 'draining' | 'stopped';

/**
 * A part of a service with a lifecycle: a server, a consumer, a database pool. Components start
 * in the order they were added, drain together, and close in reverse order.
 */
export interface ServiceComponent {
  /** Name for logs and readiness. */
  readonly name: string;
  /** Opens the resource (binds, connects, subscribes). */
  start?(): Promise<void>;
  /** Whether the component can serve now; shown by `/readyz`. */
  ready?(): boolean | Promise<boolean>;
  /** Stops taking new work and resolves when in-flight work is done, or when `signal` aborts (grace over). */
  drain?(signal: AbortSignal): Promise<void>;
  /** Releases the resource. */
  close?(): Promise<void>;
}

/** Options of {@link createService}. */
export interface ServiceOptions<S extends z.ZodType | undefined = undefined> {
  /** Service name (logs, metrics, traces, discovery). */
  readonly name: string;
  /** Service version. */
  readonly version: string;
  /** zod schema of the environment; invalid config stops the service before it binds anything. */
  readonly config?: S;
  /** The environment to read config from. @default process.env */
  readonly env?: Env;
  /** Time in-flight work gets to finish after a stop is requested, in ms. @default DEFAULT_GRACE_PERIOD_MS (10 s) */
  readonly gracePeriodMs?: number;
  /** Port of the ops server (`/healthz`, `/readyz`, `/metrics`); 0 picks a free one, false disables it. @default 0 */
  readonly opsPort?: number | false;
  /** Address of the ops server. @default '0.0.0.0' */
  readonly opsHost?: string;
  /** Drain and exit on SIGTERM/SIGINT; log unhandled rejections instead of crashing. @default true */
  readonly handleSignals?: boolean;
  /** On invalid config, print every problem and exit the process with code 1 (false: throw ConfigError). @default true */
  readonly exitOnConfigError?: boolean;
  /** Logger. @default createLogger({ service: name, version }) */
  readonly logger?: Logger;
  /** Metrics registry. @default createMetricsRegistry({ defaultLabels: { service: name } }) */
  readonly metrics?: MetricsRegistry;
}

/** Default grace period for in-flight work on shutdown, in ms. */
export const DEFAULT_GRACE_PERIOD_MS = 10_000;

/** A running service: its config, logger, metrics and lifecycle. */
export interface Service<C = undefined> {
  readonly name: string;
  readonly version: string;
  /** The parsed, typed config. */
  readonly config: C;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** Current lifecycle state. */
  readonly state: ServiceState;
  /** Aborts when the grace period of a stop ends: work still running must give up. */
  readonly shutdownSignal: AbortSignal;
  /** Address of the ops server once started. */
  readonly opsAddress: AddressInfo | undefined;
  /**
   * Adds a component; it starts with the service (or at once if the service is running).
   * @throws RefrontError FAILED_PRECONDITION once the service is draining or stopped.
   */
  use<T extends ServiceComponent>(component: T): T;
  /** Registers a readiness check shown by `/readyz`. */
  readiness(name: string, check: ReadinessCheck): void;
  /**
   * Serves the requests under `prefix` (`/workflows`) on the ops server, beside `/healthz`,
   * `/readyz` and `/metrics`; the handler answers every method (and checks any token it requires).
   * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` for a prefix that is not `/name` or is taken.
   */
  opsRoute(prefix: string, handler: OpsHandler): void;
  /** Calls `listener` on every state change; returns an unsubscribe function. */
  onStateChange(listener: (state: ServiceState) => void): () => void;
  /**
   * Binds the ops server, starts components in order, then turns ready.
   * @throws what a component's start threw, after closing those already started.
   */
  start(): Promise<void>;
  /** Drains (readiness false, no new work, in-flight work gets the grace period), then closes in reverse order; idempotent. */
  stop(reason?: string): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const PROCESS_HOOKS = Symbol.for('@refront/core/processHooks');

class ServiceImpl<C> implements Service<C> {
  readonly name: string;
  readonly version: string;
  readonly config: C;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  state: ServiceState = 'created';
  opsAddress: AddressInfo | undefined;
  private readonly components: ServiceComponent[] = [];
  private readonly started: ServiceComponent[] = [];
  private readonly checks = new Map<string, ReadinessCheck>();
  private readonly opsRoutes = new Map<string, OpsHandler>();
  private readonly listeners = new Set<(s: ServiceState) => void>();
  private readonly shutdown = new AbortController();
  private readonly gracePeriodMs: number;
  private ops: Server | undefined;
  private stopping: Promise<void> | undefined;
  private readonly signalHandler = (signal: NodeJS.Signals): void => this.onSignal(signal);

  constructor(
    private readonly options: ServiceOptions<z.ZodType | undefined>,
    config: C,
    logger: Logger,
  ) {
    this.name = options.name;
    this.version = options.version;
    this.config = config;
    this.logger = logger;
    this.metrics = options.metrics ?? createMetricsRegistry({ defaultLabels: { service: options.name } });
    this.gracePeriodMs = options.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS;
  }

  get shutdownSignal(): AbortSignal {
    return this.shutdown.signal;
  }

  use<T extends ServiceComponent>(component: T): T {
    if (this.state === 'draining' || this.state === 'stopped') {
      throw CoreErrors.INVALID_STATE(`${this.name} is ${this.state}; cannot add ${component.name}`);
    }
    this.components.push(component);
    if (component.ready) this.checks.set(component.name, () => component.ready!());
    if (this.state === 'ready' || this.state === 'starting') {
      if (this.state === 'ready')
        void this.startComponent(component).catch((e: unknown) =>
          this.logger.error({ err: e, component: component.name }, 'component failed to start'),
        );
    }
    return component;
  }

  readiness(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  opsRoute(prefix: string, handler: OpsHandler): void {
    const taken = ['/healthz', '/readyz', '/metrics'].includes(prefix) || this.opsRoutes.has(prefix);
    if (!/^\/[a-z0-9][a-z0-9_-]*$/.test(prefix) || taken)
      throw CoreErrors.INVALID_OPTION(`ops route ${prefix} must be a free /name`);
    this.opsRoutes.set(prefix, handler);
  }

  onStateChange(listener: (state: ServiceState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setState(state: ServiceState): void {
    this.state = state;
    this.logger.info({ state }, `${this.name} ${state}`);
    for (const l of this.listeners) l(state);
  }

  private async startComponent(c: ServiceComponent): Promise<void> {
    await c.start?.();
    this.started.push(c);
  }

  async start(): Promise<void> {
    if (this.state !== 'created') throw CoreErrors.INVALID_STATE(`${this.name} was already started`);
    this.setState('starting');
    if (this.options.handleSignals ?? true) this.installProcessHooks();
    try {
      const port = this.options.opsPort ?? 0;
      if (port !== false) {
        const { server, address } = await startOpsServer({
          port,
          host: this.options.opsHost ?? '0.0.0.0',
          metrics: this.metrics,
          live: () => this.state !== 'stopped',
          ready: () => this.state === 'ready',
          checks: this.checks,
          routes: this.opsRoutes,
          info: () => ({ service: this.name, version: this.version, state: this.state }),
          logger: this.logger,
        });
        this.ops = server;
        this.opsAddress = address;
      }
      for (const c of [...this.components]) {
        if (!this.started.includes(c)) await this.startComponent(c);
      }
    } catch (e: unknown) {
      this.logger.error({ err: e }, `${this.name} failed to start`);
      await this.closeAll();
      this.setState('stopped');
      throw e;
    }
    this.setState('ready');
    if (this.opsAddress)
      this.logger.info(
        { ops: `http://127.0.0.1:${this.opsAddress.port}` },
        'ops endpoints: /healthz /readyz /metrics',
      );
  }

  stop(reason = 'stop requested'): Promise<void> {
    this.stopping ??= this.doStop(reason);
    return this.stopping;
  }

  private async doStop(reason: string): Promise<void> {
    if (this.state === 'created') {
      this.setState('stopped');
      return;
    }
    this.logger.info({ reason, gracePeriodMs: this.gracePeriodMs }, `${this.name} draining`);
    this.setState('draining');
    const grace = AbortSignal.any([AbortSignal.timeout(this.gracePeriodMs), this.shutdown.signal]);
    const drains = this.started.map(async (c) => {
      try {
        await c.drain?.(grace);
      } catch (e: unknown) {
        this.logger.error({ err: e, component: c.name }, 'component failed to drain');
      }
    });
    await Promise.all(drains);
    if (grace.aborted)
      this.logger.warn(
        { gracePeriodMs: this.gracePeriodMs },
        'grace period ended with work in flight; aborting it',
      );
    this.shutdown.abort(CoreErrors.DRAINING(this.name));
    await this.closeAll();
    this.setState('stopped');
    this.removeProcessHooks();
  }

  private async closeAll(): Promise<void> {
    for (const c of this.started.splice(0).reverse()) {
      try {
        await c.close?.();
      } catch (e: unknown) {
        this.logger.error({ err: e, component: c.name }, 'component failed to close');
      }
    }
    const ops = this.ops;
    this.ops = undefined;
    if (ops) {
      ops.closeAllConnections();
      await new Promise<void>((resolve) => ops.close(() => resolve()));
    }
  }

  private onSignal(signal: NodeJS.Signals): void {
    if (this.stopping) {
      this.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    this.stop(`received ${signal}`)
      .then(() => process.exit(process.exitCode ?? 0))
      .catch((e: unknown) => {
        this.logger.fatal({ err: e }, 'stop failed');
        process.exit(1);
      });
  }

  private installProcessHooks(): void {
    process.once('SIGTERM', this.signalHandler);
    process.once('SIGINT', this.signalHandler);
    const g = globalThis as Record<symbol, unknown>;
    if (g[PROCESS_HOOKS]) return;
    g[PROCESS_HOOKS] = true;
    process.on('unhandledRejection', (reason) => {
      this.logger.error({ err: reason }, 'unhandled promise rejection (the process keeps serving)');
    });
  }

  private removeProcessHooks(): void {
    process.off('SIGTERM', this.signalHandler);
    process.off('SIGINT', this.signalHandler);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop('disposed');
  }
}

/**
 * Creates a service: validates its config from the environment (before anything binds), and
 * gives it a logger, metrics, an ops server and a lifecycle with graceful drain on SIGTERM/SIGINT.
 *
 * @throws ConfigError when the environment is invalid and `exitOnConfigError` is false (otherwise
 *   every problem is printed and the process exits with code 1).
 * @example
 * const service = createService({
 *   name: 'tickets', version: '1.0.0',
 *   config: z.object({ PORT: z.coerce.number().default(50051) }),
 * });
 * service.use(server);
 * await service.start();
 */
export function createService<S extends z.ZodType | undefined = undefined>(
  options: ServiceOptions<S>,
): Service<S extends z.ZodType ? z.output<S> : undefined> {
  if (!options.name) throw invalidOption('name is required');
  if (options.gracePeriodMs !== undefined && !(options.gracePeriodMs >= 0)) {
    throw invalidOption(`gracePeriodMs must be >= 0, got ${options.gracePeriodMs}`);
  }
  const logger = options.logger ?? createLogger({ service: options.name, version: options.version });
  let config: unknown;
  if (options.config) {
    try {
      config = loadConfig(options.config, options.env ?? process.env);
    } catch (e: unknown) {
      if (!(e instanceof ConfigError) || options.exitOnConfigError === false) throw e;
      logger.fatal({ violations: e.violations }, 'invalid configuration');
      process.stderr.write(`${options.name}: ${e.message}\n`);
      process.exit(1);
    }
  }
  return new ServiceImpl(options as ServiceOptions<z.ZodType | undefined>, config as never, logger);
}
