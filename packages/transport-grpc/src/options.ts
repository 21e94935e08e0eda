import type { ChannelCredentials } from '@grpc/grpc-js';
import {
  type ChannelOptions,
  credentials,
  experimental,
  ServerCredentials as Sc,
  type ServerCredentials,
} from '@grpc/grpc-js';
import type { Logger, MetricsRegistry } from '@refront/core';
import { invalidOption } from '@refront/core/transport';
import {
  type ClientTlsOptions,
  type KeepaliveOptions,
  positiveInt,
  resolveKeepalive,
  type ServerTlsOptions,
  TlsReloader,
} from '@refront/rpc';
import { GrpcErrors } from './errors.js';
import { certificateProvider } from './internal/certificateProvider.js';

/** Largest message accepted, in bytes (gRPC's own default). */
export const DEFAULT_MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Largest message sent, in bytes; a bigger one fails at the sender with RESOURCE_EXHAUSTED. */
export const DEFAULT_MAX_SEND_MESSAGE_BYTES = 4 * 1024 * 1024;
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

/** Credentials and, with TLS, the files they are kept current from (the owner closes it). */
export interface Credentials<C> {
  readonly credentials: C;
  readonly tls: TlsReloader | undefined;
}

/** Where a reloader reports refused rotations and counts reloads. */
export interface ReloadReporting {
  readonly logger: Logger;
  readonly metrics?: MetricsRegistry | undefined;
}

/**
 * Server credentials from PEM files, kept current when the files rotate (grpc-js certificate
 * provider credentials); insecure (plaintext HTTP/2) without `tls`.
 * @throws RefrontError INVALID_ARGUMENT `GRPC_BAD_CREDENTIALS` when a file cannot be read,
 *   `RPC_BAD_TLS_MATERIAL` when the key does not match the certificate.
 */
export function serverCredentials(
  tls: ServerTlsOptions | undefined,
  reporting: ReloadReporting,
): Credentials<ServerCredentials> {
  if (!tls) return { credentials: Sc.createInsecure(), tls: undefined };
  const reloader = new TlsReloader({
    files: { caFile: tls.clientCaFile, certFile: tls.certFile, keyFile: tls.keyFile },
    unreadable: GrpcErrors.BAD_CREDENTIALS,
    ...reporting,
  });
  const provider = certificateProvider(reloader);
  const mutual = tls.clientCaFile !== undefined;
  // grpc-js 1.14 hands its first argument to the identity slot and its second to the CA slot
  // (whatever their names say); a CA provider is what makes the server ask for client certificates.
  const credentials = experimental.createCertificateProviderServerCredentials(
    provider,
    mutual ? provider : null,
    mutual,
  );
  return { credentials, tls: reloader };
}

/**
 * Channel credentials from PEM files, kept current when the files rotate (grpc-js certificate
 * provider credentials); insecure without `tls`.
 * @throws RefrontError INVALID_ARGUMENT `GRPC_BAD_CREDENTIALS` when a file cannot be read,
 *   `RPC_BAD_TLS_MATERIAL` when the key does not match the certificate, or
 *   `CORE_INVALID_OPTION` when only one of certFile and keyFile is given.
 */
export function channelCredentials(
  tls: ClientTlsOptions | undefined,
  reporting: ReloadReporting,
): Credentials<ChannelCredentials> {
  if (!tls) return { credentials: credentials.createInsecure(), tls: undefined };
  if (tls.caFile === undefined && tls.certFile === undefined && tls.keyFile === undefined) {
    return { credentials: credentials.createSsl(), tls: undefined };
  }
  const reloader = new TlsReloader({ files: tls, unreadable: GrpcErrors.BAD_CREDENTIALS, ...reporting });
  const provider = certificateProvider(reloader);
  const creds = experimental.createCertificateProviderChannelCredentials(
    provider,
    tls.certFile === undefined ? null : provider,
  );
  return { credentials: creds, tls: reloader };
}

/** grpc-js options of a connection (server or client side), defaults resolved. */
export function channelOptions(
  side: 'server' | 'client',
  o: ConnectionOptions,
  tls?: ClientTlsOptions,
): ChannelOptions {
  const keepalive = resolveKeepalive(o.keepalive, side);
  const out: ChannelOptions = {
    'grpc.max_receive_message_length': positiveInt(
      'maxReceiveMessageBytes',
      o.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
    ),
    'grpc.max_send_message_length': positiveInt(
      'maxSendMessageBytes',
      o.maxSendMessageBytes ?? DEFAULT_MAX_SEND_MESSAGE_BYTES,
    ),
    'grpc.keepalive_time_ms': keepalive.timeMs,
    'grpc.keepalive_timeout_ms': keepalive.timeoutMs,
    'grpc.keepalive_permit_without_calls': 1,
  };
  if (side === 'server') out['grpc.http2.min_ping_interval_without_data_ms'] = DEFAULT_MIN_PING_INTERVAL_MS;
  else {
    const initial = positiveInt(
      'reconnect.initialBackoffMs',
      o.reconnect?.initialBackoffMs ?? DEFAULT_RECONNECT_INITIAL_BACKOFF_MS,
    );
    const max = positiveInt(
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
