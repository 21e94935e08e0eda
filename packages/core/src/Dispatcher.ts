import { type ServerAuthOptions, serverAuthInterceptor } from './auth.js';
import type { MutableRequestContext, RequestContext } from './context.js';
import type { MessageType, ServiceDefinition, ServiceImplementation } from './contracts.js';
import { CoreErrors, invalidOption } from './coreErrors.js';
import type { RefrontError } from './errors.js';
import type { CallHandle, Inbound, ServerMethod } from './Inbound.js';
import { bindChain, type Call, type Interceptor, type Metadata, type MethodInfo } from './Interceptor.js';
import type { Logger } from './logger.js';
import { invalidMessage, type MessageValidator } from './MessageValidator.js';
import type { MetricsRegistry } from './metrics.js';
import type { Reply } from './Reply.js';
import type { RpcServer } from './RpcServer.js';
import {
  ABORT,
  abortCall,
  type CancelTarget,
  type Complete,
  type ServeWithDefaults,
  serveWithDefaults,
  type TransportCancellable,
} from './serverDefaults.js';

/** Options of {@link createDispatcher}. */
export interface DispatcherOptions {
  /** The serving service's name (logs, metrics, the request context). */
  readonly service: string;
  /** The service logger. */
  readonly logger: Logger;
  /** Registry for RED metrics. @default none */
  readonly metrics?: MetricsRegistry | undefined;
  /** Interceptors run after the defaults and `auth`, outermost first. @default [] */
  readonly interceptors?: readonly Interceptor[];
  /**
   * Authentication of every call ({@link serverAuthInterceptor}), run after the defaults and
   * before `interceptors`: the same on every lane, whether the peer identity comes from a client
   * certificate or an in-process channel's caller. @default none
   */
  readonly auth?: ServerAuthOptions | undefined;
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
    const auth = options.auth ? [serverAuthInterceptor(options.auth)] : [];
    this.interceptors = [...auth, ...(options.interceptors ?? [])];
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
      // of the user's see the completed response, as the handler's caller would. `auth` does not
      // read the response, so it keeps the short path.
      const direct = this.defaults !== undefined && (this.options.interceptors ?? []).length === 0;
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
      return CoreErrors.UNIMPLEMENTED(path, this.options.service);
    }
    if (this.draining) {
      return CoreErrors.DRAINING(this.options.service);
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
        const reason = CoreErrors.LOST_IN_FLIGHT(`${this.options.service} stopped before the call finished`);
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

/**
 * A call being served, as the Dispatcher makes it; it is also where the chain's outcome goes
 * (the Dispatcher's bookkeeping, then the transport's {@link Reply}). When its transport reports
 * cancellation through a callback (`Inbound.onCancel`) or the handle the Dispatcher returns,
 * rather than an AbortSignal, `signal` is made only when something reads it, and the context
 * interceptor sets no deadline timer (such a transport ends the call at its deadline itself), so
 * a call that nobody cancels costs no AbortController, listener or timer.
 * @internal made by the {@link Dispatcher}.
 */
export class ServerCall<Req> implements Call<Req>, Reply, TransportCancellable {
  readonly side = 'server' as const;
  context: RequestContext | undefined = undefined;
  target?: string | undefined;
  [ABORT]: CancelTarget | undefined = undefined;
  /** Set by the default chain: aborts the call once when the transport cancels. */
  onTransportCancel: CancelTarget | undefined = undefined;
  private controller: AbortController | undefined;
  private reason: RefrontError | undefined;

  constructor(
    readonly method: MethodInfo,
    public request: Req,
    readonly metadata: Metadata,
    public deadline: number | undefined,
    private readonly inboundSignal: AbortSignal | undefined,
    readonly peer: string | undefined,
    /** Whether the transport cancels through {@link ServerCall.cancel} (and enforces the deadline). */
    readonly cancelledByTransport: boolean,
    /** Runs first when the call settles (the Dispatcher's in-flight bookkeeping). */
    private readonly settled: (call: ServerCall<Req>) => void,
    /** Where the outcome goes then. */
    private readonly reply: Reply,
  ) {}

  get signal(): AbortSignal | undefined {
    if (!this.cancelledByTransport) return this.inboundSignal;
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** The transport's cancel reason, once cancelled. */
  get cancelReason(): RefrontError | undefined {
    return this.reason;
  }

  /** The transport cancelled the call (client gone, deadline passed); the first reason wins. */
  cancel(reason: RefrontError): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
    this.onTransportCancel?.abort(reason);
  }

  /** The chain answered (called once). */
  ok(response: unknown): void {
    this.settled(this);
    this.reply.ok(response);
  }

  /** The chain failed (called once). */
  fail(error: unknown): void {
    this.settled(this);
    this.reply.fail(error);
  }
}
