import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { ConfigError } from '@refront/core';
import { loadServeConfig, muxServiceName, PLATFORM_MODULES, parseDns } from '@refront/demo/deploy';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  type Container,
  envOf as containerEnv,
  type Deployment,
  deploymentOf as deploymentRunning,
  labelsMatch,
  literalEnv,
  loadK8s,
  type Probe,
} from './k8sObjects.js';
import { schemaProblems, typeProblems } from './k8sSchema.js';
import { readRepoFile, repoPath } from './paths.js';
import { amqpSecretKey } from './rabbitmqFacts.js';
import { RUNTIME_ENV, serveEnvNames, serveNumberDefault } from './sourceFacts.js';
import { parseYamlDocs } from './yamlDocs.js';

const DIR = 'deploy/k8s';
const k8s = loadK8s(DIR);
const { docs, deployments, services, configMaps: configMap, secrets, namespace, ofKind } = k8s;
const platform = PLATFORM_MODULES.map((m) => m.name);
const envOf = (c: Container, name: string): string | undefined => containerEnv(c, name, configMap);
const deploymentOf = (service: string): Deployment => deploymentRunning(k8s, service);

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
  it('every service of PLATFORM_MODULES has a Deployment and a headless Service on its gRPC and mux ports', () => {
    expect(platform.length).toBeGreaterThanOrEqual(6);
    for (const name of platform) {
      const d = deploymentOf(name);
      const container = d.spec.template.spec.containers[0] as Container;
      const grpcPort = Number(envOf(container, 'GRPC_PORT'));
      const muxPort = Number(envOf(container, 'MUX_PORT'));
      expect(muxPort, name).toBeGreaterThan(0);
      expect(muxPort, name).not.toBe(grpcPort);
      expect(container.ports).toContainEqual({ name: 'grpc', containerPort: grpcPort });
      expect(container.ports).toContainEqual({ name: 'mux', containerPort: muxPort });
      const svc = services.find((s) => s.metadata.name === name);
      expect(svc?.spec.clusterIP, `headless Service ${name}`).toBe('None');
      expect(labelsMatch(svc?.spec.selector ?? {}, d.spec.template.metadata.labels)).toBe(true);
      expect(svc?.spec.ports).toContainEqual(
        expect.objectContaining({ name: 'grpc', port: grpcPort, targetPort: 'grpc' }),
      );
      expect(svc?.spec.ports).toContainEqual(
        expect.objectContaining({ name: 'mux', port: muxPort, targetPort: 'mux', protocol: 'TCP' }),
      );
    }
    const gateway = deploymentOf('gateway');
    const edge = services.find((s) => s.metadata.name === gateway.metadata.name);
    expect(edge?.spec.clusterIP).toBeUndefined();
    // The gateway calls the services and serves neither lane.
    const gatewayPorts = gateway.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
    expect(gatewayPorts.map((p) => p.name).sort()).toEqual(['http', 'ops']);
    // The services, the gateway and the console (console.test.ts).
    expect(deployments.length).toBe(platform.length + 2);
  });

  it('REFRONT_DNS names every service by its headless Service, in the namespace, on each lane’s port', () => {
    const [cm] = configMap;
    const dns = parseDns(cm?.data.REFRONT_DNS ?? '');
    const lanes = platform.flatMap((name) => [name, muxServiceName(name)]);
    expect(Object.keys(dns).sort()).toEqual(lanes.sort());
    for (const name of platform) {
      const ports = services.find((s) => s.metadata.name === name)?.spec.ports ?? [];
      const fqdn = `${name}.${namespace}.svc.cluster.local`;
      expect(dns[name]).toEqual({ name: fqdn, port: ports.find((p) => p.name === 'grpc')?.port });
      expect(dns[muxServiceName(name)]).toEqual({
        name: fqdn,
        port: ports.find((p) => p.name === 'mux')?.port,
      });
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
    // Each service's AMQP_URL comes from a key of its own (rabbitmq.test.ts checks the users).
    const amqpKeys = new Set([...platform, 'console'].map(amqpSecretKey));
    for (const s of secrets)
      for (const k of Object.keys(s.stringData)) if (!known.has(k) && !amqpKeys.has(k)) unknown.push(k);
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
        if (platform.includes(envOf(c, 'SERVICE') ?? '')) {
          expect(c.env?.map((e) => e.name)).toEqual(expect.arrayContaining(['DATABASE_URL', 'AMQP_URL']));
        }
      }
    }
    expect(unknown).toEqual([]);
  });

  it('the gateway replicas share their limits: REDIS_URL comes from the Secret, as a redis URL', () => {
    const gateway = deploymentOf('gateway');
    expect(gateway.spec.replicas).toBeGreaterThan(1);
    const container = gateway.spec.template.spec.containers[0] as Container;
    const ref = container.env?.find((e) => e.name === 'REDIS_URL')?.valueFrom?.secretKeyRef;
    expect(ref).toEqual({ name: 'refront-secrets', key: 'REDIS_URL' });
    const url = secrets.find((x) => x.metadata.name === ref?.name)?.stringData[ref?.key ?? ''];
    expect(new URL(url ?? '').protocol).toBe('redis:');
  });

  it('the gateway refuses the placeholder JWT_SECRET of secret.yaml, and starts with a real one', () => {
    const gateway = deploymentOf('gateway').spec.template.spec.containers[0] as Container;
    const fromSecrets = Object.fromEntries(
      (gateway.env ?? []).flatMap((e) => {
        const ref = e.valueFrom?.secretKeyRef;
        const v = ref && secrets.find((s) => s.metadata.name === ref.name)?.stringData[ref.key];
        return typeof v === 'string' ? [[e.name, v]] : [];
      }),
    );
    // The image sets NODE_ENV=production (dockerfile.test.ts); the manifests leave it.
    const env = { NODE_ENV: 'production', ...literalEnv(gateway, configMap), ...fromSecrets };
    expect(env.NODE_ENV).toBe('production');
    let refused: Record<string, string> = {};
    try {
      loadServeConfig(env);
    } catch (e: unknown) {
      if (!(e instanceof ConfigError)) throw e;
      refused = Object.fromEntries(e.violations.map((v) => [v.field, v.description]));
    }
    expect(refused).toEqual({
      JWT_SECRET: 'is refused with NODE_ENV=production: it looks like a placeholder (contains "changeme")',
    });
    const real = { ...env, JWT_SECRET: randomBytes(48).toString('base64') };
    expect(loadServeConfig(real)).toMatchObject({ SERVICE: 'gateway', DEV_AUTH: false });
    expect(readRepoFile('deploy/k8s/secret.yaml')).toContain('openssl rand -base64 48');
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
