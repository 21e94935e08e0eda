import { clientDefaultsInterceptor } from './clientDefaults.js';
import type { CallOptions, Client, MessageType, ServiceDefinition } from './contracts.js';
import { invalidOption } from './coreErrors.js';
import { bindChain, type Call, type Interceptor, type Metadata, type MethodInfo } from './Interceptor.js';
import { invalidIdempotencyKey, isValidIdempotencyKey } from './idempotencyKey.js';
import { methodFactsCache } from './instrumentation.js';
import { DEFAULT_CALL_TIMEOUT_MS, METADATA_IDEMPOTENCY_KEY } from './metadataKeys.js';
import type { MetricsRegistry } from './metrics.js';
import { OutboundCall, settled } from './OutboundCall.js';
import type { Reply } from './Reply.js';

/** A method as a channel needs it: where to send, and how to encode and decode. */
export interface ClientMethod<Req = unknown, Res = unknown> {
  readonly info: MethodInfo;
  readonly requestType: MessageType<Req>;
  readonly responseType: MessageType<Res>;
}

/**
 * The transport side of a client: sends one unary call and returns the decoded response. The
 * gRPC, mux and in-process transports implement it; {@link createClient} adds types and the
 * interceptor chain on top.
 */
export interface Channel {
  /**
   * Sends `call.request` to `method`.
   * @throws RefrontError for every failure (mapped at the edge), or `call.signal.reason`
   *   unchanged when the caller aborted.
   */
  unary<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>): Promise<Res>;
  /**
   * Optional: sends `call.request` to `method` and reports the outcome to `reply` exactly once,
   * now or later (the decoded response, or what {@link Channel.unary} would reject with); never
   * throws. When a channel has it and the client runs no interceptors but the defaults,
   * {@link createClient} makes one object per call that is the call, the defaults' state and the
   * reply, and settles one promise per call: the caller's.
   */
  send?<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>, reply: Reply): void;
}

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** Name of the calling service, sent as the caller identity. */
  readonly caller: string;
  /** Registry for RED metrics of calls made. @default none */
  readonly metrics?: MetricsRegistry | undefined;
  /** Interceptors run after the defaults, outermost first (a resilience policy, auth…). @default [] */
  readonly interceptors?: readonly Interceptor[];
  /** Run the default interceptors (deadline and context propagation, span, metrics). @default true */
  readonly defaultInterceptors?: boolean;
  /** Time allowed per call when the caller sets none, in ms. @default DEFAULT_CALL_TIMEOUT_MS (10 s) */
  readonly timeoutMs?: number;
  /** `rpc.system` of the client spans. @default 'refront' */
  readonly system?: string;
}

/** The metadata a call starts with: the caller's, and the idempotency key it chose. */
function metadataOf(opts: CallOptions | undefined): Metadata {
  if (opts === undefined) return {};
  const md: Metadata = opts.metadata ? { ...opts.metadata } : {};
  if (opts.idempotencyKey !== undefined) md[METADATA_IDEMPOTENCY_KEY] = opts.idempotencyKey;
  return md;
}

/** Static method facts of a contract, keyed by the client's method key. */
export function methodsOf(definition: ServiceDefinition): Map<string, ClientMethod> {
  const out = new Map<string, ClientMethod>();
  for (const [key, def] of Object.entries(definition.methods)) {
    if (def.requestStream || def.responseStream) continue;
    out.set(key, {
      info: {
        service: definition.fullName,
        name: def.name,
        path: `/${definition.fullName}/${def.name}`,
        idempotent:
          def.options.idempotencyLevel === 'IDEMPOTENT' || def.options.idempotencyLevel === 'NO_SIDE_EFFECTS',
      },
      requestType: def.requestType,
      responseType: def.responseType,
    });
  }
  return out;
}

/**
 * Creates a typed client for a contract over any {@link Channel}. Every call gets a deadline
 * (`timeoutMs`, or the request context's when earlier), the caller identity, the tenant, an
 * idempotency key (the caller's `idempotencyKey`, else one derived from the key of the call being
 * served, else a random UUID; the same on every retry), a span and RED metrics.
 *
 * @throws RefrontError INVALID_ARGUMENT for a non-positive `timeoutMs`; a call rejects with
 *   INVALID_ARGUMENT `CORE_INVALID_IDEMPOTENCY_KEY` for a malformed `idempotencyKey`.
 * @example
 * const tickets = createClient(TicketsServiceDefinition, network.channel(), { caller: 'time-tracking' });
 * const ticket = await tickets.getTicket({ id }, { timeoutMs: 2_000 });
 */
export function createClient<S extends ServiceDefinition>(
  definition: S,
  channel: Channel,
  options: ClientOptions,
): Client<S> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw invalidOption(`timeoutMs must be > 0, got ${timeoutMs}`);
  const defaults = options.defaultInterceptors ?? true;
  const extra = options.interceptors ?? [];
  const client: Record<string, (request: unknown, opts?: CallOptions) => Promise<unknown>> = {};
  if (extra.length === 0 && typeof channel.send === 'function') {
    // The channel takes a reply: one object per call, one promise (see Channel.send).
    const send = channel.send.bind(channel) as NonNullable<Channel['send']>;
    const caller = options.caller;
    const factsOf = defaults
      ? methodFactsCache(options.metrics, 'client', options.system ?? 'refront')
      : undefined;
    for (const [key, method] of methodsOf(definition)) {
      const facts = factsOf?.(method.info);
      client[key] = (request, opts) => {
        if (opts?.idempotencyKey !== undefined && !isValidIdempotencyKey(opts.idempotencyKey))
          return Promise.reject(invalidIdempotencyKey(opts.idempotencyKey));
        const now = Date.now();
        const call = new OutboundCall(
          method.info,
          method.requestType.fromPartial((request ?? {}) as never),
          metadataOf(opts),
          now + (opts?.timeoutMs ?? timeoutMs),
          opts?.signal,
        );
        if (facts) {
          const refused = call.begin(call, facts, caller, now);
          if (refused !== undefined) return Promise.reject(refused);
        }
        const p = settled(call);
        try {
          send(method, call, call);
        } catch (e: unknown) {
          call.fail(e);
        }
        return p;
      };
    }
    return client as Client<S>;
  }
  const chain = defaults ? [clientDefaultsInterceptor(options), ...extra] : extra;
  for (const [key, method] of methodsOf(definition)) {
    const invoke = bindChain(chain, (call: Call<unknown>) => channel.unary(method, call));
    client[key] = (request, opts) => {
      if (opts?.idempotencyKey !== undefined && !isValidIdempotencyKey(opts.idempotencyKey))
        return Promise.reject(invalidIdempotencyKey(opts.idempotencyKey));
      const call: Call<unknown> = {
        side: 'client',
        method: method.info,
        request: method.requestType.fromPartial((request ?? {}) as never),
        metadata: metadataOf(opts),
        deadline: Date.now() + (opts?.timeoutMs ?? timeoutMs),
        signal: opts?.signal,
        context: undefined,
        peer: undefined,
      };
      return invoke(call);
    };
  }
  return client as Client<S>;
}
