import { callersOf, type ServiceModule } from '@refront/demo/deploy';

/**
 * How a service is deployed beyond what its module says: a line saying what it does, its
 * replicas, and the resources of its own listed after it. A service not named here (one
 * `refront new service` just added) gets the defaults: one replica, a generic line.
 */
interface DeployNote {
  readonly summary: string;
  /** Kubernetes replicas; `undefined`: none set (a HorizontalPodAutoscaler owns them). @default 1 */
  readonly replicas?: number | undefined;
  /** Compose replicas (`deploy.replicas`). @default none */
  readonly composeReplicas?: number;
  /** Memory request and limit of its container. @default ['192Mi', '384Mi'] */
  readonly memory?: readonly [string, string];
  /** Files of deploy/k8s listed right after the service's own in kustomization.yaml. */
  readonly after?: readonly string[];
}

const NOTES: Readonly<Record<string, DeployNote>> = {
  tickets: { summary: 'customers and tickets (gRPC), TicketCreated/Updated/Resolved.', replicas: 2 },
  'time-tracking': { summary: 'time entries (gRPC), TimeLogged.', replicas: 2 },
  invoicing: {
    summary: 'billing saga and invoices; scaled by the HorizontalPodAutoscaler (hpa-invoicing.yaml).',
    replicas: undefined,
    composeReplicas: 3,
    after: ['hpa-invoicing.yaml'],
  },
  ai: { summary: 'ticket classification and summaries (local model in memory).', memory: ['256Mi', '512Mi'] },
  notifications: { summary: 'mail on InvoiceIssued, urgent TicketClassified, TicketResolved.' },
  reporting: { summary: 'read models built from every event (one consumer keeps the event log in order).' },
};

function noteOf(name: string): DeployNote {
  return (
    NOTES[name] ?? { summary: 'a Refront service of the platform (its module: src/platform/services.ts).' }
  );
}

/** The Secret key of `service`'s AMQP URL in deploy/k8s/secret.yaml: `AMQP_URL_TIME_TRACKING`. */
export function amqpSecretKey(service: string): string {
  return `AMQP_URL_${service.toUpperCase().replaceAll('-', '_')}`;
}

/** The Secret key of the console's token: the console requires it, every process sends it. */
export const CONSOLE_TOKEN_KEY = 'REFRONT_CONSOLE_TOKEN';
/** The console's port: OTLP/HTTP's (its receiver) and its UI's, one port (CONSOLE_PORT). */
export const CONSOLE_PORT = 4318;
/** Every process's ops port (OPS_PORT): /healthz, /readyz, /metrics, /workflows. */
const OPS_PORT = 9464;
/** The gateway's container port (GATEWAY_PORT, config.yaml), behind its Service's port 80. */
const GATEWAY_HTTP_PORT = 8080;

/** What differs between the Deployments the generator writes: the console's and the services'. */
interface DeploymentShape {
  readonly name: string;
  readonly component: 'service' | 'console';
  readonly replicas: string;
  /** The container's `env` entries after SERVICE, indented for the list. */
  readonly env: string;
  /** The container's ports before `ops`. */
  readonly ports: readonly (readonly [string, number])[];
  readonly memory: readonly [string, string];
}

/**
 * The two variables every process but the console sets to send its spans to the console: its
 * token from the Secret, then the OTLP headers made from it (Kubernetes expands `$(NAME)` from
 * the variables listed before; the endpoint itself is in config.yaml).
 */
const OTLP_ENV = `            # Its spans go to the console (OTEL_EXPORTER_OTLP_ENDPOINT, config.yaml) with the console's
            # token; the token also lets the console read its /workflows on the ops port.
            - name: ${CONSOLE_TOKEN_KEY}
              valueFrom:
                secretKeyRef:
                  name: refront-secrets
                  key: ${CONSOLE_TOKEN_KEY}
            - name: OTEL_EXPORTER_OTLP_HEADERS
              value: authorization=Bearer%20$(${CONSOLE_TOKEN_KEY})
`;

/** A v1 Service of the pods of `app`: its `spec` lines before the selector, then its `ports` list. */
function serviceYaml(name: string, app: string, spec: string, ports: string): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: refront
  labels:
    app.kubernetes.io/name: ${app}
    app.kubernetes.io/part-of: refront
spec:
${spec}  selector:
    app.kubernetes.io/name: ${app}
    app.kubernetes.io/part-of: refront
  ports:
${ports}`;
}

function deploymentYaml(d: DeploymentShape): string {
  const ports = [...d.ports, ['ops', OPS_PORT] as const]
    .map(([n, p]) => `            - name: ${n}\n              containerPort: ${p}\n`)
    .join('');
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${d.name}
  namespace: refront
  labels:
    app.kubernetes.io/name: ${d.name}
    app.kubernetes.io/part-of: refront
    app.kubernetes.io/component: ${d.component}
spec:
${d.replicas}  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels:
      app.kubernetes.io/name: ${d.name}
      app.kubernetes.io/part-of: refront
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${d.name}
        app.kubernetes.io/part-of: refront
        app.kubernetes.io/component: ${d.component}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "${OPS_PORT}"
        prometheus.io/path: /metrics
    spec:
      serviceAccountName: refront
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 30
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        runAsGroup: 1000
        # Group owner of the mounted certificate files (mode 0440).
        fsGroup: 1000
        seccompProfile:
          type: RuntimeDefault
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              app.kubernetes.io/name: ${d.name}
              app.kubernetes.io/part-of: refront
      containers:
        - name: ${d.name}
          image: refront/demo:0.1.0
          imagePullPolicy: IfNotPresent
          envFrom:
            - configMapRef:
                name: refront-config
          env:
            - name: SERVICE
              value: ${d.name}
${d.env}          ports:
${ports}          livenessProbe:
            httpGet:
              path: /healthz
              port: ops
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: /readyz
              port: ops
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 2
          lifecycle:
            preStop:
              exec:
                command:
                  - sleep
                  - "10"
          resources:
            requests:
              cpu: 100m
              memory: ${d.memory[0]}
            limits:
              cpu: "1"
              memory: ${d.memory[1]}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop:
                - ALL
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            # Its identity (certificates.yaml): tls.crt, tls.key, ca.crt (TLS_* in config.yaml).
            - name: tls
              mountPath: /etc/refront/tls
              readOnly: true
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 16Mi
        - name: tls
          secret:
            secretName: ${d.name}-tls
            defaultMode: 288 # 0440: owner and group (fsGroup 1000) read
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: ${d.name}
  namespace: refront
  labels:
    app.kubernetes.io/name: ${d.name}
    app.kubernetes.io/part-of: refront
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: ${d.name}
      app.kubernetes.io/part-of: refront
`;
}

/** deploy/k8s/<name>.yaml: the service's headless Service, Deployment and PodDisruptionBudget. */
export function serviceManifest(name: string): string {
  const note = noteOf(name);
  const replicasOf = 'replicas' in note ? note.replicas : 1;
  const secretKey = amqpSecretKey(name);
  return `# ${name}: ${note.summary}
# Headless Service: its DNS name answers with the ready pods' IPs (REFRONT_DNS), no virtual IP;
# callers reach them on the grpc port or the mux port, as REFRONT_RPC says.
${serviceYaml(
  name,
  name,
  '  clusterIP: None\n',
  `    - name: grpc
      port: 50051
      targetPort: grpc
      protocol: TCP
      appProtocol: grpc
    - name: mux
      port: 51051
      targetPort: mux
      protocol: TCP
`,
)}---
${deploymentYaml({
  name,
  component: 'service',
  replicas: replicasOf === undefined ? '' : `  replicas: ${replicasOf}\n`,
  env: `            - name: ADVERTISE_HOST
              valueFrom:
                fieldRef:
                  fieldPath: status.podIP
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef:
                  name: refront-secrets
                  key: DATABASE_URL
            - name: AMQP_URL
              valueFrom:
                secretKeyRef:
                  name: refront-secrets
                  # Its own broker user (deploy/rabbitmq/definitions.json): consumers accept its
                  # events only from it (AMQP_OWNERSHIP, decision 0049).
                  key: ${secretKey}
${OTLP_ENV}`,
  ports: [
    ['grpc', 50051],
    ['mux', 51051],
  ],
  memory: note.memory ?? ['192Mi', '384Mi'],
})}`;
}

/** The DNS name of a process's ops Service (console.yaml): `tickets-ops.refront.svc.cluster.local`. */
const opsHost = (process: string): string => `${process}-ops.refront.svc.cluster.local`;

/**
 * deploy/k8s/console.yaml: the Refront console (decision 0147): its Service (OTLP and UI on one
 * port, cluster-internal), one Deployment, its PodDisruptionBudget, and a headless `<process>-ops`
 * Service per process (`REFRONT_OPS_DNS`) that answers with every pod, ready or not.
 */
export function consoleManifest(modules: readonly ServiceModule[]): string {
  const processes = ['gateway', ...modules.map((m) => m.name)];
  const opsServices = processes
    .map(
      (p) =>
        `---\n${serviceYaml(
          `${p}-ops`,
          p,
          '  clusterIP: None\n  publishNotReadyAddresses: true\n',
          `    - name: ops\n      port: ${OPS_PORT}\n      targetPort: ops\n      protocol: TCP\n`,
        )}`,
    )
    .join('');
  const opsDns = processes.map((p) => `${p}=${opsHost(p)}:${OPS_PORT}`).join(';');
  return `# console: the Refront console (docs/console.md, decision 0147). Every process sends it its spans
# on OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT, config.yaml); it reads each process's /readyz,
# /metrics and /workflows on its ops port, lists and replays the dead letters of every group as
# the broker's dead-letter operator, and calls the services' methods as the operator identity
# spiffe://refront.local/console (certificates.yaml). Not public: no Ingress, and its policy
# lets in only the platform's pods; open it with
#   kubectl -n refront port-forward svc/console ${CONSOLE_PORT}
# then http://localhost:${CONSOLE_PORT} with the token of the Secret (REFRONT_CONSOLE_TOKEN).
${serviceYaml(
  'console',
  'console',
  '  type: ClusterIP\n',
  `    - name: http\n      port: ${CONSOLE_PORT}\n      targetPort: http\n      protocol: TCP\n`,
)}---
# One replica: the traces it receives are kept in its memory.
${deploymentYaml({
  name: 'console',
  component: 'console',
  replicas: '  replicas: 1\n',
  env: `            - name: CONSOLE_HOST
              value: 0.0.0.0
            - name: CONSOLE_PORT
              value: "${CONSOLE_PORT}"
            # Its own spans do not go to itself (each span it receives would make another).
            - name: OTEL_EXPORTER_OTLP_ENDPOINT
              value: ""
            - name: ${CONSOLE_TOKEN_KEY}
              valueFrom:
                secretKeyRef:
                  name: refront-secrets
                  key: ${CONSOLE_TOKEN_KEY}
            - name: AMQP_URL
              valueFrom:
                secretKeyRef:
                  name: refront-secrets
                  # The dead-letter operator (deploy/rabbitmq/definitions.json): reads the DLQs,
                  # replays through the default exchange keeping the group's user-id (impersonator).
                  key: ${amqpSecretKey('console')}
            # The API explorer's gateway routes, through the gateway's Service (gateway.yaml).
            - name: GATEWAY_URL
              value: http://gateway
            # Every instance of every process, by the headless Services below.
            - name: REFRONT_OPS_DNS
              value: ${opsDns}
`,
  ports: [['http', CONSOLE_PORT]],
  memory: ['256Mi', '512Mi'],
})}${opsServices}`;
}

const pod = (indent: string, name: string): string =>
  `${indent}- podSelector:\n${indent}    matchLabels:\n${indent}      app.kubernetes.io/name: ${name}\n`;
const LANE_PORTS = (indent: string): string =>
  `${indent}ports:\n${indent}  - protocol: TCP\n${indent}    port: 50051 # grpc\n${indent}  - protocol: TCP\n${indent}    port: 51051 # mux\n`;
const port = (indent: string, n: number, comment: string): string =>
  `${indent}ports:\n${indent}  - protocol: TCP\n${indent}    port: ${n} # ${comment}\n`;
/** The egress rule of every process but the console: its spans to the console's OTLP port. */
const OTLP_EGRESS = `    - to:\n${pod('        ', 'console')}${port('      ', CONSOLE_PORT, 'otlp')}`;

/** The services `name` calls: those whose callers ({@link callersOf}) include it. */
function calleesOf(modules: readonly ServiceModule[], name: string): string[] {
  return modules.filter((m) => Object.keys(callersOf(m)).includes(name)).map((m) => m.name);
}

/** Each region of a deploy file that lists the services, by file and region name. */
export function renderRegions(modules: readonly ServiceModule[]): Record<string, Record<string, string>> {
  const names = modules.map((m) => m.name);
  return {
    'deploy/compose.yaml': {
      certs: `    command: [${['gateway', ...names, 'console'].join(', ')}]\n`,
      services: names
        .map((n) => {
          const replicas = noteOf(n).composeReplicas;
          return (
            `  ${n}:\n    <<: *refront-service\n    environment:\n      <<: *refront-env\n      SERVICE: ${n}\n` +
            `      AMQP_URL: amqp://${n}:dev-only-${n}@rabbitmq:5672\n      TLS_CERT_FILE: /certs/${n}.crt\n      TLS_KEY_FILE: /certs/${n}.key\n` +
            (replicas ? `    deploy:\n      replicas: ${replicas}\n` : '')
          );
        })
        .join('\n'),
      'gateway-depends-on': names.map((n) => `      ${n}:\n        condition: service_healthy\n`).join(''),
      'console-ops-dns': `      REFRONT_OPS_DNS: ${['gateway', ...names].map((n) => `${n}=${n}:${OPS_PORT}`).join(';')}\n`,
    },
    'deploy/k8s/kustomization.yaml': {
      services: [...names.flatMap((n) => [`${n}.yaml`, ...(noteOf(n).after ?? [])]), 'console.yaml']
        .map((f) => `  - ${f}\n`)
        .join(''),
    },
    'deploy/k8s/certificates.yaml': {
      services: [...names, 'console']
        .map(
          (n) =>
            `---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: ${n}\n  namespace: refront\n  labels:\n` +
            `    app.kubernetes.io/name: ${n}\n    app.kubernetes.io/part-of: refront\nspec:\n  secretName: ${n}-tls\n  uris:\n` +
            `    - spiffe://refront.local/${n}\n  dnsNames:\n    - ${n}\n  usages:\n    - digital signature\n    - key encipherment\n` +
            `    - server auth\n    - client auth\n  duration: 2160h\n  renewBefore: 720h\n  privateKey:\n    algorithm: ECDSA\n` +
            `    size: 256\n    rotationPolicy: Always\n  issuerRef:\n    group: cert-manager.io\n    kind: Issuer\n    name: refront-ca\n`,
        )
        .join(''),
    },
    'deploy/k8s/network-policies.yaml': {
      'gateway-egress': names.map((n) => pod('        ', n)).join(''),
      services: modules.map((m) => networkPolicy(modules, m)).join('') + consolePolicy(modules),
    },
    'deploy/k8s/secret.yaml': {
      services: [...names, 'console']
        .map((n) => `  ${amqpSecretKey(n)}: amqp://${n}:CHANGE-ME@rabbitmq.example.internal:5672\n`)
        .join(''),
    },
    'deploy/k8s/config.yaml': {
      services: `  REFRONT_DNS: >-\n${names
        .flatMap((n) => [
          `${n}=${n}.refront.svc.cluster.local:50051`,
          `${n}-mux=${n}.refront.svc.cluster.local:51051`,
        ])
        .map((l) => `    ${l}`)
        .join(';\n')}\n`,
    },
  };
}

const policyHead = (name: string, comment: string): string =>
  `---\n# ${comment}\n` +
  `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: ${name}\n  namespace: refront\n  labels:\n` +
  `    app.kubernetes.io/name: ${name}\n    app.kubernetes.io/part-of: refront\nspec:\n  podSelector:\n    matchLabels:\n` +
  `      app.kubernetes.io/name: ${name}\n  policyTypes:\n    - Ingress\n    - Egress\n`;

function networkPolicy(modules: readonly ServiceModule[], m: ServiceModule): string {
  const callers = Object.keys(callersOf(m)).sort();
  const callees = calleesOf(modules, m.name);
  const calls =
    callees.length === 0
      ? ''
      : `    - to:\n${callees.map((c) => pod('        ', c)).join('')}${LANE_PORTS('      ')}`;
  return (
    policyHead(
      m.name,
      `${m.name}: its lanes from its declared callers and the operators (${callers.join(', ')}); its spans to the console.`,
    ) +
    `  ingress:\n    - from:\n${callers.map((c) => pod('        ', c)).join('')}${LANE_PORTS('      ')}` +
    `  egress:\n${calls}${OTLP_EGRESS}`
  );
}

/**
 * The console's policy: OTLP from every process; out to every process's ops port, to the lanes of
 * every service that serves it ({@link callersOf}), to the gateway's HTTP port, and to RabbitMQ. Nothing else reaches its UI:
 * `kubectl port-forward` enters the pod's own network namespace, which no policy filters.
 */
function consolePolicy(modules: readonly ServiceModule[]): string {
  const processes = ['gateway', ...modules.map((m) => m.name)];
  const callees = calleesOf(modules, 'console');
  return (
    policyHead(
      'console',
      "console: spans in from every process; out to their ops ports, the services' lanes, the gateway, RabbitMQ.",
    ) +
    `  ingress:\n    - from:\n${processes.map((p) => pod('        ', p)).join('')}${port('      ', CONSOLE_PORT, 'otlp and UI')}` +
    `  egress:\n    - to:\n${processes.map((p) => pod('        ', p)).join('')}${port('      ', OPS_PORT, 'ops')}` +
    (callees.length === 0
      ? ''
      : `    - to:\n${callees.map((c) => pod('        ', c)).join('')}${LANE_PORTS('      ')}`) +
    `    - to:\n${pod('        ', 'gateway')}${port('      ', GATEWAY_HTTP_PORT, "the gateway's http (GATEWAY_URL)")}` +
    `    # The dead letters: RabbitMQ wherever it runs (allow-database-and-broker's reasoning).\n` +
    `    - ${port('      ', 5672, 'RabbitMQ (AMQP)').trimStart()}`
  );
}
