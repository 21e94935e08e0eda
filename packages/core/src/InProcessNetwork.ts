import { METADATA_PEER_IDENTITY, RESERVED_METADATA } from './auth.js';
import type { ServiceDefinition, ServiceImplementation } from './contracts.js';
import { CoreErrors, CoreReason } from './coreErrors.js';
import type { Channel, ClientMethod } from './createClient.js';
import { DeadlineWheel, type Expirable } from './DeadlineWheel.js';
import { createDispatcher, type Dispatcher, type DispatcherOptions } from './Dispatcher.js';
import { decodeMessage } from './decodeMessage.js';
import { encodeMessage } from './encodeMessage.js';
import { asUnprocessed, isRefrontError, type RefrontError } from './errors.js';
import type { CallHandle, Inbound, ServerMethod } from './Inbound.js';
import type { Call, Metadata } from './Interceptor.js';
import type { Reply } from './Reply.js';
import type { RpcServer } from './RpcServer.js';

/** `rpc.system` of in-process spans. */
export const INPROC_SYSTEM = 'refront_inproc';

/** Options of {@link createInProcessNetwork}. */
export interface InProcessNetworkOptions {
  /**
   * Encode and decode every request and response with its protobuf codec, as a network would,
   * so no object is shared between services and a contract mismatch fails here as it would in
   * the distributed topology. @default true
   */
  readonly copyMessages?: boolean;
}

/**
 * Options of {@link InProcessNetwork.createServer}. With `auth.callers`, the server checks the
 * caller of each call as a network server checks its client certificate: the caller of the
 * channel the call came through ({@link InProcessChannelOptions.caller}) is the peer identity; a
 * channel without one is UNAUTHENTICATED `CORE_UNAUTHENTICATED_CALLER`, an undeclared caller
 * PERMISSION_DENIED `CORE_CALLER_NOT_ALLOWED`. (`auth.peerIdentity` reads certificates: unused here.)
 */
export type InProcessServerOptions = Omit<DispatcherOptions, 'system'>;

/** Options of {@link InProcessNetwork.channel}. */
export interface InProcessChannelOptions {
  /**
   * Who calls through this channel: the service's name, as the servers' `auth.callers` name it.
   * It reaches every server as the call's peer identity (`x-refront-peer-identity`), as a client
   * certificate's identity does on a network lane, and a caller cannot claim another in its
   * metadata. @default none: calls carry no identity, and servers that check callers refuse them
   */
  readonly caller?: string;
}

/** An in-process server: an {@link RpcServer} reachable through its network's channels. */
export interface InProcessServer extends RpcServer {
  /** The dispatcher behind it (calls in flight, draining state). */
  readonly dispatcher: Dispatcher;
}

function decodeFailed(path: string, e: unknown): RefrontError {
  return CoreErrors.DECODE_FAILED.with({ cause: e }, `message for ${path}`, String(e));
}

/**
 * The embedded request transport: servers and clients in one process talk through it with the
 * same semantics as gRPC (deadlines, cancellation, typed errors, drain), without sockets.
 */
export class InProcessNetwork {
  private readonly routes = new Map<string, Dispatcher[]>();
  private readonly cursor = new WeakMap<Dispatcher[], number>();
  private readonly copy: boolean;
  /** Ends calls at their deadlines: one timer for all, not one per call; 1 ms buckets, as a timer per call was about as exact. */
  private readonly wheel = new DeadlineWheel({ resolutionMs: 1 });

  constructor(options: InProcessNetworkOptions = {}) {
    this.copy = options.copyMessages ?? true;
  }

  /**
   * Creates a server on this network; its services become reachable once started.
   *
   * @example
   * const server = network.createServer({ service: 'tickets', logger, metrics });
   * server.add(TicketsServiceDefinition, impl);
   * await server.start();
   */
  createServer(options: InProcessServerOptions): InProcessServer {
    const dispatcher = createDispatcher({ ...options, system: INPROC_SYSTEM });
    let started = false;
    let closing: Promise<void> | undefined;
    const detach = (): void => {
      for (const name of dispatcher.services) {
        const list = (this.routes.get(name) ?? []).filter((d) => d !== dispatcher);
        if (list.length > 0) this.routes.set(name, list);
        else this.routes.delete(name);
      }
    };
    return {
      dispatcher,
      add: <S extends ServiceDefinition>(definition: S, implementation: ServiceImplementation<S>) => {
        if (started) throw CoreErrors.INVALID_STATE('add() must come before start()');
        dispatcher.add(definition, implementation);
      },
      start: async () => {
        if (started) return;
        started = true;
        for (const name of dispatcher.services)
          this.routes.set(name, [...(this.routes.get(name) ?? []), dispatcher]);
      },
      drain: (signal?: AbortSignal) => dispatcher.drain(signal),
      close: () => {
        closing ??= (async () => {
          await dispatcher.drain(AbortSignal.abort());
          detach();
        })();
        return closing;
      },
    };
  }

  /**
   * A channel to every server on this network; calls go to a started server of the method's
   * service (round-robin among several, skipping draining ones), as `options.caller` when given.
   *
   * @example
   * const tickets = createClient(TicketsServiceDefinition, network.channel({ caller: 'time-tracking' }), {
   *   caller: 'time-tracking',
   * });
   */
  channel(options: InProcessChannelOptions = {}): Channel {
    const caller = options.caller;
    return {
      unary: <Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>): Promise<Res> =>
        new Promise<Res>((resolve, reject) => {
          this.send(method, call, { ok: resolve as (response: unknown) => void, fail: reject }, caller);
        }),
      send: (method, call, reply) => this.send(method, call, reply, caller),
    };
  }

  private pick(service: string): Dispatcher | undefined {
    const list = this.routes.get(service);
    if (!list || list.length === 0) return undefined;
    if (list.length === 1) return list[0];
    const start = this.cursor.get(list) ?? 0;
    for (let i = 0; i < list.length; i++) {
      const d = list[(start + i) % list.length]!;
      if (!d.isDraining) {
        this.cursor.set(list, (start + i + 1) % list.length);
        return d;
      }
    }
    return list[0];
  }

  /** See {@link Channel.send}: one {@link InProcessCall} per call, no promise of its own. */
  private send<Req, Res>(
    method: ClientMethod<Req, Res>,
    call: Call<Req>,
    out: Reply,
    caller: string | undefined,
  ): void {
    const path = method.info.path;
    const dispatcher = this.pick(method.info.service);
    if (!dispatcher) {
      out.fail(CoreErrors.NO_SERVER.with({ unprocessed: true }, method.info.service));
      return;
    }
    const signal = call.signal;
    if (signal?.aborted) {
      out.fail(signal.reason);
      return;
    }
    const target = dispatcher.method(path);
    const copy = this.copy && target !== undefined;
    let request: unknown = call.request;
    if (copy) {
      try {
        request = decodeMessage(target.requestType, encodeMessage(method.requestType, call.request));
      } catch (e: unknown) {
        out.fail(decodeFailed(path, e));
        return;
      }
    }
    call.target = dispatcher.options.service;
    // The server's own copy: what it adds does not reach the caller's retries. The caller's
    // identity is the channel's: what the client put under a reserved key is dropped. The
    // identity goes first in the literal: a spread copy that then gets a property of its own
    // costs V8 microseconds per call (decision 0150).
    const md = call.metadata;
    const metadata: Metadata = caller === undefined ? { ...md } : { [METADATA_PEER_IDENTITY]: caller, ...md };
    for (const key of RESERVED_METADATA) {
      if (!(key in md)) continue;
      if (key === METADATA_PEER_IDENTITY && caller !== undefined) metadata[key] = caller;
      else delete metadata[key];
    }
    const sent = new InProcessCall(
      this.wheel,
      request,
      metadata,
      call.deadline,
      signal,
      out,
      copy ? (method as ClientMethod) : undefined,
      target,
      // A dispatcher that drains refuses the call before running anything: any caller may retry
      // it. (Nothing is ever lost in flight here: there is no connection to lose.)
      dispatcher.isDraining,
    );
    if (sent.deadline !== undefined) this.wheel.add(sent as InProcessCall & Expirable);
    if (signal) signal.addEventListener('abort', sent, { once: true });
    const handle = dispatcher.dispatch(path, sent, sent);
    if (!sent.done) sent.handle = handle;
  }
}

/**
 * One call crossing the network, as one object (no closure or promise of its own): the
 * dispatcher's {@link Inbound} (cancelled through the handle the dispatcher returns, so the
 * server runs no deadline timer or abort listener per call), the {@link Reply} the dispatcher
 * answers, which copies the response back and answers the caller's reply, the wheel's entry
 * that ends the call at its deadline, and the listener on the caller's signal.
 */
class InProcessCall implements Inbound<unknown>, Reply {
  readonly cancelsThroughHandle = true;
  readonly peer = 'inproc';
  slot = 0;
  done = false;
  /** The dispatcher's handle, to cancel the call; undefined once settled. */
  handle: CallHandle | undefined = undefined;

  constructor(
    private readonly wheel: DeadlineWheel,
    readonly request: unknown,
    readonly metadata: Metadata,
    readonly deadline: number | undefined,
    private readonly callerSignal: AbortSignal | undefined,
    private readonly out: Reply,
    /** The caller's method when the response is copied back through its codec. */
    private readonly copyTo: ClientMethod | undefined,
    private readonly target: ServerMethod | undefined,
    private readonly refusing: boolean,
  ) {}

  ok(response: unknown): void {
    if (this.done) return;
    this.settle();
    const to = this.copyTo;
    if (to === undefined) {
      this.out.ok(response);
      return;
    }
    let copied: unknown;
    try {
      copied = decodeMessage(
        to.responseType,
        encodeMessage((this.target as ServerMethod).responseType, response),
      );
    } catch (e: unknown) {
      this.out.fail(decodeFailed(to.info.path, e));
      return;
    }
    this.out.ok(copied);
  }

  fail(error: unknown): void {
    if (this.done) return;
    this.settle();
    const signal = this.callerSignal;
    if (signal?.aborted) this.out.fail(signal.reason);
    else this.out.fail(this.refusing ? markedRefusal(error) : error);
  }

  /** The wheel says the deadline passed: the handler's signal aborts, the caller gets DEADLINE_EXCEEDED. */
  expire(): void {
    if (this.done) return;
    this.cancel(CoreErrors.DEADLINE_EXCEEDED('before the handler finished'));
  }

  /** The caller aborted (an EventListener object): the caller gets its reason at once. */
  handleEvent(): void {
    if (this.done) return;
    const reason = (this.callerSignal as AbortSignal).reason;
    const handle = this.handle;
    this.done = true;
    this.handle = undefined;
    if (this.deadline !== undefined) this.wheel.remove(this as InProcessCall & Expirable);
    handle?.cancel(isRefrontError(reason) ? reason : CoreErrors.CANCELLED.with({ cause: reason }));
    this.out.fail(reason);
  }

  /** Cancels the handler with `reason`; the chain answers with it, or the caller gets it here. */
  private cancel(reason: RefrontError): void {
    const handle = this.handle;
    this.handle = undefined;
    handle?.cancel(reason);
    this.fail(reason);
  }

  private settle(): void {
    this.done = true;
    this.handle = undefined;
    if (this.deadline !== undefined) this.wheel.remove(this as InProcessCall & Expirable);
    this.callerSignal?.removeEventListener('abort', this);
  }
}

function markedRefusal(e: unknown): unknown {
  return isRefrontError(e) && e.reason === CoreReason.DRAINING ? asUnprocessed(e) : e;
}

/**
 * Creates the embedded request network, the default of the monolith topology.
 *
 * @example
 * const network = createInProcessNetwork();
 */
export function createInProcessNetwork(options?: InProcessNetworkOptions): InProcessNetwork {
  return new InProcessNetwork(options);
}
