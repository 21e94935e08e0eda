import { loadManifests, type YamlDoc } from './yamlDocs.js';

/** A variable of a container (the fields the checks read, as for every type below). */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
/** An HTTP probe. */
export interface Probe {
  httpGet?: { path: string; port: string | number };
}
/** A container of a pod template. */
export interface Container {
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
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
/** A volume of a pod template. */
export interface Volume {
  name: string;
  secret?: { secretName: string; defaultMode?: number };
  emptyDir?: Record<string, unknown>;
}
/** The spec of a pod template. */
export interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; fsGroup?: number };
  volumes?: Volume[];
}
/** An apps/v1 Deployment. */
export interface Deployment {
  metadata: { name: string; namespace?: string };
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
/** A port of a Service. */
export interface ServicePort {
  name: string;
  port: number;
  targetPort: string | number;
  protocol?: string;
  appProtocol?: string;
}
/** A v1 Service. */
export interface Service {
  metadata: { name: string };
  spec: {
    clusterIP?: string;
    selector: Record<string, string>;
    ports: ServicePort[];
  };
}
/** A ConfigMap. */
export interface ConfigMap {
  metadata: { name: string };
  data: Record<string, string>;
}
/** A Secret written with `stringData`. */
export interface Secret {
  metadata: { name: string };
  stringData: Record<string, string>;
}

/** The manifests of a folder, sorted by kind, with the lookups the checks share. */
export interface K8sObjects {
  readonly docs: YamlDoc[];
  readonly deployments: Deployment[];
  readonly services: Service[];
  readonly configMaps: ConfigMap[];
  readonly secrets: Secret[];
  /** The name of the Namespace document. */
  readonly namespace: string | undefined;
  /** Every document of one kind, as `T`. */
  ofKind<T>(kind: string): T[];
}

/** Loads every manifest of a folder (kustomization.yaml apart). */
export function loadK8s(dir: string): K8sObjects {
  return k8sObjectsOf(loadManifests(dir));
}

/** The lookups over a set of manifests (a folder's, or a changed copy of them in a test). */
export function k8sObjectsOf(docs: YamlDoc[]): K8sObjects {
  const ofKind = <T>(kind: string): T[] => docs.filter((d) => d.body.kind === kind).map((d) => d.body as T);
  return {
    docs,
    deployments: ofKind<Deployment>('Deployment'),
    services: ofKind<Service>('Service'),
    configMaps: ofKind<ConfigMap>('ConfigMap'),
    secrets: ofKind<Secret>('Secret'),
    namespace: (docs.find((d) => d.body.kind === 'Namespace')?.body.metadata as { name?: string } | undefined)
      ?.name,
    ofKind,
  };
}

/** Whether every label of a selector is on `labels`. */
export const labelsMatch = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/**
 * Every variable a container sees with a literal value, as the kubelet resolves them: the
 * ConfigMaps of its `envFrom` in order (a later one wins), then its own `env` over them. A variable
 * set from a Secret or a field is left out (its value is not in the manifests).
 */
export function literalEnv(c: Container, configMaps: readonly ConfigMap[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    Object.assign(out, configMaps.find((m) => m.metadata.name === from.configMapRef?.name)?.data);
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) out[e.name] = e.value;
    else delete out[e.name];
  }
  return out;
}

/** The literal value a container sees for one variable ({@link literalEnv}), else undefined. */
export function envOf(c: Container, name: string, configMaps: readonly ConfigMap[]): string | undefined {
  return literalEnv(c, configMaps)[name];
}

/**
 * The Deployment whose container runs `SERVICE=service`.
 * @throws Error when none does.
 */
export function deploymentOf(k: K8sObjects, service: string): Deployment {
  const d = k.deployments.find((x) =>
    x.spec.template.spec.containers.some((c) => envOf(c, 'SERVICE', k.configMaps) === service),
  );
  if (!d) throw new Error(`no Deployment runs SERVICE=${service}`);
  return d;
}

/**
 * Every variable a container sees, as the kubelet resolves them: {@link literalEnv}, the values of
 * Secret keys (`stringData`), then `$(NAME)` in a value expanded from the variables listed before
 * it (an unknown name is left as written, as the kubelet does).
 */
export function resolvedEnv(c: Container, k: K8sObjects): Record<string, string> {
  const out: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    Object.assign(out, k.configMaps.find((m) => m.metadata.name === from.configMapRef?.name)?.data);
  }
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    const value =
      e.value?.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, name: string) => out[name] ?? all) ??
      (ref ? k.secrets.find((s) => s.metadata.name === ref.name)?.stringData[ref.key] : undefined);
    if (value === undefined) delete out[e.name];
    else out[e.name] = value;
  }
  return out;
}
