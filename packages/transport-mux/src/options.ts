import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions as TlsConnectOptions, TlsOptions } from 'node:tls';
import { RefrontError } from '@refront/core';
import { invalidOption } from '@refront/core/transport';
import { MuxReason } from './protocol.js';

/** Keepalive pings and dead-peer detection. */
export interface KeepaliveOptions {
  /** Ping a connection that read nothing for about this long, in ms. @default 30 000 (client) / 60 000 (server) */
  readonly timeMs?: number;
  /** Time a ping may wait for any frame before the connection is closed, in ms. @default 10 000 */
  readonly timeoutMs?: number;
}

/** TLS of a server, from PEM files (the same shape as `@refront/transport-grpc`'s). */
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

/** TLS of a client, from PEM files (the same shape as `@refront/transport-grpc`'s). */
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
    throw new RefrontError('INVALID_ARGUMENT', MuxReason.BAD_CREDENTIALS, `cannot read ${label} ${file}`, {
      cause: e,
      retryable: false,
    });
  }
}

/**
 * node:tls server options from PEM files; with `clientCaFile`, client certificates are required.
 * @throws RefrontError INVALID_ARGUMENT `MUX_BAD_CREDENTIALS` when a file cannot be read.
 */
export function serverTlsOptions(tls: ServerTlsOptions): TlsOptions {
  const ca = tls.clientCaFile ? readPem('clientCaFile', tls.clientCaFile) : undefined;
  return {
    cert: readPem('certFile', tls.certFile),
    key: readPem('keyFile', tls.keyFile),
    ...(ca ? { ca, requestCert: true, rejectUnauthorized: true } : {}),
    minVersion: 'TLSv1.2',
  };
}

/**
 * node:tls client options from PEM files (without host and port).
 * @throws RefrontError `MUX_BAD_CREDENTIALS` when a file cannot be read, `CORE_INVALID_OPTION`
 *   when only one of certFile and keyFile is given.
 */
export function clientTlsOptions(tls: ClientTlsOptions): TlsConnectOptions {
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw invalidOption('tls.certFile and tls.keyFile go together');
  }
  return {
    ...(tls.caFile ? { ca: readPem('caFile', tls.caFile) } : {}),
    ...(tls.certFile ? { cert: readPem('certFile', tls.certFile) } : {}),
    ...(tls.keyFile ? { key: readPem('keyFile', tls.keyFile) } : {}),
    minVersion: 'TLSv1.2',
  };
}

/** The SNI name and the name checked against the certificate for a dialled host. */
export function serverNameFor(
  host: string,
  tls: ClientTlsOptions,
): { servername?: string; checkName: string } {
  const name = tls.serverName ?? host;
  return isIP(name) ? { checkName: name } : { servername: name, checkName: name };
}

/** Validates a positive integer option. @throws RefrontError `CORE_INVALID_OPTION` */
export function positiveInt(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!(Number.isInteger(value) && value > 0 && value <= max)) {
    throw invalidOption(`${name} must be a positive integer up to ${max}, got ${value}`);
  }
  return value;
}
