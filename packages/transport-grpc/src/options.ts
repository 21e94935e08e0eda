import { readFileSync } from 'node:fs';
import type { ChannelCredentials } from '@grpc/grpc-js';
import {
  type ChannelOptions,
  credentials,
  ServerCredentials as Sc,
  type ServerCredentials,
} from '@grpc/grpc-js';
import { RefrontError } from '@refront/core';
import { invalidOption } from '@refront/core/transport';
import { GrpcReason } from './errors.js';

/** Largest message accepted, in bytes (gRPC's own default). */
export const DEFAULT_MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Largest message sent, in bytes; a bigger one fails at the sender with RESOURCE_EXHAUSTED. */
export const DEFAULT_MAX_SEND_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Client: ping an idle connection this often, in ms, so a dead peer or a dropped NAT entry is noticed. */
export const DEFAULT_CLIENT_KEEPALIVE_TIME_MS = 30_000;
/** Server: ping an idle connection this often, in ms. */
export const DEFAULT_SERVER_KEEPALIVE_TIME_MS = 60_000;
/** How long a ping may wait for its answer before the connection is closed, in ms. */
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 10_000;
/**
 * Server: the shortest interval between client pings it tolerates, in ms (more frequent pings get
 * GOAWAY "too_many_pings"). Below the client's keepalive time, so Refront clients are never cut.
 */
export const DEFAULT_MIN_PING_INTERVAL_MS = 10_000;

/**
 * Client: first wait before dialling a lost connection again, in ms. grpc-js waits 1 s and grows
 * to 120 s, so a peer restarted after a minute of failures stays unreachable for up to two more
 * minutes; Refront retries sooner and caps the wait.
 */
export const DEFAULT_RECONNECT_INITIAL_BACKOFF_MS = 250;
/** Client: longest wait between attempts to dial a lost connection again, in ms (jittered by grpc-js). */
export const DEFAULT_RECONNECT_MAX_BACKOFF_MS = 5_000;

/** How a client dials a lost connection again (exponential backoff with jitter). */
export interface ReconnectOptions {
  /** First wait, in ms. @default DEFAULT_RECONNECT_INITIAL_BACKOFF_MS (250) */
  readonly initialBackoffMs?: number;
  /** Longest wait, in ms. @default DEFAULT_RECONNECT_MAX_BACKOFF_MS (5000) */
  readonly maxBackoffMs?: number;
}

/** Keepalive (HTTP/2 PING) settings. */
export interface KeepaliveOptions {
  /** Interval between pings on a connection, in ms. @default 30 000 (client) / 60 000 (server) */
  readonly timeMs?: number;
  /** Time a ping may wait for its answer before the connection is closed, in ms. @default 10 000 */
  readonly timeoutMs?: number;
}

/** Limits and keepalive shared by servers and clients. */
export interface ConnectionOptions {
  /** Largest message accepted, in bytes. @default DEFAULT_MAX_RECEIVE_MESSAGE_BYTES (4 MiB) */
  readonly maxReceiveMessageBytes?: number;
  /** Largest message sent, in bytes. @default DEFAULT_MAX_SEND_MESSAGE_BYTES (4 MiB) */
  readonly maxSendMessageBytes?: number;
  /** HTTP/2 keepalive. @default see {@link KeepaliveOptions} */
  readonly keepalive?: KeepaliveOptions;
  /** Client only: backoff between attempts to dial a lost connection. @default see {@link ReconnectOptions} */
  readonly reconnect?: ReconnectOptions;
  /** Raw grpc-js channel options, applied last (an escape hatch; prefer the typed options). @default {} */
  readonly grpcOptions?: ChannelOptions;
}

/** TLS of a server, from PEM files. */
export interface ServerTlsOptions {
  /** The server's certificate chain (PEM). */
  readonly certFile: string;
  /** The server's private key (PEM). */
  readonly keyFile: string;
  /**
   * CA bundle (PEM) that client certificates must chain to. When set, clients must present a
   * certificate (mutual TLS) and its identity reaches the handler. @default none (server TLS only)
   */
  readonly clientCaFile?: string;
}

/** TLS of a client, from PEM files. */
export interface ClientTlsOptions {
  /** CA bundle (PEM) the server's certificate must chain to. @default Node's root certificates */
  readonly caFile?: string;
  /** The client's certificate chain (PEM), for mutual TLS. @default none */
  readonly certFile?: string;
  /** The client's private key (PEM), for mutual TLS. @default none */
  readonly keyFile?: string;
  /**
   * Name the server certificate must carry, when it differs from the address dialled (instances
   * found by discovery are dialled by IP). @default the dialled host
   */
  readonly serverName?: string;
}

function readPem(label: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e: unknown) {
    throw new RefrontError('INVALID_ARGUMENT', GrpcReason.BAD_CREDENTIALS, `cannot read ${label} ${file}`, {
      cause: e,
      retryable: false,
    });
  }
}

/**
 * Server credentials from PEM files; insecure (plaintext HTTP/2) without `tls`.
 * @throws RefrontError INVALID_ARGUMENT `GRPC_BAD_CREDENTIALS` when a file cannot be read.
 */
export function serverCredentials(tls: ServerTlsOptions | undefined): ServerCredentials {
  if (!tls) return Sc.createInsecure();
  const ca = tls.clientCaFile ? readPem('clientCaFile', tls.clientCaFile) : null;
  const pair = {
    cert_chain: readPem('certFile', tls.certFile),
    private_key: readPem('keyFile', tls.keyFile),
  };
  return Sc.createSsl(ca, [pair], ca !== null);
}

/**
 * Channel credentials from PEM files; insecure without `tls`.
 * @throws RefrontError INVALID_ARGUMENT `GRPC_BAD_CREDENTIALS` when a file cannot be read, or
 *   `CORE_INVALID_OPTION` when only one of certFile and keyFile is given.
 */
export function channelCredentials(tls: ClientTlsOptions | undefined): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw invalidOption('tls.certFile and tls.keyFile go together');
  }
  return credentials.createSsl(
    tls.caFile ? readPem('caFile', tls.caFile) : null,
    tls.keyFile ? readPem('keyFile', tls.keyFile) : null,
    tls.certFile ? readPem('certFile', tls.certFile) : null,
  );
}

function positive(name: string, value: number): number {
  if (!(Number.isInteger(value) && value > 0)) throw invalidOption(`${name} must be a positive integer`);
  return value;
}

/** grpc-js options of a connection (server or client side), defaults resolved. */
export function channelOptions(
  side: 'server' | 'client',
  o: ConnectionOptions,
  tls?: ClientTlsOptions,
): ChannelOptions {
  const keepaliveDefault =
    side === 'server' ? DEFAULT_SERVER_KEEPALIVE_TIME_MS : DEFAULT_CLIENT_KEEPALIVE_TIME_MS;
  const out: ChannelOptions = {
    'grpc.max_receive_message_length': positive(
      'maxReceiveMessageBytes',
      o.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
    ),
    'grpc.max_send_message_length': positive(
      'maxSendMessageBytes',
      o.maxSendMessageBytes ?? DEFAULT_MAX_SEND_MESSAGE_BYTES,
    ),
    'grpc.keepalive_time_ms': positive('keepalive.timeMs', o.keepalive?.timeMs ?? keepaliveDefault),
    'grpc.keepalive_timeout_ms': positive(
      'keepalive.timeoutMs',
      o.keepalive?.timeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS,
    ),
    'grpc.keepalive_permit_without_calls': 1,
  };
  if (side === 'server') out['grpc.http2.min_ping_interval_without_data_ms'] = DEFAULT_MIN_PING_INTERVAL_MS;
  else {
    const initial = positive(
      'reconnect.initialBackoffMs',
      o.reconnect?.initialBackoffMs ?? DEFAULT_RECONNECT_INITIAL_BACKOFF_MS,
    );
    const max = positive(
      'reconnect.maxBackoffMs',
      o.reconnect?.maxBackoffMs ?? DEFAULT_RECONNECT_MAX_BACKOFF_MS,
    );
    if (max < initial)
      throw invalidOption('reconnect.maxBackoffMs must be at least reconnect.initialBackoffMs');
    out['grpc.initial_reconnect_backoff_ms'] = initial;
    out['grpc.max_reconnect_backoff_ms'] = max;
  }
  if (tls?.serverName) {
    out['grpc.ssl_target_name_override'] = tls.serverName;
    out['grpc.default_authority'] = tls.serverName;
  }
  return { ...out, ...o.grpcOptions };
}
