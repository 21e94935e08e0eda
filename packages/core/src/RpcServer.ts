import type { MutableRequestContext } from './context.js';
import type { MessageType, ServiceDefinition, ServiceImplementation } from './contracts.js';
import { CoreReason, invalidOption, RefrontError } from './errors.js';
import { bindChain, type Call, type Interceptor, type Metadata, type MethodInfo } from './Interceptor.js';
import type { Logger } from './logger.js';
import { invalidMessage, type MessageValidator } from './MessageValidator.js';
import type { MetricsRegistry } from './metrics.js';
import {
  abortCall,
  type Complete,
  type Reply,
  ServerCall,
  type ServeWithDefaults,
  serveWithDefaults,
} from './serverInterceptors.js';

/** What every transport's server offers: services in, graceful drain out. */
export interface RpcServer {
  /**
   * Serves a contract with its implementation. Call before `start()`.
   * @throws RefrontError INVALID_ARGUMENT when the service is already added or a handler is missing.
   */
  add<S extends ServiceDefinition>(definition: S, implementation: ServiceImplementation<S>): void;
  /** Starts accepting calls. */
  start(): Promise<void>;
  /**
   * Refuses new calls (UNAVAILABLE, retryable), lets in-flight ones finish, resolves when none
   * is left. When `signal` aborts (the grace period ended), in-flight handlers are aborted.
   */
  drain(signal?: AbortSignal): Promise<void>;
  /** Drains with no grace and releases everything; idempotent. */
  close(): Promise<void>;
}

/** Options of {@link createDispatcher}. */
export interface DispatcherOptions {
  /** The serving service's name (logs, metrics, the request context). */
  readonly service: string;
  /** The service logger. */
  readonly logger: Logger;
  /** Registry for RED metrics. @default none */
  readonly metrics?: MetricsRegistry | undefined;
  /** Interceptors run after the defaults (auth, validation…), outermost first. @default [] */
  readonly interceptors?: readonly Interceptor[];
  /** Run the default interceptors (context, span, metrics). Opting out also drops deadline enforcement. @default true */
  readonly defaultInterceptors?: boolean;
  /** `rpc.system` of the spans. */
  readonly system: string;
  /**
   * Checks every request against its contract's rules after the interceptors (authentication
   * first) and before the handler: a request that breaks them fails INVALID_ARGUMENT
   * `CORE_INVALID_MESSAGE` naming each field, and its handler never runs. @default none
   */
  readonly validator?: MessageValidator | undefined;
}

/** One served method, bound to its interceptor chain. */
export interface ServerMethod<Req = unknown, Res = unknown> {
  readonly info: MethodInfo;
  readonly requestType: MessageType<Req>;
  readonly responseType: MessageType<Res>;
}

/** An inbound call as a transport hands it to the dispatcher. */
export interface Inbound<Req> {
  readonly request: Req;
  readonly metadata: Metadata;
  readonly deadline: number | undefined;
  /** Transport-level cancellation (the client went away). */
  readonly signal?: AbortSignal | undefined;
  /**
   * The cheaper alternative to `signal` for transports that learn of cancellation through a
   * callback and end the call at its deadline themselves (gRPC): called once, at once, with the
   * function to call with the reason (CANCELLED, or DEADLINE_EXCEEDED when the deadline passed).
   * The call's signal is then made only if a handler or interceptor reads it, and the
   * dispatcher runs no deadline timer of its own.
   */
  readonly onCancel?: ((cancel: (reason: RefrontError) => void) => void) | undefined;
  /**
   * Like `onCancel`, for transports that keep the {@link CallHandle} that
   * {@link Dispatcher.dispatch} returns and cancel through it (mux): no callback per call.
   */
  readonly cancelsThroughHandle?: boolean | undefined;
  readonly peer?: string | undefined;
}

/** A call being served, as {@link Dispatcher.dispatch} returns it to its transport. */
export interface CallHandle {
  /**
   * The transport cancelled the call: the client went away (CANCELLED) or its deadline passed
   * (DEADLINE_EXCEEDED). The handler's signal aborts with `reason`, and the call fails with it
   * unless it has already settled. The first reason wins.
   */
  cancel(reason: RefrontError): void;
}

/** The reply of a call {@link Dispatcher.invoke} settles itself. */
const NO_REPLY: Reply = { ok: () => {}, fail: () => {} };

interface BoundMethod extends ServerMethod {
  /** The chain below the defaults: the user's interceptors, then the handler. */
  readonly next: (call: Call<unknown>) => Promise<unknown>;
  /** Turns the handler's answer into the response on the success path, when `next` does not. */
  readonly complete: Complete | undefined;
}

/**
 * The transport-neutral half of every server: routes a decoded request to its handler through
 * the interceptor chain, tracks in-flight calls and drains. gRPC, mux and in-process servers
 * do only I/O around it, so handlers behave the same on every lane.
 */
export class Dispatcher {
  private readonly methods = new Map<string, BoundMethod>();
  private readonly interceptors: readonly Interceptor[];
  /** The default chain (context, deadline, span, metrics), or undefined when opted out. */
  private readonly defaults: ServeWithDefaults | undefined;
  private readonly live = new Set<Call<unknown>>();
  private readonly settledFn = (call: Call<unknown>): void => this.settled(call);
  private draining = false;
  private idle: (() => void) | undefined;

  constructor(readonly options: DispatcherOptions) {
    this.interceptors = options.interceptors ?? [];
    this.defaults = (options.defaultInterceptors ?? true) ? serveWithDefaults(options) : undefined;
  }

  /** Full names of the services added. */
  get services(): string[] {
    return [...new Set([...this.methods.values()].map((m) => m.info.service))];
  }

  /** Calls in flight now. */
  get inflight(): number {
    return this.live.size;
  }

  /** Whether new calls are refused. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** See {@link RpcServer.add}. */
  add<S extends ServiceDefinition>(definition: S, implementation: ServiceImplementation<S>): void {
    for (const [key, def] of Object.entries(definition.methods)) {
      const path = `/${definition.fullName}/${def.name}`;
      if (this.methods.has(path)) throw invalidOption(`${definition.fullName} is already served`);
      if (def.requestStream || def.responseStream) continue;
      const handler = (implementation as Record<string, unknown>)[key];
      if (typeof handler !== 'function') {
        throw invalidOption(`${definition.fullName}: no handler for method ${def.name} (key "${key}")`);
      }
      const info: MethodInfo = {
        service: definition.fullName,
        name: def.name,
        path,
        idempotent:
          def.options.idempotencyLevel === 'IDEMPOTENT' || def.options.idempotencyLevel === 'NO_SIDE_EFFECTS',
      };
      const responseType = def.responseType as MessageType<unknown>;
      const requestType = def.requestType as MessageType<unknown>;
      const fn = validated(
        requestType,
        this.options.validator,
        handler.bind(implementation) as (req: unknown, ctx: unknown) => Promise<unknown>,
      );
      const complete: Complete = (res) => responseType.fromPartial(res as never);
      // With the defaults and no interceptors of the user's, the default chain calls the handler
      // and completes its answer on its success path (one promise less per call); interceptors
      // of the user's see the completed response, as the handler's caller would.
      const direct = this.defaults !== undefined && this.interceptors.length === 0;
      const terminal = direct
        ? (call: Call<unknown>): Promise<unknown> => fn(call.request, call.context as MutableRequestContext)
        : (call: Call<unknown>): Promise<unknown> => {
            try {
              return Promise.resolve(fn(call.request, call.context as MutableRequestContext)).then(complete);
            } catch (e: unknown) {
              return Promise.reject(e);
            }
          };
      this.methods.set(path, {
        info,
        requestType,
        responseType,
        next: bindChain(this.interceptors, terminal),
        complete: direct ? complete : undefined,
      });
    }
  }

  /** The served method at `path` (`/pkg.Service/Method`), or undefined. */
  method(path: string): ServerMethod | undefined {
    return this.methods.get(path);
  }

  /**
   * Runs one call through the chain.
   * @throws RefrontError UNIMPLEMENTED for an unknown path, UNAVAILABLE while draining, or what
   *   the chain raised (always a RefrontError with the default interceptors).
   */
  invoke(path: string, inbound: Inbound<unknown>): Promise<unknown> {
    if (this.defaults) {
      return new Promise((resolve, reject) => {
        this.dispatch(path, inbound, { ok: resolve, fail: reject });
      });
    }
    // Without the defaults: the chain's own promise, settled on the way out.
    const m = this.methods.get(path);
    const refused = this.refusal(path, m);
    if (refused || !m) return Promise.reject(refused);
    const call = this.start(m, inbound, NO_REPLY);
    let pending: Promise<unknown>;
    try {
      pending = m.next(call);
    } catch (e: unknown) {
      pending = Promise.reject(e);
    }
    return pending.then(
      (res) => {
        this.settled(call);
        return res;
      },
      (e: unknown) => {
        this.settled(call);
        throw e;
      },
    );
  }

  /**
   * Runs one call through the chain and hands its outcome to `reply`, once: {@link invoke}
   * without a promise, for transports that answer from a callback. `reply` may be called before
   * this returns (unknown method, draining, a deadline already passed).
   * @returns the call's handle for a transport that sets `inbound.cancelsThroughHandle`, or
   *   undefined when the call was refused.
   */
  dispatch(path: string, inbound: Inbound<unknown>, reply: Reply): CallHandle | undefined {
    const m = this.methods.get(path);
    const refused = this.refusal(path, m);
    if (refused || !m) {
      reply.fail(refused);
      return undefined;
    }
    const call = this.start(m, inbound, reply);
    if (this.defaults) {
      this.defaults(call, m.next, m.complete, call);
      return call;
    }
    let pending: Promise<unknown>;
    try {
      pending = m.next(call);
    } catch (e: unknown) {
      pending = Promise.reject(e);
    }
    pending.then(
      (res) => call.ok(res),
      (e: unknown) => call.fail(e),
    );
    return call;
  }

  /** Why a call to `path` is refused now (unknown method, draining), or undefined. */
  private refusal(path: string, m: BoundMethod | undefined): RefrontError | undefined {
    if (!m) {
      return new RefrontError(
        'UNIMPLEMENTED',
        CoreReason.UNIMPLEMENTED,
        `method ${path} is not served by ${this.options.service}`,
      );
    }
    if (this.draining) {
      return new RefrontError('UNAVAILABLE', CoreReason.DRAINING, `${this.options.service} is shutting down`);
    }
    return undefined;
  }

  private start(m: BoundMethod, inbound: Inbound<unknown>, reply: Reply): ServerCall<unknown> {
    const call = new ServerCall<unknown>(
      m.info,
      inbound.request,
      inbound.metadata,
      inbound.deadline,
      inbound.signal,
      inbound.peer,
      inbound.onCancel !== undefined || inbound.cancelsThroughHandle === true,
      this.settledFn,
      reply,
    );
    inbound.onCancel?.((reason) => call.cancel(reason));
    this.live.add(call);
    return call;
  }

  private settled(call: Call<unknown>): void {
    this.live.delete(call);
    if (this.live.size === 0) this.idle?.();
  }

  /** See {@link RpcServer.drain}. */
  async drain(signal?: AbortSignal): Promise<void> {
    this.draining = true;
    if (this.live.size === 0) return;
    await new Promise<void>((resolve) => {
      const onAbort = (): void => {
        // Not DRAINING: the handler ran, so the caller must not take it for a refusal.
        const reason = new RefrontError(
          'UNAVAILABLE',
          CoreReason.LOST_IN_FLIGHT,
          `${this.options.service} stopped before the call finished`,
        );
        for (const call of this.live) abortCall(call, reason);
        resolve();
      };
      this.idle = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

type Handler = (req: unknown, ctx: unknown) => Promise<unknown>;

/**
 * `fn` behind the validator's check for `type`, or `fn` itself when there is nothing to check.
 * The check throws, so a refused request fails the call like a handler's throw would, inside
 * the default chain (span, RED metrics, error mapping), without running `fn`.
 */
function validated(
  type: MessageType<unknown>,
  validator: MessageValidator | undefined,
  fn: Handler,
): Handler {
  const check = validator?.checkFor(type);
  if (!check) return fn;
  return (req, ctx) => {
    const violations = check(req);
    if (violations.length > 0) throw invalidMessage(type, violations);
    return fn(req, ctx);
  };
}

/**
 * Creates a {@link Dispatcher}: the request router every Refront server transport builds on.
 *
 * @example
 * const dispatcher = createDispatcher({ service: 'tickets', logger, system: 'refront_inproc' });
 * dispatcher.add(TicketsServiceDefinition, impl);
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  return new Dispatcher(options);
}
