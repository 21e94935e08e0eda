import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseDns } from '../../examples/refront-demo/src/platform/endpoints.js';
import { PLATFORM_MODULES } from '../../examples/refront-demo/src/platform/startPlatform.js';
import { schemaProblems, typeProblems } from './k8sSchema.js';
import { readRepoFile, repoPath } from './paths.js';
import { RUNTIME_ENV, serveEnvNames, serveNumberDefault } from './sourceFacts.js';
import { loadManifests, parseYamlDocs } from './yamlDocs.js';

/** The parts of the Kubernetes objects these checks read. */
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}
interface Deployment {
  metadata: { name: string; namespace?: string };
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
interface Service {
  metadata: { name: string };
  spec: {
    clusterIP?: string;
    selector: Record<string, string>;
    ports: { name: string; port: number; targetPort: string | number }[];
  };
}

const DIR = 'deploy/k8s';
const docs = loadManifests(DIR);
const ofKind = <T>(kind: string): T[] => docs.filter((d) => d.body.kind === kind).map((d) => d.body as T);
const deployments = ofKind<Deployment>('Deployment');
const services = ofKind<Service>('Service');
const configMap = ofKind<{ metadata: { name: string }; data: Record<string, string> }>('ConfigMap');
const secrets = ofKind<{ metadata: { name: string }; stringData: Record<string, string> }>('Secret');
const platform = PLATFORM_MODULES.map((m) => m.name);
/** The name of the Namespace document. */
const namespace = (
  docs.find((d) => d.body.kind === 'Namespace')?.body.metadata as { name?: string } | undefined
)?.name;
const labelsMatch = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The value a container sees for a variable: its own env, then its ConfigMaps, else undefined. */
function envOf(c: Container, name: string): string | undefined {
  const own = c.env?.find((e) => e.name === name);
  if (own) return own.value;
  for (const from of c.envFrom ?? []) {
    const cm = configMap.find((m) => m.metadata.name === from.configMapRef?.name);
    if (cm?.data[name] !== undefined) return cm.data[name];
  }
  return undefined;
}

function deploymentOf(service: string): Deployment {
  const d = deployments.find((x) =>
    x.spec.template.spec.containers.some((c) => envOf(c, 'SERVICE') === service),
  );
  if (!d) throw new Error(`no Deployment runs SERVICE=${service}`);
  return d;
}

describe('Kubernetes manifests: schemas', () => {
  it('finds the manifests', () => {
    expect(docs.length).toBeGreaterThanOrEqual(20);
  });

  it('every document is valid against the schema of its apiVersion and kind', async () => {
    const problems: Record<string, string[]> = {};
    for (const d of docs) {
      const p = await schemaProblems(d);
      if (p.length > 0) problems[`${d.file}#${d.index} ${String(d.body.kind)}`] = p;
    }
    expect(problems).toEqual({});
  });

  it('no document has a field its kind does not define', () => {
    const problems = typeProblems(docs);
    expect(Object.fromEntries([...problems].map(([i, p]) => [docs[i]?.file ?? 'imports', p]))).toEqual({});
  });

  it('rejects broken manifests (the checks are not vacuous)', async () => {
    const [good] = parseYamlDocs('x', readRepoFile(`${DIR}/tickets.yaml`)).filter(
      (d) => d.body.kind === 'Deployment',
    );
    if (!good) throw new Error('tickets.yaml has no Deployment');
    const broken = structuredClone(good.body) as unknown as Deployment;
    (broken.spec.template.spec.containers[0] as unknown as { ports: unknown }).ports = [
      { containerPort: 'grpc' },
    ];
    delete (broken.spec as Partial<Deployment['spec']>).selector;
    const schema = await schemaProblems({ ...good, body: broken as unknown as Record<string, unknown> });
    expect(schema.join('\n')).toMatch(/containerPort must be integer/);
    expect(schema.join('\n')).toMatch(/must have required property selector/);

    const misspelt = structuredClone(good.body) as unknown as Deployment;
    const c = misspelt.spec.template.spec.containers[0] as Container & { livenesProbe?: Probe };
    c.livenesProbe = c.livenessProbe;
    delete c.livenessProbe;
    const body = misspelt as unknown as Record<string, unknown>;
    expect(await schemaProblems({ ...good, body })).toEqual([]); // the JSON schema alone lets it through
    const typeErrors = [...typeProblems([{ ...good, body }]).values()].flat().join('\n');
    expect(typeErrors).toMatch(/livenesProbe"?' does not exist in type 'IContainer'/);

    expect(await schemaProblems({ ...good, body: { apiVersion: 'apps/v1', kind: 'Deploymnet' } })).toEqual([
      'no schema for apps/v1 Deploymnet',
    ]);
  });
});

describe('Kubernetes manifests: consistent with the code', () => {
  it('every service of PLATFORM_MODULES has a Deployment and a headless Service on its gRPC port', () => {
    expect(platform.length).toBeGreaterThanOrEqual(6);
    for (const name of platform) {
      const d = deploymentOf(name);
      const container = d.spec.template.spec.containers[0] as Container;
      const grpcPort = Number(envOf(container, 'GRPC_PORT'));
      expect(container.ports).toContainEqual({ name: 'grpc', containerPort: grpcPort });
      const svc = services.find((s) => s.metadata.name === name);
      expect(svc?.spec.clusterIP, `headless Service ${name}`).toBe('None');
      expect(labelsMatch(svc?.spec.selector ?? {}, d.spec.template.metadata.labels)).toBe(true);
      expect(svc?.spec.ports).toContainEqual(expect.objectContaining({ port: grpcPort, targetPort: 'grpc' }));
    }
    const gateway = deploymentOf('gateway');
    const edge = services.find((s) => labelsMatch(s.spec.selector, gateway.spec.template.metadata.labels));
    expect(edge?.spec.clusterIP).toBeUndefined();
    expect(deployments.length).toBe(platform.length + 1);
  });

  it('REFRONT_DNS names every service by its headless Service, in the namespace, on its port', () => {
    const [cm] = configMap;
    const dns = parseDns(cm?.data.REFRONT_DNS ?? '');
    expect(Object.keys(dns).sort()).toEqual([...platform].sort());
    for (const name of platform) {
      const port = services.find((s) => s.metadata.name === name)?.spec.ports[0]?.port;
      expect(dns[name]).toEqual({ name: `${name}.${namespace}.svc.cluster.local`, port });
    }
    for (const d of docs.filter((x) => x.body.kind !== 'Namespace')) {
      expect((d.body.metadata as { namespace?: string }).namespace, `${d.file}#${d.index}`).toBe(namespace);
    }
  });

  it('probes: liveness /healthz and readiness /readyz on the ops port the container sets', () => {
    for (const d of deployments) {
      for (const c of d.spec.template.spec.containers) {
        const ops = Number(envOf(c, 'OPS_PORT') ?? serveNumberDefault('OPS_PORT'));
        const portOf = (p: string | number | undefined) =>
          typeof p === 'number' ? p : c.ports?.find((x) => x.name === p)?.containerPort;
        expect(c.livenessProbe?.httpGet?.path, d.metadata.name).toBe('/healthz');
        expect(c.readinessProbe?.httpGet?.path, d.metadata.name).toBe('/readyz');
        expect(portOf(c.livenessProbe?.httpGet?.port), d.metadata.name).toBe(ops);
        expect(portOf(c.readinessProbe?.httpGet?.port), d.metadata.name).toBe(ops);
      }
    }
  });

  it('sets only variables serve.ts reads, from ConfigMaps and Secret keys that exist', () => {
    const known = new Set([...serveEnvNames(), ...RUNTIME_ENV]);
    const unknown: string[] = [];
    for (const cm of configMap) for (const k of Object.keys(cm.data)) if (!known.has(k)) unknown.push(k);
    for (const s of secrets) for (const k of Object.keys(s.stringData)) if (!known.has(k)) unknown.push(k);
    for (const d of deployments) {
      for (const c of d.spec.template.spec.containers) {
        for (const e of c.env ?? []) {
          if (!known.has(e.name)) unknown.push(`${d.metadata.name}: ${e.name}`);
          const ref = e.valueFrom?.secretKeyRef;
          if (ref)
            expect(secrets.find((s) => s.metadata.name === ref.name)?.stringData[ref.key]).toBeTypeOf(
              'string',
            );
        }
        for (const from of c.envFrom ?? []) {
          expect(configMap.map((m) => m.metadata.name)).toContain(from.configMapRef?.name);
        }
        if (envOf(c, 'SERVICE') !== 'gateway') {
          expect(c.env?.map((e) => e.name)).toEqual(expect.arrayContaining(['DATABASE_URL', 'AMQP_URL']));
        }
      }
    }
    expect(unknown).toEqual([]);
    expect(Buffer.byteLength(secrets[0]?.stringData.JWT_SECRET ?? '')).toBeGreaterThanOrEqual(32);
  });

  it('the HorizontalPodAutoscaler scales the invoicing Deployment, which leaves replicas to it', () => {
    const hpas = ofKind<{
      spec: { scaleTargetRef: { apiVersion: string; kind: string; name: string }; minReplicas: number };
    }>('HorizontalPodAutoscaler');
    expect(hpas).toHaveLength(1);
    const invoicing = deploymentOf('invoicing');
    expect(hpas[0]?.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: invoicing.metadata.name,
    });
    expect(hpas[0]?.spec.minReplicas).toBeGreaterThanOrEqual(3);
    expect(invoicing.spec.replicas).toBeUndefined();
  });

  it('every PodDisruptionBudget selects the pods of exactly one Deployment, and every Deployment has one', () => {
    const pdbs = ofKind<{
      metadata: { name: string };
      spec: { selector: { matchLabels: Record<string, string> } };
    }>('PodDisruptionBudget');
    const covered = new Set<string>();
    for (const p of pdbs) {
      const matching = deployments.filter((d) =>
        labelsMatch(p.spec.selector.matchLabels, d.spec.template.metadata.labels),
      );
      expect(
        matching.map((d) => d.metadata.name),
        p.metadata.name,
      ).toHaveLength(1);
      covered.add(matching[0]?.metadata.name as string);
    }
    expect([...covered].sort()).toEqual(deployments.map((d) => d.metadata.name).sort());
  });

  it('graceful stop: the pod outlives preStop plus GRACE_PERIOD_MS; non-root, read-only, bounded', () => {
    const uid = Number(/^USER (\d+)/m.exec(readRepoFile('deploy/Dockerfile'))?.[1]);
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      for (const c of pod.containers) {
        const grace = Number(envOf(c, 'GRACE_PERIOD_MS') ?? serveNumberDefault('GRACE_PERIOD_MS'));
        const [cmd, seconds] = c.lifecycle?.preStop?.exec?.command ?? [];
        const preStopMs = cmd === 'sleep' ? Number(seconds) * 1000 : 0;
        expect((pod.terminationGracePeriodSeconds ?? 30) * 1000, d.metadata.name).toBeGreaterThan(
          grace + preStopMs,
        );
        expect(c.securityContext).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
        });
        expect(Object.keys(c.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
        expect(Object.keys(c.resources?.limits ?? {})).toContain('memory');
      }
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: uid });
      expect(uid).toBeGreaterThan(0);
    }
  });

  it('kustomization.yaml lists every manifest, sets the namespace and the image of every Deployment', () => {
    const k = parse(readRepoFile(`${DIR}/kustomization.yaml`)) as {
      namespace: string;
      resources: string[];
      images: { name: string }[];
    };
    const files = readdirSync(repoPath(DIR)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...k.resources].sort()).toEqual(files.sort());
    expect(k.resources[0]).toBe('namespace.yaml');
    expect(k.namespace).toBe(namespace);
    for (const d of deployments) {
      for (const c of d.spec.template.spec.containers) expect(c.image.split(':')[0]).toBe(k.images[0]?.name);
    }
  });
});
