/**
 * The three security set-ups the `tls` scenario compares on each lane, built from development
 * certificates for the bench's two services (`echo` serves, `bench` calls): plaintext; TLS with a
 * server certificate only; and mutual TLS with declared callers, as the distributed demo runs its
 * services (a certificate each side, `auth.callers` checked per call, the caller named by its
 * SPIFFE id).
 */
import type { CallerRules, ServerAuthOptions } from '@refront/core';
import { mutualTls, type ServiceTlsFiles, serviceOfSpiffeId } from '@refront/identity';
import type { ClientTlsOptions, ServerTlsOptions } from '@refront/rpc';

/** How a lane is secured. */
export type Security = 'plaintext' | 'tls' | 'mtls';

/** Every {@link Security}, in the order the scenario prints them. */
export const SECURITIES: readonly Security[] = ['plaintext', 'tls', 'mtls'];

/** The service the bench's servers serve: the name their certificate carries. */
export const SERVER_SERVICE = 'echo';

/** The bench client's service name: its certificate's SPIFFE id names it. */
export const CALLER_SERVICE = 'bench';

/** What the `echo` server declares under mTLS: the bench may call Echo, nothing else. */
export const BENCH_CALLERS: CallerRules = { [CALLER_SERVICE]: ['refront.testing.v1.EchoService/Echo'] };

/** What a server child needs to secure its lane: the set-up and the echo service's files. */
export interface ServerSecuritySpec {
  readonly security: Security;
  readonly files?: ServiceTlsFiles;
}

/** A server's `tls` and `auth` options for `spec` (none for plaintext). */
export function serverSecurity(spec: ServerSecuritySpec): {
  tls?: ServerTlsOptions;
  auth?: ServerAuthOptions;
} {
  if (spec.security === 'plaintext') return {};
  if (!spec.files) throw new Error(`${spec.security} needs the server's certificate files`);
  if (spec.security === 'tls') return { tls: { certFile: spec.files.certFile, keyFile: spec.files.keyFile } };
  return {
    tls: mutualTls(spec.files).server,
    auth: { callers: BENCH_CALLERS, callerName: serviceOfSpiffeId() },
  };
}

/**
 * A client's `tls` option for `security`, from the caller's files: the CA and the server's name
 * for TLS, plus the caller's certificate for mTLS.
 */
export function clientSecurity(
  security: Security,
  files: ServiceTlsFiles | undefined,
): ClientTlsOptions | undefined {
  if (security === 'plaintext') return undefined;
  if (!files) throw new Error(`${security} needs the caller's certificate files`);
  if (security === 'tls') return { caFile: files.caFile, serverName: SERVER_SERVICE };
  return mutualTls(files).client(SERVER_SERVICE);
}
