/**
 * Shapes of the code ts-proto generates (`outputServices=generic-definitions`,
 * `outputTypeAnnotations=static-only`): message codecs and service definitions. Handlers,
 * clients and event subscribers are typed from these, so nothing is stringly typed.
 */
import type { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import type { Logger } from './logger.js';

/** Anything with `finish()`, as ts-proto's BinaryWriter. */
export interface Finishable {
  finish(): Uint8Array;
}

/** A partial message, as ts-proto's `DeepPartial`. */
export type DeepPartial<T> = T extends Uint8Array | Date | string | number | boolean | bigint | undefined
  ? T
  : T extends ReadonlyArray<infer U>
    ? ReadonlyArray<DeepPartial<U>>
    : T extends object
      ? { [K in keyof T]?: DeepPartial<T[K]> }
      : Partial<T>;

/** A generated message codec (ts-proto's `MessageFns`). */
export interface MessageType<T> {
  /** The fully-qualified protobuf name (`refront.tickets.v1.TicketCreated`). */
  readonly $type: string;
  /** Encodes into `writer` (a fresh one when omitted); `encodeMessage` reuses one for the hot path. */
  encode(message: T, writer?: BinaryWriter): Finishable;
  /** Decodes from a reader (`decodeMessage` passes a strict one) or bytes; lenient alone: use `decodeMessage`. */
  decode(input: BinaryReader | Uint8Array, length?: number): T;
  fromPartial(object: DeepPartial<T>): T;
  fromJSON(object: unknown): T;
  toJSON(message: T): unknown;
}

/** A generated method descriptor. */
export interface MethodDefinition<Req, Res> {
  readonly name: string;
  readonly requestType: MessageType<Req>;
  readonly requestStream: boolean;
  readonly responseType: MessageType<Res>;
  readonly responseStream: boolean;
  readonly options: { readonly idempotencyLevel?: string | undefined } & Readonly<Record<string, unknown>>;
}

/** A generated service definition (`XxxServiceDefinition`). */
export interface ServiceDefinition {
  readonly name: string;
  readonly fullName: string;
  // biome-ignore lint/suspicious/noExplicitAny: generated definitions vary per method
  readonly methods: Readonly<Record<string, MethodDefinition<any, any>>>;
}

/** The request type of a method definition. */
export type RequestOf<M> = M extends MethodDefinition<infer Req, unknown> ? Req : never;
/** The response type of a method definition. */
export type ResponseOf<M> = M extends MethodDefinition<unknown, infer Res> ? Res : never;

/** Per-call options of a typed client. */
export interface CallOptions {
  /** Cancels the call; the caller gets `signal.reason` back unchanged. */
  readonly signal?: AbortSignal;
  /** Time allowed for the call in ms; the request context's deadline still wins when earlier. */
  readonly timeoutMs?: number;
  /** Extra metadata (lower-case keys). */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * The call's idempotency key (1-255 printable ASCII characters), sent on every retry of the
   * call. @default derived from the key of the call being served, else a random UUID
   */
  readonly idempotencyKey?: string;
}

/** A typed client: one async method per unary RPC of the contract. */
export type Client<S extends ServiceDefinition> = {
  readonly [K in keyof S['methods']]: (
    request: DeepPartial<RequestOf<S['methods'][K]>>,
    options?: CallOptions,
  ) => Promise<ResponseOf<S['methods'][K]>>;
};

/** What a handler gets besides its request: the request context's essentials. */
export interface HandlerContext {
  /** Aborts at the deadline, on caller cancel, or when shutdown's grace period ends. */
  readonly signal: AbortSignal;
  /** Absolute deadline in ms since the epoch. */
  readonly deadline: number | undefined;
  /** Identity of the caller. */
  readonly caller: string | undefined;
  /** Tenant the request acts for. */
  readonly tenant: string | undefined;
  /** Inbound metadata. */
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * The call's idempotency key: the same on every retry of one logical call, so a handler that
   * stores its response under it (`@refront/data`'s idempotent requests) answers a retry with
   * the first response. Undefined when the caller sent none.
   */
  readonly idempotencyKey: string | undefined;
  /**
   * The service's logger for this call: every line carries `service`, `method` (the method's
   * path), `trace_id` and `span_id` (the call's server span), and `tenant` when there is one.
   */
  readonly logger: Logger;
}

/** The server side of a contract: one async handler per unary RPC. */
export type ServiceImplementation<S extends ServiceDefinition> = {
  readonly [K in keyof S['methods']]: (
    request: RequestOf<S['methods'][K]>,
    context: HandlerContext,
  ) => Promise<DeepPartial<ResponseOf<S['methods'][K]>>>;
};
