import type { ErrorFactory } from '@refront/core/transport';

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

/** A lane's error for a PEM file that cannot be read: `GrpcErrors.BAD_CREDENTIALS`, `MuxErrors.BAD_CREDENTIALS`. */
export type UnreadablePem = ErrorFactory<string, [label: string, file: string]>;
