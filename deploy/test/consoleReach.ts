import { parseDns } from '@refront/demo/deploy';
import { type Container, deploymentOf, type K8sObjects, labelsMatch, resolvedEnv } from './k8sObjects.js';
import { allowed, type NetworkPolicy, type PlatformPod, platformPods } from './networkPolicies.js';

/** The console's process name (`SERVICE=console`). */
const CONSOLE = 'console';

const containerOf = (k: K8sObjects, service: string): Container | undefined => {
  try {
    return deploymentOf(k, service).spec.template.spec.containers[0];
  } catch {
    return undefined;
  }
};
const containerPort = (c: Container, target: string | number): number | undefined =>
  typeof target === 'number' ? target : c.ports?.find((p) => p.name === target)?.containerPort;
const portNumber = (pod: PlatformPod | undefined, name: string): number | undefined =>
  pod?.ports.find((p) => p.name === name)?.containerPort;

/**
 * Every way the console of a set of manifests is missing or cut off, as readable lines: it runs
 * (one replica), a Service exposes its `CONSOLE_PORT`, every process sends it its spans
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` to that Service, `OTEL_EXPORTER_OTLP_HEADERS` with the token the
 * console requires) and may by policy, the console finds every process's ops port through
 * `REFRONT_OPS_DNS` and may reach it and every service's lanes (`services`: those serving the
 * console), and no pod but the processes reaches its port. `processes`: the gateway and the services.
 */
export function consoleProblems(
  k: K8sObjects,
  processes: readonly string[],
  services: readonly string[],
): string[] {
  const console = containerOf(k, CONSOLE);
  if (!console) return ['console: no Deployment runs SERVICE=console'];
  const problems: string[] = [];
  const replicas = deploymentOf(k, CONSOLE).spec.replicas;
  if (replicas !== 1) problems.push(`console: ${String(replicas)} replicas (its traces are in its memory)`);
  const env = resolvedEnv(console, k);
  const port = Number(env.CONSOLE_PORT);
  const labels = deploymentOf(k, CONSOLE).spec.template.metadata.labels;
  // The Services of the console's pods, by the port of each that leads to CONSOLE_PORT.
  const exposed = k.services.flatMap((s) =>
    labelsMatch(s.spec.selector, labels)
      ? s.spec.ports
          .filter((p) => containerPort(console, p.targetPort) === port)
          .map((p) => ({ name: s.metadata.name, port: p.port }))
      : [],
  );
  if (exposed.length === 0) problems.push(`console: no Service exposes its CONSOLE_PORT ${port}`);
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) problems.push('console: sends its own spans to itself');

  for (const p of processes) {
    const c = containerOf(k, p);
    if (!c) {
      problems.push(`${p}: no Deployment`);
      continue;
    }
    const own = resolvedEnv(c, k);
    const endpoint = own.OTEL_EXPORTER_OTLP_ENDPOINT ? new URL(own.OTEL_EXPORTER_OTLP_ENDPOINT) : undefined;
    if (!endpoint) problems.push(`${p}: no OTEL_EXPORTER_OTLP_ENDPOINT`);
    else if (
      !exposed.some((e) => e.name === endpoint.hostname.split('.')[0] && e.port === Number(endpoint.port))
    )
      problems.push(`${p}: OTEL_EXPORTER_OTLP_ENDPOINT ${endpoint.href} is not the console's Service`);
    if (own.OTEL_EXPORTER_OTLP_HEADERS !== `authorization=Bearer%20${env.REFRONT_CONSOLE_TOKEN}`)
      problems.push(`${p}: OTEL_EXPORTER_OTLP_HEADERS does not carry the console's token`);
  }

  // Every process's ops port, by a headless Service that selects its pods.
  const dns = parseDns(env.REFRONT_OPS_DNS ?? '');
  const pods = platformPods(k);
  const podOf = (s: string) => pods.find((x) => x.service === s);
  for (const p of processes) {
    const entry = dns[p];
    const ops = portNumber(podOf(p), 'ops');
    const svc = k.services.find((s) => `${s.metadata.name}.${k.namespace}.svc.cluster.local` === entry?.name);
    const selected = svc && podOf(p) ? labelsMatch(svc.spec.selector, podOf(p)?.labels ?? {}) : false;
    const target = svc?.spec.ports.find((x) => x.port === entry?.port)?.targetPort;
    if (!entry) problems.push(`console: REFRONT_OPS_DNS does not name ${p}`);
    else if (svc?.spec.clusterIP !== 'None' || !selected || (target !== 'ops' && target !== ops))
      problems.push(
        `console: REFRONT_OPS_DNS ${p}=${entry.name}:${entry.port} is not a headless Service on its ops port`,
      );
  }

  const policies = k.ofKind<NetworkPolicy>('NetworkPolicy');
  const consolePod = podOf(CONSOLE);
  if (!consolePod) return [...problems, 'console: no pod'];
  const consoleIn = allowed(policies, consolePod, 'ingress', pods);
  const consoleOut = allowed(policies, consolePod, 'egress', pods);
  const reach = (from: PlatformPod | undefined, to: PlatformPod | undefined, portName: string): boolean => {
    const n = portNumber(to, portName);
    if (!from || !to || n === undefined) return false;
    const line = (peer: string) => [`${peer} TCP/${n}`, `${peer} *`, '* *'];
    return (
      allowed(policies, from, 'egress', pods).some((l) => line(to.service).includes(l)) &&
      allowed(policies, to, 'ingress', pods).some((l) => line(from.service).includes(l))
    );
  };
  for (const p of processes) {
    if (!reach(podOf(p), consolePod, 'http'))
      problems.push(`${p}: cannot reach the console's port by policy`);
    if (!reach(consolePod, podOf(p), 'ops')) problems.push(`console: cannot reach ${p}'s ops port by policy`);
  }
  for (const s of services)
    for (const lane of ['grpc', 'mux'])
      if (!reach(consolePod, podOf(s), lane))
        problems.push(`console: cannot reach ${s}'s ${lane} port by policy`);
  if (!consoleOut.includes('* TCP/5672')) problems.push('console: cannot reach RabbitMQ by policy');
  // GATEWAY_URL, when set: the gateway's Service, and the policies let the console through.
  if (env.GATEWAY_URL) {
    const url = new URL(env.GATEWAY_URL);
    const gateway = k.services.find((s) => s.metadata.name === url.hostname.split('.')[0]);
    const at = gateway?.spec.ports.find((p) => p.port === Number(url.port || 80));
    const gatewayPod = podOf('gateway');
    const http = gatewayPod && at ? gatewayPod.ports.find((p) => p.name === at.targetPort) : undefined;
    if (!http?.name || !labelsMatch(gateway?.spec.selector ?? {}, gatewayPod?.labels ?? {}))
      problems.push(`console: GATEWAY_URL ${url.href} is not the gateway's Service`);
    else if (!reach(consolePod, gatewayPod, http.name))
      problems.push("console: cannot reach the gateway's http port by policy");
  }
  const ops = portNumber(consolePod, 'ops');
  for (const line of consoleIn) {
    const [peer, on] = line.split(/ (?=[^ ]+$)/);
    if (on !== `TCP/${ops}` && !processes.includes(peer ?? ''))
      problems.push(`console: reachable by ${line}`);
  }
  return problems;
}
