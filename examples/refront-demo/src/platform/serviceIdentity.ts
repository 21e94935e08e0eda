import { DEFAULT_TRUST_DOMAIN, type ServiceTlsFiles } from '@refront/identity';
import { z } from 'zod';

/**
 * How a service process proves who it is to the others: its certificate, key and CA (mutual TLS on
 * both lanes) in the SPIFFE trust domain its peers' ids belong to. Undefined when `MTLS=off`.
 */
export interface ServiceIdentity {
  readonly files: ServiceTlsFiles;
  readonly trustDomain: string;
}

/**
 * The identity variables of a service process (docs/deploy.md): `MTLS` (`on` by default; `off`
 * only for development), `TLS_CA_FILE`, `TLS_CERT_FILE`, `TLS_KEY_FILE` and `TRUST_DOMAIN`.
 */
export const identityEnvShape = {
  MTLS: z
    .enum(['on', 'off'])
    .default('on')
    .describe(
      "`on`: every call to a service is mutual TLS on both lanes, and each service serves only the callers its module declares and the platform's operators (the console); `off`: plaintext and any caller, for development only.",
    ),
  TLS_CA_FILE: z
    .string()
    .optional()
    .describe('CA bundle (PEM) every service certificate chains to; required with `MTLS=on`.'),
  TLS_CERT_FILE: z
    .string()
    .optional()
    .describe(
      "This process's certificate (PEM), URI SAN `spiffe://<TRUST_DOMAIN>/<SERVICE>`; required with `MTLS=on`.",
    ),
  TLS_KEY_FILE: z.string().optional().describe('Its private key (PEM); required with `MTLS=on`.'),
  TRUST_DOMAIN: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'a SPIFFE trust domain (lower-case DNS-like name)')
    .default(DEFAULT_TRUST_DOMAIN)
    .describe("SPIFFE trust domain of the callers' ids; an id of another domain is PERMISSION_DENIED."),
};

/** The identity fields of the parsed environment. */
export interface IdentityEnvFields {
  readonly MTLS: 'on' | 'off';
  readonly TLS_CA_FILE?: string | undefined;
  readonly TLS_CERT_FILE?: string | undefined;
  readonly TLS_KEY_FILE?: string | undefined;
  readonly TRUST_DOMAIN: string;
}

const FILES = ['TLS_CA_FILE', 'TLS_CERT_FILE', 'TLS_KEY_FILE'] as const;

/**
 * With `MTLS=on` (the default) the three files are required: each missing one is an issue naming
 * the variable, so a service never starts without its identity by accident.
 */
export function checkIdentityEnv(env: IdentityEnvFields, ctx: z.RefinementCtx): void {
  if (env.MTLS === 'off') return;
  for (const name of FILES) {
    if (env[name] === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message:
          'required: services call each other over mutual TLS (make development certificates with ' +
          '`npx refront-dev-certs`, or set MTLS=off to run without, for development only)',
      });
    }
  }
}

/** The identity the environment gives, or undefined with `MTLS=off`. */
export function identityFromEnv(env: IdentityEnvFields): ServiceIdentity | undefined {
  if (env.MTLS === 'off' || !env.TLS_CA_FILE || !env.TLS_CERT_FILE || !env.TLS_KEY_FILE) return undefined;
  return {
    files: { caFile: env.TLS_CA_FILE, certFile: env.TLS_CERT_FILE, keyFile: env.TLS_KEY_FILE },
    trustDomain: env.TRUST_DOMAIN,
  };
}
