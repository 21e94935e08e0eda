import { posix } from 'node:path';
import { spiffeId } from '@refront/identity';
import { type Container, type Deployment, envOf, type K8sObjects } from './k8sObjects.js';

/** A cert-manager.io/v1 Certificate (the fields the checks read). */
export interface Certificate {
  metadata: { name: string };
  spec: {
    secretName: string;
    isCA?: boolean;
    uris?: string[];
    dnsNames?: string[];
    usages?: string[];
    issuerRef: { name: string; kind?: string; group?: string };
  };
}
/** A cert-manager.io/v1 Issuer. */
export interface Issuer {
  metadata: { name: string };
  spec: { selfSigned?: Record<string, unknown>; ca?: { secretName: string } };
}

/** The key names cert-manager writes into a certificate's Secret. */
export const SECRET_FILES = {
  TLS_CA_FILE: 'ca.crt',
  TLS_CERT_FILE: 'tls.crt',
  TLS_KEY_FILE: 'tls.key',
} as const;

/** The Secret a container reads a file from: the secret volume mounted on the file's folder. */
function secretOf(
  d: Deployment,
  c: Container,
  file: string,
): { secretName: string; readOnly: boolean } | undefined {
  const mount = c.volumeMounts?.find((m) => posix.dirname(file) === m.mountPath.replace(/\/$/, ''));
  const volume = d.spec.template.spec.volumes?.find((v) => v.name === mount?.name);
  return volume?.secret && mount
    ? { secretName: volume.secret.secretName, readOnly: mount.readOnly === true }
    : undefined;
}

/**
 * Whether an issuer is cert-manager's CA bootstrap of these manifests: a `ca` Issuer whose Secret
 * is written by an `isCA` Certificate that a self-signed Issuer signs.
 */
function isBootstrappedCa(k: K8sObjects, name: string): boolean {
  const issuers = k.ofKind<Issuer>('Issuer');
  const ca = issuers.find((i) => i.metadata.name === name)?.spec.ca;
  const root = k.ofKind<Certificate>('Certificate').find((c) => c.spec.secretName === ca?.secretName);
  const signer = issuers.find((i) => i.metadata.name === root?.spec.issuerRef.name);
  return root?.spec.isCA === true && signer?.spec.selfSigned !== undefined;
}

/**
 * Every way a Deployment's identity is wrong, as `<service>: problem`: each of the TLS_* files
 * must be its cert-manager Secret's key (ca.crt, tls.crt, tls.key) on a read-only secret volume,
 * and that Secret must be written by a Certificate whose only URI is the SPIFFE id of the
 * Deployment's SERVICE in its TRUST_DOMAIN, whose DNS names include the service, for server and
 * client authentication, issued by the bootstrapped CA. No two Deployments share a Secret.
 */
export function identityProblems(k: K8sObjects, services: readonly string[]): string[] {
  const problems: string[] = [];
  const owners = new Map<string, string>();
  for (const service of services) {
    const d = k.deployments.find((x) =>
      x.spec.template.spec.containers.some((c) => envOf(c, 'SERVICE', k.configMaps) === service),
    );
    const c = d?.spec.template.spec.containers[0];
    if (!d || !c) {
      problems.push(`${service}: no Deployment`);
      continue;
    }
    const secrets = new Set<string>();
    for (const [variable, key] of Object.entries(SECRET_FILES)) {
      const file = envOf(c, variable, k.configMaps) ?? '';
      const from = secretOf(d, c, file);
      if (!from) problems.push(`${service}: ${variable}=${file} is not on a secret volume`);
      else if (posix.basename(file) !== key)
        problems.push(`${service}: ${variable} is not the Secret's ${key}`);
      else if (!from.readOnly) problems.push(`${service}: its certificate is mounted writable`);
      if (from) secrets.add(from.secretName);
    }
    if (secrets.size !== 1) {
      problems.push(`${service}: its TLS files come from ${secrets.size} Secrets`);
      continue;
    }
    const secretName = [...secrets][0] as string;
    const owner = owners.get(secretName);
    if (owner) problems.push(`${service}: shares the Secret ${secretName} with ${owner}`);
    owners.set(secretName, service);
    const cert = k.ofKind<Certificate>('Certificate').find((x) => x.spec.secretName === secretName);
    const trustDomain = envOf(c, 'TRUST_DOMAIN', k.configMaps);
    if (!cert) {
      problems.push(`${service}: no Certificate writes the Secret ${secretName}`);
      continue;
    }
    if (JSON.stringify(cert.spec.uris) !== JSON.stringify([spiffeId(service, trustDomain)])) {
      problems.push(`${service}: Certificate ${cert.metadata.name} names ${String(cert.spec.uris)}`);
    }
    if (!cert.spec.dnsNames?.includes(service)) problems.push(`${service}: DNS name ${service} missing`);
    for (const usage of ['server auth', 'client auth']) {
      if (!cert.spec.usages?.includes(usage)) problems.push(`${service}: usage ${usage} missing`);
    }
    if (cert.spec.isCA) problems.push(`${service}: its certificate is a CA`);
    if (!isBootstrappedCa(k, cert.spec.issuerRef.name) || cert.spec.issuerRef.kind !== 'Issuer') {
      problems.push(
        `${service}: issued by ${cert.spec.issuerRef.name}, not the CA Issuer of these manifests`,
      );
    }
  }
  return problems;
}
