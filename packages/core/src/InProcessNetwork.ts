import type { ServiceDefinition, ServiceImplementation } from './contracts.js';
import { CoreErrors, CoreReason } from './coreErrors.js';
import type { Channel, ClientMethod } from './createClient.js';
import { createDispatcher, type Dispatcher, type DispatcherOptions } from './Dispatcher.js';
import { decodeMessage } from './decodeMessage.js';
import { encodeMessage } from './encodeMessage.js';
import { asUnprocessed, isRefrontError, type RefrontError } from './errors.js';
import type { Call } from './Interceptor.js';
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

/** Options of {@link InProcessNetwork.createServer}. */
export type InProcessServerOptions = Omit<DispatcherOptions, 'system'>;

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
   * service (round-robin among several, skipping draining ones).
   *
   * @example
   * const tickets = createClient(TicketsServiceDefinition, network.channel(), { caller: 'time-tracking' });
   */
  channel(): Channel {
    return { unary: (method, call) => this.unary(method, call) };
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

  private unary<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>): Promise<Res> {
    const path = method.info.path;
    const dispatcher = this.pick(method.info.service);
    if (!dispatcher) {
      return Promise.reject(CoreErrors.NO_SERVER.with({ unprocessed: true }, method.info.service));
    }
    const target = dispatcher.method(path);
    let request: unknown = call.request;
    if (this.copy && target) {
      try {
        request = decodeMessage(target.requestType, encodeMessage(method.requestType, call.request));
      } catch (e: unknown) {
        return Promise.reject(decodeFailed(path, e));
      }
    }
    call.target = dispatcher.options.service;
    // A dispatcher that drains refuses the call before running anything: any caller may retry it.
    // (Nothing is ever lost in flight here: there is no connection to lose.)
    const refusing = dispatcher.isDraining;
    let pending = dispatcher.invoke(path, {
      request,
      metadata: { ...call.metadata },
      deadline: call.deadline,
      signal: call.signal,
      peer: 'inproc',
    });
    if (refusing) pending = pending.catch(markRefusal);
    const copied =
      this.copy && target
        ? pending.then((res) => {
            try {
              return decodeMessage(method.responseType, encodeMessage(target.responseType, res));
            } catch (e: unknown) {
              throw decodeFailed(path, e);
            }
          })
        : (pending as Promise<Res>);
    const signal = call.signal;
    if (!signal) return copied;
    return new Promise<Res>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      copied.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(signal.aborted ? signal.reason : e);
        },
      );
    });
  }
}

function markRefusal(e: unknown): never {
  throw isRefrontError(e) && e.reason === CoreReason.DRAINING ? asUnprocessed(e) : e;
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
