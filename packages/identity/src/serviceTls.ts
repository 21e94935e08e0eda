/** A service's certificate, key and the CA bundle it trusts, as PEM files. */
export interface ServiceTlsFiles {
  /** CA bundle (PEM) peers' certificates must chain to. */
  readonly caFile: string;
  /** The service's certificate chain (PEM). */
  readonly certFile: string;
  /** The service's private key (PEM). */
  readonly keyFile: string;
}

/** Server TLS requiring client certificates (the `tls` option of gRPC and mux servers). */
export interface MutualServerTls {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFile: string;
}

/** Client TLS presenting the service's certificate (the `tls` option of gRPC and mux channels). */
export interface MutualClientTls {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** The name the server's certificate must carry: the called service. */
  readonly serverName: string;
}

/**
 * Mutual TLS of one service on both lanes, from its files: the server requires a client
 * certificate from the same CA, and a client to `service` presents this service's certificate
 * and checks that the server's certificate names `service` (its DNS subject alternative name, as
 * {@link createDevCertificates} and cert-manager's `dnsNames` write it), whatever address
 * discovery dialled.
 *
 * @example
 * const tls = mutualTls(files);
 * createMuxServer({ service: 'tickets', logger, tls: tls.server, auth: { callers } });
 * createMuxChannel({ discovery, service: 'tickets-mux', tls: tls.client('tickets') });
 */
export function mutualTls(files: ServiceTlsFiles): {
  readonly server: MutualServerTls;
  client(service: string): MutualClientTls;
} {
  return {
    server: { certFile: files.certFile, keyFile: files.keyFile, clientCaFile: files.caFile },
    client: (service) => ({
      caFile: files.caFile,
      certFile: files.certFile,
      keyFile: files.keyFile,
      serverName: service,
    }),
  };
}
