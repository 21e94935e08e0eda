import { generateKeyPair, randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { invalidOption } from '@refront/core/transport';
import forge from 'node-forge';
import type { ServiceTlsFiles } from './serviceTls.js';
import { DEFAULT_TRUST_DOMAIN, spiffeId } from './spiffe.js';

const newKeyPair = promisify(generateKeyPair);

/** Days a development certificate is valid. */
export const DEFAULT_DEV_CERT_VALIDITY_DAYS = 30;

/** Options of {@link createDevCertificates}. */
export interface DevCertificatesOptions {
  /** Folder the PEM files are written to (created when missing; existing files are replaced). */
  readonly dir: string;
  /** The services (and other callers, such as `gateway`) that get a certificate. */
  readonly services: readonly string[];
  /** SPIFFE trust domain of their ids. @default DEFAULT_TRUST_DOMAIN ('refront.local') */
  readonly trustDomain?: string;
  /** Days the CA and the certificates are valid. @default DEFAULT_DEV_CERT_VALIDITY_DAYS (30) */
  readonly validityDays?: number;
  /** Extra DNS names every service certificate carries (e.g. `localhost`). @default none */
  readonly extraDnsNames?: readonly string[];
}

/** The files {@link createDevCertificates} wrote. */
export interface DevCertificates {
  /** The folder. */
  readonly dir: string;
  /** The development CA's certificate (`ca.crt`); its key is never written. */
  readonly caFile: string;
  /** The files of one service: `<service>.crt`, `<service>.key` and the CA. */
  files(service: string): ServiceTlsFiles;
}

/** Writes a new file, so `mode` applies even where an older file stood. */
async function writeFresh(path: string, content: string, mode: number): Promise<void> {
  await rm(path, { force: true });
  await writeFile(path, content, { mode, flag: 'wx' });
}

interface Issued {
  readonly cert: forge.pki.Certificate;
  readonly privateKey: forge.pki.rsa.PrivateKey;
  readonly keyPem: string;
}

async function keyPair(): Promise<{
  publicKey: forge.pki.rsa.PublicKey;
  privateKey: forge.pki.rsa.PrivateKey;
  keyPem: string;
}> {
  // Node generates the key (native, fast); forge only builds and signs the certificates.
  const { publicKey, privateKey } = await newKeyPair('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string),
    privateKey: forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey,
    keyPem,
  };
}

function newCertificate(publicKey: forge.pki.rsa.PublicKey, validityDays: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // Positive (leading byte below 0x80) and unique per certificate.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000);
  cert.validity.notAfter = new Date(now + validityDays * 86_400_000);
  return cert;
}

async function issueCa(validityDays: number, trustDomain: string): Promise<Issued> {
  const keys = await keyPair();
  const cert = newCertificate(keys.publicKey, validityDays);
  const name = [
    { name: 'organizationName', value: 'Refront development' },
    { name: 'commonName', value: `Refront development CA (${trustDomain})` },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert, privateKey: keys.privateKey, keyPem: keys.keyPem };
}

async function issueService(
  ca: Issued,
  service: string,
  trustDomain: string,
  validityDays: number,
  extraDnsNames: readonly string[],
): Promise<Issued> {
  const keys = await keyPair();
  const cert = newCertificate(keys.publicKey, validityDays);
  cert.setSubject([
    { name: 'organizationName', value: 'Refront development' },
    { name: 'commonName', value: service },
  ]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    // One certificate per service, for its server and for its calls to the others.
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    {
      name: 'subjectAltName',
      // The SPIFFE id first: it is the identity servers read (core's defaultPeerIdentity).
      altNames: [
        { type: 6, value: spiffeId(service, trustDomain) },
        { type: 2, value: service },
        ...extraDnsNames.map((value) => ({ type: 2, value })),
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(ca.privateKey, forge.md.sha256.create());
  return { cert, privateKey: keys.privateKey, keyPem: keys.keyPem };
}

/**
 * Makes a development CA and one certificate per service into `dir`: `ca.crt`, and for each
 * service `<service>.crt` (URI SAN `spiffe://<trust domain>/<service>`, DNS SAN `<service>`,
 * valid for server and client authentication) and `<service>.key` (mode 0600). The CA's key
 * stays in memory and is dropped, so nothing can issue more certificates from it later. For
 * `npm run demo:distributed`, the system tests and Compose; production gets its certificates
 * from its own CA (cert-manager, SPIRE, a service mesh), with the same names.
 *
 * @throws RefrontError INVALID_ARGUMENT (`CORE_INVALID_OPTION`) for a service or trust domain
 *   that is not a plain name, no services, or a validity that is not a positive integer.
 * @example
 * const certs = await createDevCertificates({ dir: '/tmp/refront-certs', services: ['gateway', 'tickets'] });
 * const tls = mutualTls(certs.files('tickets'));
 */
export async function createDevCertificates(options: DevCertificatesOptions): Promise<DevCertificates> {
  const trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const validityDays = options.validityDays ?? DEFAULT_DEV_CERT_VALIDITY_DAYS;
  if (!(Number.isInteger(validityDays) && validityDays > 0)) {
    throw invalidOption('validityDays must be a positive integer');
  }
  const services = [...new Set(options.services)];
  if (services.length === 0) throw invalidOption('services must name at least one service');
  for (const s of services) spiffeId(s, trustDomain);
  const extra = options.extraDnsNames ?? [];
  const dir = options.dir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await issueCa(validityDays, trustDomain);
  const caFile = join(dir, 'ca.crt');
  await writeFresh(caFile, forge.pki.certificateToPem(ca.cert), 0o644);
  const issued = await Promise.all(
    services.map((s) => issueService(ca, s, trustDomain, validityDays, extra)),
  );
  for (const [i, s] of services.entries()) {
    const leaf = issued[i] as Issued;
    await writeFresh(join(dir, `${s}.crt`), forge.pki.certificateToPem(leaf.cert), 0o644);
    await writeFresh(join(dir, `${s}.key`), leaf.keyPem, 0o600);
  }
  const known = new Set(services);
  return {
    dir,
    caFile,
    files(service) {
      if (!known.has(service)) throw invalidOption(`no development certificate for "${service}"`);
      return { caFile, certFile: join(dir, `${service}.crt`), keyFile: join(dir, `${service}.key`) };
    },
  };
}
