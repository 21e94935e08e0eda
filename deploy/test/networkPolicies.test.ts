import { callersOf, OPERATOR_CALLERS, PLATFORM_MODULES } from '@refront/demo/deploy';
import { describe, expect, it } from 'vitest';
import { deploymentOf, k8sObjectsOf, loadK8s } from './k8sObjects.js';
import { allowed, type NetworkPolicy, type PlatformPod, platformPods } from './networkPolicies.js';
import { rpcCallGraph } from './sourceFacts.js';

const k8s = loadK8s('deploy/k8s');
const policies = k8s.ofKind<NetworkPolicy>('NetworkPolicy');
const pods = platformPods(k8s);
const platform = PLATFORM_MODULES.map((m) => m.name);

/**
 * Who may call each service: the callers its module declares and the platform's operators (the
 * console), as `callersOf` gives them to its servers.
 */
const declaredCallers = new Map(PLATFORM_MODULES.map((m) => [m.name, Object.keys(callersOf(m)).sort()]));
const operators = Object.keys(OPERATOR_CALLERS);
/** The processes that send their spans to the console: all but the console. */
const processes = ['gateway', ...platform];

const PROMETHEUS = 'namespace kubernetes.io/metadata.name=monitoring pods app.kubernetes.io/name=prometheus';
const INGRESS_CONTROLLER =
  'namespace kubernetes.io/metadata.name=ingress-nginx pods app.kubernetes.io/name=ingress-nginx';
const DNS = [
  'namespace kubernetes.io/metadata.name=kube-system pods k8s-app=kube-dns TCP/53',
  'namespace kubernetes.io/metadata.name=kube-system pods k8s-app=kube-dns UDP/53',
];
const DATA_AND_BROKER = ['* TCP/5432', '* TCP/5672'];

const podOf = (service: string): PlatformPod => {
  const pod = pods.find((p) => p.service === service);
  if (!pod) throw new Error(`no pod runs ${service}`);
  return pod;
};
const portOf = (pod: PlatformPod, name: string): string =>
  `TCP/${pod.ports.find((p) => p.name === name)?.containerPort ?? `no port ${name}`}`;
/** `peer port` lines: each peer on the lanes (grpc, mux) of the service `on`. */
const lanesOf = (on: string, peers: readonly string[]): string[] =>
  peers.flatMap((peer) => ['grpc', 'mux'].map((lane) => `${peer} ${portOf(podOf(on), lane)}`));
/** The services a process may call: those whose modules declare it as a caller. */
const calleesOf = (caller: string): string[] =>
  platform.filter((s) => declaredCallers.get(s)?.includes(caller));

/** Whether the container of a process sets a variable (a literal, or from a Secret). */
const sets = (service: string, name: string): boolean =>
  (deploymentOf(k8s, service).spec.template.spec.containers[0]?.env ?? []).some((e) => e.name === name);

/** What the policies should let in and out of each pod, derived from the declared callers. */
function expected(service: string): { ingress: string[]; egress: string[] } {
  const pod = podOf(service);
  // Prometheus and the console read every ops port.
  const ops = [`${PROMETHEUS} ${portOf(pod, 'ops')}`, `console ${portOf(pod, 'ops')}`];
  const calls = calleesOf(service).flatMap((callee) => lanesOf(callee, [callee]));
  const otlp = `console ${portOf(podOf('console'), 'http')}`;
  if (service === 'console') {
    return {
      ingress: [...ops, ...processes.map((p) => `${p} ${portOf(pod, 'http')}`)].sort(),
      // Every ops port; the dead letters on RabbitMQ (no database).
      egress: [
        ...DNS,
        '* TCP/5672',
        ...processes.map((p) => `${p} ${portOf(podOf(p), 'ops')}`),
        ...calls,
        // The API explorer's gateway routes, when it is given the gateway's URL.
        ...(sets(service, 'GATEWAY_URL') ? [`gateway ${portOf(podOf('gateway'), 'http')}`] : []),
      ].sort(),
    };
  }
  if (service === 'gateway') {
    return {
      ingress: [
        ...ops,
        `${INGRESS_CONTROLLER} ${portOf(pod, 'http')}`,
        ...(sets('console', 'GATEWAY_URL') ? [`console ${portOf(pod, 'http')}`] : []),
      ].sort(),
      // The shared limits' Redis, when the gateway is given one (outside the manifests).
      egress: [...DNS, ...(sets(service, 'REDIS_URL') ? ['* TCP/6379'] : []), ...calls, otlp].sort(),
    };
  }
  return {
    ingress: [...ops, ...lanesOf(service, declaredCallers.get(service) ?? [])].sort(),
    egress: [...DNS, ...DATA_AND_BROKER, ...calls, otlp].sort(),
  };
}

describe('NetworkPolicies: default deny, then exactly the declared callers', () => {
  it('reads the declared callers from the modules, and they cover every call the sources make', () => {
    expect(declaredCallers.get('tickets')).toEqual(['console', 'gateway', 'invoicing', 'time-tracking']);
    expect(operators).toEqual(['console']);
    for (const [service, callers] of declaredCallers) {
      for (const caller of callers)
        expect(['gateway', ...operators, ...platform], `${service} ← ${caller}`).toContain(caller);
      // The operators may call every service.
      expect(callers, service).toEqual(expect.arrayContaining(operators));
    }
    // A call in the code that its callee does not declare would be refused: the two agree.
    for (const [caller, callees] of rpcCallGraph(platform)) {
      for (const callee of callees)
        expect(declaredCallers.get(callee), `${caller} → ${callee}`).toContain(caller);
    }
  });

  it('a default-deny policy isolates every pod of the namespace, in and out', () => {
    const deny = policies.filter(
      (p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress && !p.spec.egress,
    );
    expect(deny.map((p) => p.spec.policyTypes?.sort())).toEqual([['Egress', 'Ingress']]);
  });

  it('each pod accepts exactly its declared callers on its lanes, Prometheus and the console on ops, and sends only what it needs', () => {
    expect(pods.map((p) => p.service).sort()).toEqual([...processes, 'console'].sort());
    for (const { service } of pods) {
      const pod = podOf(service);
      expect({ service, ingress: allowed(policies, pod, 'ingress', pods) }).toEqual({
        service,
        ingress: expected(service).ingress,
      });
      expect({ service, egress: allowed(policies, pod, 'egress', pods) }).toEqual({
        service,
        egress: expected(service).egress,
      });
    }
  });

  it('catches a caller added, a caller missing and an open port (the check is not vacuous)', () => {
    const broken = k8sObjectsOf(structuredClone(k8s.docs));
    const mutable = broken.ofKind<NetworkPolicy>('NetworkPolicy');
    const tickets = mutable.find((p) => p.metadata.name === 'tickets');
    const reporting = mutable.find((p) => p.metadata.name === 'reporting');
    const ai = mutable.find((p) => p.metadata.name === 'ai');
    if (!tickets?.spec.ingress?.[0]?.from || !reporting?.spec.ingress?.[0]?.from || !ai?.spec.ingress?.[0]) {
      throw new Error('the policies lost their shape');
    }
    tickets.spec.ingress[0].from = tickets.spec.ingress[0].from.filter(
      (p) => p.podSelector?.matchLabels?.['app.kubernetes.io/name'] !== 'invoicing',
    );
    reporting.spec.ingress[0].from.push({ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ai' } } });
    delete ai.spec.ingress[0].ports;
    expect(allowed(mutable, podOf('tickets'), 'ingress', pods)).not.toContain('invoicing TCP/50051');
    expect(allowed(mutable, podOf('reporting'), 'ingress', pods)).toContain('ai TCP/51051');
    expect(allowed(mutable, podOf('ai'), 'ingress', pods)).toContain('gateway *');
    // A pod no policy selects is open: the default deny is what closes it.
    const open = mutable.filter((p) => p.metadata.name !== 'default-deny' && p.metadata.name !== 'allow-dns');
    expect(allowed(open, podOf('reporting'), 'egress', pods)).toEqual([
      '* TCP/5432',
      '* TCP/5672',
      'console TCP/4318',
    ]);
    expect(allowed([], podOf('reporting'), 'egress', pods)).toEqual(['* *']);
  });
});
