import { gatewayEnvShape, identityEnvShape, notificationsEnvShape, serveConfig } from '@refront/demo/config';
import { z } from 'zod';
import { configSchema as appConfigSchema } from '../../packages/create-refront/template/src/config.js';

/** A zod shape: variable names to their schemas. */
export type EnvShape = Readonly<Record<string, z.ZodType>>;

/** Variables of a source that another reader declares (a shape merged into its schema). */
export interface ConfigPart {
  /** The merged shape. */
  readonly shape: EnvShape;
  /** Who reads these variables. */
  readonly readBy: string;
}

/** One place configuration is read, as docs/config.md lists it. */
export interface ConfigSource {
  /** Heading of its section. */
  readonly title: string;
  /** Its name in the index of variables. */
  readonly label: string;
  /** One paragraph: what it is and when it applies. */
  readonly intro: string;
  /** Repository paths of the files that read the variables. */
  readonly files: readonly string[];
  /** Who reads them (package, service or process). */
  readonly readBy: string;
  /** Its zod schema (an object, possibly preprocessed or refined), with a `.describe()` per key. */
  readonly schema: z.ZodType;
  /** Shapes merged into `schema` whose variables another reader owns. */
  readonly parts?: readonly ConfigPart[];
  /**
   * True when the code reads the variables directly rather than through `schema`: the schema then
   * only documents them, and the test checks each name appears in `file`.
   */
  readonly documentsOnly?: boolean;
}

const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);

/**
 * Every configuration source, in the order of docs/config.md: the zod schemas services parse at
 * start (`loadConfig`, `createService({ config })`), and the few variables packages read directly,
 * described here with a zod schema of their own so that one renderer writes every table.
 */
export const CONFIG_SOURCES: readonly ConfigSource[] = [
  {
    title: 'Every service: `@refront/core`',
    label: 'core',
    intro:
      "Read by core itself, whatever your own schema says: `createLogger`'s level when the caller passes none, and where `setupTracing` exports spans (docs/observability.md). The OTLP exporter also honours the other standard `OTEL_EXPORTER_OTLP_*` variables (headers, timeout, compression).",
    files: ['packages/core/src/logger.ts', 'packages/core/src/setupTracing.ts'],
    readBy: '`@refront/core`',
    documentsOnly: true,
    schema: z.object({
      LOG_LEVEL: z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('info')
        .describe('Minimum level of the JSON logs (pino); `silent` turns them off.'),
      OTEL_EXPORTER_OTLP_ENDPOINT: z
        .url()
        .optional()
        .describe(
          'OTLP/HTTP base URL (`http://jaeger:4318`); `setupTracing` then exports spans to `<url>/v1/traces`. Unset (and no `exporter` option): no SDK is registered, spans are no-ops but trace ids still travel and appear in logs.',
        ),
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z
        .url()
        .optional()
        .describe('Full OTLP/HTTP traces URL, used as is instead of the base URL + `/v1/traces`.'),
    }),
  },
  {
    title: 'The console: `@refront/console`',
    label: 'console',
    intro: '`createConsole` when its `development` option is not given.',
    files: ['packages/console/src/createConsole.ts'],
    readBy: '`@refront/console`',
    documentsOnly: true,
    schema: z.object({
      NODE_ENV: z
        .string()
        .optional()
        .describe('`development` lets the console run without a token; any other value requires one.'),
    }),
  },
  {
    title: 'Discovery: `registryFromEnv`',
    label: 'discovery',
    intro:
      '`registryFromEnv` picks the registry backend: Consul when `CONSUL_HTTP_ADDR` is set, else the DNS or static services it is given, else in-memory.',
    files: ['packages/discovery/src/registryFromEnv.ts'],
    readBy: '`@refront/discovery`',
    documentsOnly: true,
    schema: z.object({
      CONSUL_HTTP_ADDR: z
        .url()
        .optional()
        .describe('Consul agent (`http://consul:8500`): register there and discover through it.'),
      CONSUL_HTTP_TOKEN: z.string().optional().describe('ACL token for Consul.'),
    }),
  },
  {
    title: 'The command line: `@refront/cli`',
    label: 'cli',
    intro:
      '`refront doctor` checks what these point at; `refront call` finds a service through `REFRONT_ENDPOINTS` or Consul; `refront dlq` reads the broker at `AMQP_URL` unless `--url` is given.',
    files: ['packages/cli/src/doctor.ts', 'packages/cli/src/call.ts', 'packages/cli/src/cli.ts'],
    readBy: '`refront`',
    documentsOnly: true,
    schema: z.object({
      DATABASE_URL: z.url().optional().describe('PostgreSQL `refront doctor` connects to.'),
      AMQP_URL: z.url().optional().describe('RabbitMQ of `refront doctor` and `refront dlq`.'),
      CONSUL_HTTP_ADDR: z.url().optional().describe('Consul of `refront doctor` and `refront call`.'),
      CONSUL_HTTP_TOKEN: z.string().optional().describe('Its ACL token.'),
      REFRONT_ENDPOINTS: z
        .string()
        .optional()
        .describe('Where `refront call` finds a service first: `tickets=127.0.0.1:50051;…`.'),
      MTLS: z
        .enum(['on', 'off'])
        .default('on')
        .describe('`off`: `refront doctor` only warns that calls between services are plaintext.'),
      TLS_CA_FILE: z
        .string()
        .optional()
        .describe('CA bundle `refront doctor` checks the certificate against.'),
      TLS_CERT_FILE: z
        .string()
        .optional()
        .describe('Certificate `refront doctor` checks (chain, expiry, key).'),
      TLS_KEY_FILE: z.string().optional().describe('Its private key.'),
    }),
  },
  {
    title: 'An app made by `npm create refront`',
    label: 'new app',
    intro:
      "The new app's `src/config.ts`, parsed at start by `readConfig`; an invalid or missing variable stops the app with every problem listed by name. Add your own variables there.",
    files: ['packages/create-refront/template/src/config.ts'],
    readBy: 'the app (`src/config.ts`)',
    schema: appConfigSchema,
  },
  {
    title: 'Demo: one service process (`src/serve.ts`)',
    label: 'demo service',
    intro:
      'The environment of each process of the distributed demo and of its container image (docs/deploy.md), parsed by `serveConfig` before anything binds. Empty or blank values count as unset.',
    files: ['examples/refront-demo/src/serveConfig.ts'],
    readBy: 'every demo process',
    schema: serveConfig,
    parts: [
      { shape: identityEnvShape, readBy: 'every demo process (mutual TLS)' },
      { shape: gatewayEnvShape, readBy: 'the gateway (`SERVICE=gateway`)' },
      { shape: notificationsEnvShape, readBy: 'notifications' },
    ],
  },
  {
    title: 'Demo: discovery of a service process',
    label: 'demo discovery',
    intro:
      "Besides Consul's two variables above: how a demo process finds the others without Consul (docs/deploy.md).",
    files: ['examples/refront-demo/src/platform/distributed.ts'],
    readBy: 'every demo process',
    documentsOnly: true,
    schema: z.object({
      REFRONT_DNS: z
        .string()
        .optional()
        .describe(
          'DNS discovery: `tickets=tickets.refront.svc.cluster.local:50051;tickets-mux=…:51051;…` (A records of headless Services).',
        ),
      REFRONT_ENDPOINTS: z
        .string()
        .optional()
        .describe('Static discovery: `tickets=10.0.0.5:50051;invoicing=10.0.0.6:50051,10.0.0.7:50051`.'),
    }),
  },
  {
    title: 'Demo: the AI provider',
    label: 'demo ai',
    intro: "The ai service's provider: the local classifier unless an OpenAI-compatible endpoint is given.",
    files: ['examples/refront-demo/src/ai/config.ts'],
    readBy: 'ai',
    documentsOnly: true,
    schema: z.object({
      AI_PROVIDER: z
        .enum(['local', 'openai'])
        .optional()
        .describe('`local` forces the local provider; unset, `AI_BASE_URL` decides.'),
      AI_BASE_URL: z.url().optional().describe('OpenAI-compatible endpoint; unset: the local provider.'),
      AI_MODEL: z.string().optional().describe('Model name; required when `AI_BASE_URL` is set.'),
      AI_API_KEY: z.string().optional().describe('Bearer key of the endpoint, when it needs one.'),
      AI_TIMEOUT_MS: z.coerce
        .number()
        .int()
        .positive()
        .optional()
        .describe('Timeout of one completion, in ms.'),
    }),
  },
  {
    title: 'Demo: the monolith (`npm run demo`)',
    label: 'npm run demo',
    intro: 'The whole platform in one process on embedded defaults (README.md).',
    files: ['examples/refront-demo/src/demo.ts'],
    readBy: '`npm run demo`',
    documentsOnly: true,
    schema: z.object({
      GATEWAY_PORT: port(8080).describe('Port of the public HTTP API.'),
      OPS_PORT: port(9464).describe('Ops server: `/healthz`, `/readyz`, `/metrics`.'),
      DATABASE_URL: z.url().optional().describe('PostgreSQL instead of the embedded database.'),
      DATA_DIR: z.string().optional().describe('Folder of the embedded database; unset: in memory.'),
      REFRONT_CONSOLE: z.enum(['0']).optional().describe('`0` turns the console off.'),
      CONSOLE_PORT: port(4318).describe(
        'Port of the console (docs/console.md); it also receives OTLP traces.',
      ),
      REFRONT_CONSOLE_TOKEN: z
        .string()
        .optional()
        .describe('Bearer token the console asks for; required with `NODE_ENV=production`.'),
      NODE_ENV: z
        .string()
        .optional()
        .describe('`production` serves the console only with `REFRONT_CONSOLE_TOKEN`.'),
    }),
  },
  {
    title: 'Demo: the local distributed topology (`npm run demo:distributed`)',
    label: 'npm run demo:distributed',
    intro: 'One process per service on this machine, on the local PostgreSQL and RabbitMQ.',
    files: ['examples/refront-demo/src/distributed.ts'],
    readBy: '`npm run demo:distributed`',
    documentsOnly: true,
    schema: z.object({
      DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/postgres').describe('PostgreSQL.'),
      AMQP_URL: z.url().default('amqp://guest:guest@127.0.0.1:5672').describe('RabbitMQ.'),
      AMQP_NAMESPACE: z.string().default('refront').describe('Prefix of exchanges, queues and broker users.'),
      REFRONT_RPC: z.enum(['mux', 'grpc']).default('mux').describe('The lane between services.'),
      GATEWAY_PORT: port(8080).describe('Port of the public HTTP API.'),
      GRPC_BASE_PORT: port(25_051).describe('gRPC port of the first process; the next ones count up.'),
      OPS_BASE_PORT: port(9471).describe('Ops port of the first process; the next ones count up.'),
      MUX_BASE_PORT: z.coerce
        .number()
        .int()
        .optional()
        .describe('mux port of the first process; unset: `GRPC_BASE_PORT` + 1000.'),
      MTLS: z
        .enum(['on', 'off'])
        .default('on')
        .describe('`off` runs without mutual TLS; `on` makes a fresh development CA.'),
    }),
  },
];
