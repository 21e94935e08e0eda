import { fileURLToPath } from 'node:url';

/** The committed test PEM files (valid until 2126). */
export type TestCertName =
  | 'ca.crt'
  | 'other-ca.crt'
  | 'server.crt'
  | 'server.key'
  | 'client.crt'
  | 'client.key'
  | 'rogue-client.crt'
  | 'rogue-client.key';

const CERTS_DIR = new URL('../certs/', import.meta.url);

/**
 * Absolute path of a committed test certificate or key: `ca.crt` (the test CA), `other-ca.crt`
 * (a CA nobody trusts), `server.crt`/`.key` (for `127.0.0.1` and `localhost`, signed by the CA),
 * `client.crt`/`.key` (SPIFFE URI {@link TEST_CLIENT_IDENTITY}, DNS `billing`, signed by the CA),
 * `rogue-client.crt`/`.key` (`mallory`, signed by another CA).
 *
 * @example
 * const tls = { certFile: testCert('server.crt'), keyFile: testCert('server.key'), clientCaFile: testCert('ca.crt') };
 */
export function testCert(name: TestCertName): string {
  return fileURLToPath(new URL(name, CERTS_DIR));
}

/** The identity (first URI subject alternative name) of `client.crt`. */
export const TEST_CLIENT_IDENTITY = 'spiffe://refront.test/billing';
