import type { ServiceModule } from '@refront/demo/deploy';

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

/** deploy/k8s/<name>.yaml: the service's headless Service, Deployment and PodDisruptionBudget. */
export function serviceManifest(name: string): string {
  const note = noteOf(name);
  const replicasOf = 'replicas' in note ? note.replicas : 1;
  const replicas = replicasOf === undefined ? '' : `  replicas: ${replicasOf}\n`;
  const secretKey = amqpSecretKey(name);
  const memory = note.memory ?? ['192Mi', '384Mi'];
  return `# ${name}: ${note.summary}
# Headless Service: its DNS name answers with the ready pods' IPs (REFRONT_DNS), no virtual IP;
# callers reach them on the grpc port or the mux port, as REFRONT_RPC says.
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: refront
  labels:
    app.kubernetes.io/name: ${name}
    app.kubernetes.io/part-of: refront
spec:
  clusterIP: None
  selector:
    app.kubernetes.io/name: ${name}
    app.kubernetes.io/part-of: refront
  ports:
    - name: grpc
      port: 50051
      targetPort: grpc
      protocol: TCP
      appProtocol: grpc
    - name: mux
      port: 51051
      targetPort: mux
      protocol: TCP
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: refront
  labels:
    app.kubernetes.io/name: ${name}
    app.kubernetes.io/part-of: refront
    app.kubernetes.io/component: service
spec:
${replicas}  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels:
      app.kubernetes.io/name: ${name}
      app.kubernetes.io/part-of: refront
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${name}
        app.kubernetes.io/part-of: refront
        app.kubernetes.io/component: service
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "9464"
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
              app.kubernetes.io/name: ${name}
              app.kubernetes.io/part-of: refront
      containers:
        - name: ${name}
          image: refront/demo:0.1.0
          imagePullPolicy: IfNotPresent
          envFrom:
            - configMapRef:
                name: refront-config
          env:
            - name: SERVICE
              value: ${name}
            - name: ADVERTISE_HOST
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
          ports:
            - name: grpc
              containerPort: 50051
            - name: mux
              containerPort: 51051
            - name: ops
              containerPort: 9464
          livenessProbe:
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
              memory: ${memory[0]}
            limits:
              cpu: "1"
              memory: ${memory[1]}
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
            secretName: ${name}-tls
            defaultMode: 288 # 0440: owner and group (fsGroup 1000) read
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: ${name}
  namespace: refront
  labels:
    app.kubernetes.io/name: ${name}
    app.kubernetes.io/part-of: refront
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: ${name}
      app.kubernetes.io/part-of: refront
`;
}

const pod = (indent: string, name: string): string =>
  `${indent}- podSelector:\n${indent}    matchLabels:\n${indent}      app.kubernetes.io/name: ${name}\n`;
const LANE_PORTS = (indent: string): string =>
  `${indent}ports:\n${indent}  - protocol: TCP\n${indent}    port: 50051 # grpc\n${indent}  - protocol: TCP\n${indent}    port: 51051 # mux\n`;

/** The services `name` calls: those whose module declares it a caller. */
function calleesOf(modules: readonly ServiceModule[], name: string): string[] {
  return modules.filter((m) => Object.keys(m.callers).includes(name)).map((m) => m.name);
}

/** Each region of a deploy file that lists the services, by file and region name. */
export function renderRegions(modules: readonly ServiceModule[]): Record<string, Record<string, string>> {
  const names = modules.map((m) => m.name);
  return {
    'deploy/compose.yaml': {
      certs: `    command: [${['gateway', ...names].join(', ')}]\n`,
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
    },
    'deploy/k8s/kustomization.yaml': {
      services: names
        .flatMap((n) => [`${n}.yaml`, ...(noteOf(n).after ?? [])])
        .map((f) => `  - ${f}\n`)
        .join(''),
    },
    'deploy/k8s/certificates.yaml': {
      services: names
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
      services: modules.map((m) => networkPolicy(modules, m)).join(''),
    },
    'deploy/k8s/secret.yaml': {
      services: names
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

function networkPolicy(modules: readonly ServiceModule[], m: ServiceModule): string {
  const callers = Object.keys(m.callers).sort();
  const callees = calleesOf(modules, m.name);
  const egress =
    callees.length === 0
      ? '  # Calls no other service: DNS, PostgreSQL and RabbitMQ only (the policies above).\n  egress: []\n'
      : `  egress:\n    - to:\n${callees.map((c) => pod('        ', c)).join('')}${LANE_PORTS('      ')}`;
  return (
    `---\n# ${m.name}: its lanes from its declared callers (${callers.join(', ')}).\n` +
    `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: ${m.name}\n  namespace: refront\n  labels:\n` +
    `    app.kubernetes.io/name: ${m.name}\n    app.kubernetes.io/part-of: refront\nspec:\n  podSelector:\n    matchLabels:\n` +
    `      app.kubernetes.io/name: ${m.name}\n  policyTypes:\n    - Ingress\n    - Egress\n  ingress:\n    - from:\n` +
    `${callers.map((c) => pod('        ', c)).join('')}${LANE_PORTS('      ')}${egress}`
  );
}
