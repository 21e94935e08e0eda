import { randomBytes } from 'node:crypto';
import { loadServeConfig, PLATFORM_MODULES } from '@refront/demo/deploy';
import { describe, expect, it } from 'vitest';
import { runtimeImage } from './imageFacts.js';
import { type Container, type Deployment, k8sObjectsOf, literalEnv, loadK8s } from './k8sObjects.js';
import { schemaProblems, typeProblems } from './k8sSchema.js';
import { readRepoFile } from './paths.js';
import { type Certificate, type Issuer, identityProblems } from './serviceIdentity.js';
import { parseYamlDocs } from './yamlDocs.js';

const k8s = loadK8s('deploy/k8s');
// The console too: an operator identity (decision 0146) whose API explorer calls the services.
const processes = ['gateway', 'console', ...PLATFORM_MODULES.map((m) => m.name)];

describe('Kubernetes: every process has its own cert-manager certificate (service identity)', () => {
  it('each Deployment mounts a certificate whose SPIFFE URI and DNS name are its service', () => {
    expect(processes.length).toBe(PLATFORM_MODULES.length + 2);
    expect(processes.length).toBeGreaterThanOrEqual(8);
    expect(identityProblems(k8s, processes)).toEqual([]);
    expect(k8s.ofKind<Certificate>('Certificate').filter((c) => !c.spec.isCA)).toHaveLength(processes.length);
  });

  it('the CA is cert-manager’s bootstrap: a self-signed Issuer signs the CA Certificate of the CA Issuer', () => {
    const issuers = k8s.ofKind<Issuer>('Issuer');
    expect(issuers.map((i) => Object.keys(i.spec)[0]).sort()).toEqual(['ca', 'selfSigned']);
    const root = k8s.ofKind<Certificate>('Certificate').filter((c) => c.spec.isCA);
    expect(root).toHaveLength(1);
    expect(issuers.find((i) => i.spec.ca)?.spec.ca?.secretName).toBe(root[0]?.spec.secretName);
  });

  it('with those files, every container’s environment is accepted by serve.ts with MTLS on', () => {
    for (const d of k8s.deployments) {
      const c = d.spec.template.spec.containers[0] as Container;
      // The values of secret.yaml (placeholders for a cluster's own), the JWT secret a real one.
      const secrets = Object.fromEntries(
        (c.env ?? []).flatMap((e) => {
          const ref = e.valueFrom?.secretKeyRef;
          const value = ref && k8s.secrets.find((x) => x.metadata.name === ref.name)?.stringData[ref.key];
          return typeof value === 'string' ? [[e.name, value]] : [];
        }),
      );
      const env = {
        ...runtimeImage().env,
        ...literalEnv(c, k8s.configMaps),
        ...secrets,
        JWT_SECRET: randomBytes(48).toString('base64'),
      };
      const config = loadServeConfig(env);
      expect(config.MTLS, d.metadata.name).toBe('on');
      expect(config.TLS_CERT_FILE, d.metadata.name).toBe('/etc/refront/tls/tls.crt');
    }
  });

  it('catches a Deployment mounting another service’s certificate, a wrong SPIFFE id, a missing usage', () => {
    const broken = k8sObjectsOf(structuredClone(k8s.docs));
    const tickets = broken.deployments.find((d) => d.metadata.name === 'tickets') as Deployment;
    const volume = tickets.spec.template.spec.volumes?.find((v) => v.secret);
    if (!volume?.secret) throw new Error('tickets mounts no secret');
    volume.secret.secretName = 'invoicing-tls';
    const ai = broken.ofKind<Certificate>('Certificate').find((c) => c.metadata.name === 'ai');
    if (!ai) throw new Error('no Certificate ai');
    ai.spec.uris = ['spiffe://refront.local/gateway'];
    ai.spec.usages = ['server auth'];
    const problems = identityProblems(broken, processes);
    expect(problems).toEqual(
      expect.arrayContaining([
        'tickets: Certificate invoicing names spiffe://refront.local/invoicing',
        'invoicing: shares the Secret invoicing-tls with tickets',
        'ai: Certificate ai names spiffe://refront.local/gateway',
        'ai: usage client auth missing',
      ]),
    );
  });

  it('cert-manager’s schemas reject a misspelt field and an unknown usage (the checks are not vacuous)', async () => {
    const [good] = parseYamlDocs('x', readRepoFile('deploy/k8s/certificates.yaml')).filter(
      (d) => d.body.kind === 'Certificate' && (d.body.metadata as { name: string }).name === 'tickets',
    );
    if (!good) throw new Error('certificates.yaml has no Certificate tickets');
    expect(await schemaProblems(good)).toEqual([]);
    const badUsage = structuredClone(good.body) as unknown as Certificate;
    badUsage.spec.usages = ['server-auth'];
    expect(
      (await schemaProblems({ ...good, body: badUsage as unknown as Record<string, unknown> })).join('\n'),
    ).toMatch(/usages\/0 must be equal to one of the allowed values/);
    const misspelt = structuredClone(good.body) as unknown as { spec: Record<string, unknown> };
    misspelt.spec.uri = misspelt.spec.uris;
    delete misspelt.spec.uris;
    const errors = [
      ...typeProblems([{ ...good, body: misspelt as unknown as Record<string, unknown> }]).values(),
    ]
      .flat()
      .join('\n');
    expect(errors).toMatch(/uri"?' does not exist in type 'ICertificateSpec'/);
  });
});
