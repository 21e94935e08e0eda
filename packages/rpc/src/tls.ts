import { readFileSync } from 'node:fs';
import { type ErrorFactory, invalidOption } from '@refront/core/transport';

/** TLS of a server, from PEM files (the `tls` option of the gRPC and mux servers). */
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

/** TLS of a client, from PEM files (the `tls` option of the gRPC and mux channels). */
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

/** The PEM files of {@link ServerTlsOptions}, read. */
export interface ServerPems {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** The client CA bundle: set means mutual TLS. */
  readonly clientCa: Buffer | undefined;
}

/** The PEM files of {@link ClientTlsOptions}, read; each is undefined when its file is not given. */
export interface ClientPems {
  readonly ca: Buffer | undefined;
  readonly cert: Buffer | undefined;
  readonly key: Buffer | undefined;
}

/** A lane's error for a PEM file that cannot be read: `GrpcErrors.BAD_CREDENTIALS`, `MuxErrors.BAD_CREDENTIALS`. */
export type UnreadablePem = ErrorFactory<string, [label: string, file: string]>;

function readPem(label: string, file: string, unreadable: UnreadablePem): Buffer {
  try {
    return readFileSync(file);
  } catch (e: unknown) {
    throw unreadable.with({ cause: e }, label, file);
  }
}

/**
 * Reads a server's PEM files. `unreadable` is the lane's error for a file that cannot be read.
 *
 * @throws RefrontError `unreadable` (the file named) when a file cannot be read.
 * @example
 * const pems = readServerPems(options.tls, MuxErrors.BAD_CREDENTIALS);
 * createTlsServer({ cert: pems.cert, key: pems.key, ca: pems.clientCa, requestCert: pems.clientCa !== undefined });
 */
export function readServerPems(tls: ServerTlsOptions, unreadable: UnreadablePem): ServerPems {
  return {
    clientCa: tls.clientCaFile ? readPem('clientCaFile', tls.clientCaFile, unreadable) : undefined,
    cert: readPem('certFile', tls.certFile, unreadable),
    key: readPem('keyFile', tls.keyFile, unreadable),
  };
}

/**
 * Reads a client's PEM files. `unreadable` is the lane's error for a file that cannot be read.
 *
 * @throws RefrontError `CORE_INVALID_OPTION` when only one of certFile and keyFile is given;
 *   `unreadable` when a file cannot be read.
 * @example
 * const { ca, cert, key } = readClientPems(options.tls, GrpcErrors.BAD_CREDENTIALS);
 */
export function readClientPems(tls: ClientTlsOptions, unreadable: UnreadablePem): ClientPems {
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw invalidOption('tls.certFile and tls.keyFile go together');
  }
  return {
    ca: tls.caFile ? readPem('caFile', tls.caFile, unreadable) : undefined,
    cert: tls.certFile ? readPem('certFile', tls.certFile, unreadable) : undefined,
    key: tls.keyFile ? readPem('keyFile', tls.keyFile, unreadable) : undefined,
  };
}
