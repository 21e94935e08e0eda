import { fileURLToPath } from 'node:url';

/** The committed test PEM files the TLS cases use (kept in transport-grpc, shared, never copied). */
export type ConformanceCertName =
  | 'ca.crt'
  | 'other-ca.crt'
  | 'server.crt'
  | 'server.key'
  | 'client.crt'
  | 'client.key'
  | 'rogue-client.crt'
  | 'rogue-client.key';

const CERTS_DIR = new URL('../../transport-grpc/src/testing/certs/', import.meta.url);

/**
 * Absolute path of a committed test certificate or key: `ca.crt` (the test CA), `other-ca.crt`
 * (a CA nobody trusts), `server.crt`/`.key` (for `127.0.0.1` and `localhost`, signed by the CA),
 * `client.crt`/`.key` (SPIFFE URI {@link CONFORMANCE_CLIENT_IDENTITY}, signed by the CA),
 * `rogue-client.crt`/`.key` (signed by another CA).
 *
 * @example
 * const tls = { certFile: conformanceCert('server.crt'), keyFile: conformanceCert('server.key') };
 */
export function conformanceCert(name: ConformanceCertName): string {
  return fileURLToPath(new URL(name, CERTS_DIR));
}

/** The identity (first URI subject alternative name) of `client.crt`. */
export const CONFORMANCE_CLIENT_IDENTITY = 'spiffe://refront.test/billing';
