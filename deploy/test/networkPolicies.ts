import { type Container, type Deployment, envOf, type K8sObjects, labelsMatch } from './k8sObjects.js';

/** A label selector; `matchExpressions` is refused (see {@link selects}) so no rule is misread. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: unknown[];
}
/** One peer of a rule. */
export interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
/** One port of a rule. */
export interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
/** An ingress (`from`) or egress (`to`) rule. */
export interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: PolicyPort[];
}
/** A networking.k8s.io/v1 NetworkPolicy. */
export interface NetworkPolicy {
  metadata: { name: string; namespace?: string };
  spec: {
    podSelector: LabelSelector;
    policyTypes?: ('Ingress' | 'Egress')[];
    ingress?: PolicyRule[];
    egress?: PolicyRule[];
  };
}

/** A pod of the platform as the policies see it: the SERVICE it runs, its labels and its ports. */
export interface PlatformPod {
  readonly service: string;
  readonly labels: Record<string, string>;
  readonly ports: readonly { name?: string; containerPort: number }[];
}

/** The pods the Deployments make (one entry per Deployment). */
export function platformPods(k: K8sObjects): PlatformPod[] {
  return k.deployments.map((d: Deployment) => {
    const c = d.spec.template.spec.containers[0] as Container;
    const service = envOf(c, 'SERVICE', k.configMaps);
    if (!service) throw new Error(`${d.metadata.name}: no SERVICE`);
    return { service, labels: d.spec.template.metadata.labels, ports: c.ports ?? [] };
  });
}

/**
 * Whether a selector selects these labels (`{}` selects everything).
 * @throws Error on `matchExpressions`, which this reader does not evaluate.
 */
export function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  if (selector.matchExpressions?.length) throw new Error('matchExpressions are not evaluated here');
  return labelsMatch(selector.matchLabels ?? {}, labels);
}

/** The policyTypes of a policy, with the API's default when the field is absent. */
function typesOf(p: NetworkPolicy): string[] {
  return p.spec.policyTypes ?? ['Ingress', ...(p.spec.egress ? ['Egress'] : [])];
}

const describeLabels = (s: LabelSelector | undefined): string =>
  Object.entries(s?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',') || '*';

/**
 * Who a peer is: the services of the platform it selects (by SERVICE) when it names pods of this
 * namespace, else a description (`namespace kube-system pods k8s-app=kube-dns`, `cidr …`).
 */
function peersOf(peer: PolicyPeer, pods: readonly PlatformPod[]): string[] {
  if (peer.ipBlock) return [`cidr ${peer.ipBlock.cidr}${peer.ipBlock.except ? ' except …' : ''}`];
  if (peer.namespaceSelector) {
    return [`namespace ${describeLabels(peer.namespaceSelector)} pods ${describeLabels(peer.podSelector)}`];
  }
  const selected = pods.filter((p) => selects(peer.podSelector ?? {}, p.labels)).map((p) => p.service);
  return selected.length > 0 ? selected : [`pods ${describeLabels(peer.podSelector)} (none of the platform)`];
}

/** A rule's ports as `TCP/50051`, a named port resolved on the pods it names; `*` for every port. */
function portsOf(rule: PolicyRule, on: readonly PlatformPod[]): string[] {
  if (!rule.ports || rule.ports.length === 0) return ['*'];
  return rule.ports.map((p) => {
    const protocol = p.protocol ?? 'TCP';
    if (p.port === undefined) return `${protocol}/*`;
    const numbers = new Set(
      typeof p.port === 'number'
        ? [p.port]
        : on.flatMap((pod) => pod.ports.filter((x) => x.name === p.port).map((x) => x.containerPort)),
    );
    if (numbers.size !== 1) throw new Error(`port ${String(p.port)} does not name one port`);
    return `${protocol}/${[...numbers][0]}${p.endPort ? `-${p.endPort}` : ''}`;
  });
}

/**
 * What the policies of a namespace let in to (`ingress`) or out of (`egress`) one pod, as the
 * API defines it: the union of the rules of every policy selecting the pod for that direction;
 * nothing when some policy selects it and no rule allows. Returns `peer port` lines, sorted, or
 * `['* *']` when no policy isolates the pod in that direction.
 */
export function allowed(
  policies: readonly NetworkPolicy[],
  pod: PlatformPod,
  direction: 'ingress' | 'egress',
  pods: readonly PlatformPod[],
): string[] {
  const type = direction === 'ingress' ? 'Ingress' : 'Egress';
  const applying = policies.filter(
    (p) => typesOf(p).includes(type) && selects(p.spec.podSelector, pod.labels),
  );
  if (applying.length === 0) return ['* *'];
  const out = new Set<string>();
  for (const p of applying) {
    for (const rule of p.spec[direction] ?? []) {
      const peers = direction === 'ingress' ? rule.from : rule.to;
      const named = peers?.flatMap((peer) => peersOf(peer, pods)) ?? ['*'];
      // A named port is the port of the pod receiving: this pod on ingress, the peers on egress.
      const receivers = direction === 'ingress' ? [pod] : pods.filter((x) => named.includes(x.service));
      for (const who of named) for (const port of portsOf(rule, receivers)) out.add(`${who} ${port}`);
    }
  }
  return [...out].sort();
}
