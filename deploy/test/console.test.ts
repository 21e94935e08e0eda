import type { RabbitmqDefinitions } from '@refront/demo/deploy';
import { brokerUserOf, PLATFORM_MODULES } from '@refront/demo/deploy';
import { describe, expect, it } from 'vitest';
import { consoleProblems } from './consoleReach.js';
import { type Deployment, deploymentOf, k8sObjectsOf, loadK8s } from './k8sObjects.js';
import type { NetworkPolicy } from './networkPolicies.js';
import { readRepoFile } from './paths.js';
import { amqpSecretKey, DEAD_LETTER_OPERATOR } from './rabbitmqFacts.js';

const k8s = loadK8s('deploy/k8s');
const services = PLATFORM_MODULES.map((m) => m.name);
const processes = ['gateway', ...services];
const definitions = JSON.parse(readRepoFile('deploy/rabbitmq/definitions.json')) as RabbitmqDefinitions;

/** A copy of the manifests to break, with its lookups. */
const copy = () => k8sObjectsOf(structuredClone(k8s.docs));
const policyOf = (k: ReturnType<typeof copy>, name: string): NetworkPolicy => {
  const p = k.ofKind<NetworkPolicy>('NetworkPolicy').find((x) => x.metadata.name === name);
  if (!p) throw new Error(`no NetworkPolicy ${name}`);
  return p;
};
const namesConsole = (peer: { podSelector?: { matchLabels?: Record<string, string> } }): boolean =>
  peer.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'console';

describe('Kubernetes: the Refront console (decision 0147)', () => {
  it('runs, receives every process’s spans, reads every ops port and calls every service, and only the processes reach it', () => {
    expect(processes.length).toBeGreaterThanOrEqual(7);
    expect(consoleProblems(k8s, processes, services)).toEqual([]);
  });

  it('logs in to RabbitMQ as the dead-letter operator, an impersonator, from its own Secret key', () => {
    const container = deploymentOf(k8s, 'console').spec.template.spec.containers[0];
    const ref = container?.env?.find((e) => e.name === 'AMQP_URL')?.valueFrom?.secretKeyRef;
    expect(ref).toEqual({ name: 'refront-secrets', key: amqpSecretKey('console') });
    const url = new URL(k8s.secrets[0]?.stringData[ref?.key ?? ''] ?? '');
    expect(url.username).toBe(brokerUserOf(DEAD_LETTER_OPERATOR));
    expect(definitions.users.find((u) => u.name === url.username)?.tags).toEqual(['impersonator']);
    const permissions = definitions.permissions.find((p) => p.user === url.username);
    expect([permissions?.configure, permissions?.write]).toEqual(['^$', '^amq\\.default$']);
    expect(new RegExp(permissions?.read ?? '').test('refront.tickets.dlq')).toBe(true);
    expect(new RegExp(permissions?.read ?? '').test('refront.tickets')).toBe(false);
  });

  it('is not public: no Ingress routes to it, and its way in is kubectl port-forward', () => {
    const ingresses = k8s.ofKind<{
      spec: { rules: { http: { paths: { backend: { service: { name: string } } }[] } }[] };
    }>('Ingress');
    const backends = ingresses.flatMap((i) =>
      i.spec.rules.flatMap((r) => r.http.paths.map((p) => p.backend.service.name)),
    );
    expect(backends).not.toContain('console');
    expect(readRepoFile('deploy/k8s/console.yaml')).toContain(
      'kubectl -n refront port-forward svc/console 4318',
    );
    expect(readRepoFile('docs/deploy.md')).toContain('kubectl -n refront port-forward svc/console 4318');
  });

  it('catches a missing console, cut lanes and ops ports, missing OTLP variables, an open port (the checks are not vacuous)', () => {
    const gone = k8sObjectsOf(
      k8s.docs.filter((d) => !(d.body.kind === 'Deployment' && d.file.endsWith('console.yaml'))),
    );
    expect(consoleProblems(gone, processes, services)).toEqual([
      'console: no Deployment runs SERVICE=console',
    ]);

    const broken = copy();
    // reporting's lanes no longer let the console in; ai's spans have no way out to it.
    const reporting = policyOf(broken, 'reporting').spec.ingress?.[0];
    if (reporting?.from) reporting.from = reporting.from.filter((p) => !namesConsole(p));
    const ai = policyOf(broken, 'ai');
    ai.spec.egress = ai.spec.egress?.filter((r) => !r.to?.some(namesConsole));
    // No ops port lets the console in.
    const metrics = policyOf(broken, 'allow-metrics').spec.ingress?.[0];
    if (metrics?.from) metrics.from = metrics.from.filter((p) => !namesConsole(p));
    // A pod of the namespace that is not the platform's, let in to the console's port.
    const intruder = structuredClone(broken.deployments.find((d) => d.metadata.name === 'ai')) as Deployment;
    intruder.metadata.name = 'intruder';
    intruder.spec.template.metadata.labels['app.kubernetes.io/name'] = 'intruder';
    const env = intruder.spec.template.spec.containers[0]?.env?.find((e) => e.name === 'SERVICE');
    if (env) env.value = 'intruder';
    policyOf(broken, 'console').spec.ingress?.[0]?.from?.push({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'intruder' } },
    });
    // The ConfigMap loses the endpoint; the gateway sends another token.
    delete broken.configMaps[0]?.data.OTEL_EXPORTER_OTLP_ENDPOINT;
    const headers = deploymentOf(broken, 'gateway').spec.template.spec.containers[0]?.env?.find(
      (e) => e.name === 'OTEL_EXPORTER_OTLP_HEADERS',
    );
    if (headers) headers.value = 'authorization=Bearer%20$(JWT_SECRET)';
    // The gateway no longer lets the console in.
    const gateway = policyOf(broken, 'gateway');
    gateway.spec.ingress = gateway.spec.ingress?.filter((r) => !r.from?.some(namesConsole));
    // tickets is missing from the console's discovery.
    const ops = deploymentOf(broken, 'console').spec.template.spec.containers[0]?.env?.find(
      (e) => e.name === 'REFRONT_OPS_DNS',
    );
    if (ops?.value) ops.value = ops.value.replace(/tickets=[^;]+;/, '');
    const withIntruder = k8sObjectsOf([
      ...broken.docs,
      { file: 'intruder.yaml', index: 0, body: intruder as unknown as Record<string, unknown> },
    ]);
    const problems = consoleProblems(withIntruder, processes, services);
    expect(problems).toEqual(
      expect.arrayContaining([
        "console: cannot reach reporting's grpc port by policy",
        "console: cannot reach reporting's mux port by policy",
        "ai: cannot reach the console's port by policy",
        ...processes.map((p) => `console: cannot reach ${p}'s ops port by policy`),
        'console: reachable by intruder TCP/4318',
        ...processes.map((p) => `${p}: no OTEL_EXPORTER_OTLP_ENDPOINT`),
        "gateway: OTEL_EXPORTER_OTLP_HEADERS does not carry the console's token",
        'console: REFRONT_OPS_DNS does not name tickets',
        "console: cannot reach the gateway's http port by policy",
      ]),
    );
    expect(problems.some((p) => p.startsWith('tickets: ') && p.includes('ops'))).toBe(false);
  });
});
