import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createConsulRegistry } from '@refront/discovery';
import { fromGrpcError } from '@refront/transport-grpc';
import { CliFailure } from './CliFailure.js';
import { buildDescriptorSet } from './descriptorSet.js';

/** Options of {@link call}. */
export interface CallOptions {
  /** `<service>/<method>`: a Refront service name (`time-tracking/LogTime`) or a gRPC one (`refront.tickets.v1.TicketsService/GetTicket`). */
  readonly target: string;
  /** The request as JSON (protobuf JSON field names, camelCase). */
  readonly json: string;
  /** Where to start looking for the contracts (`proto/` and `buf.yaml`). */
  readonly cwd: string;
  /** The buf module of the contracts. @default `proto` of the nearest package holding one */
  readonly proto?: string;
  /** `host:port` of the server. @default discovery: `REFRONT_ENDPOINTS`, else Consul (`CONSUL_HTTP_ADDR`) */
  readonly address?: string;
  /** The tenant the call acts for (`x-refront-tenant`). */
  readonly tenant?: string;
  /** The caller name sent (`x-refront-caller`). @default 'refront-cli' */
  readonly caller?: string;
  /** More metadata. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Deadline in ms. @default 10000 */
  readonly timeoutMs?: number;
  /** Mutual TLS: the CA's certificate and this caller's certificate and key (PEM files). */
  readonly tls?: {
    readonly ca: string;
    readonly cert?: string;
    readonly key?: string;
    readonly serverName?: string;
  };
  /** The environment discovery reads. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The answer of {@link call}. */
export interface CallResult {
  /** The gRPC method called (`/refront.tickets.v1.TicketsService/GetTicket`). */
  readonly path: string;
  /** The address called. */
  readonly address: string;
  /** The response, as plain JSON-able data. */
  readonly response: unknown;
}

/**
 * A gRPC call that failed: its status, and the Refront reason and field violations the server
 * sent in `grpc-status-details-bin` (decoded by transport-grpc's `fromGrpcError`).
 */
export class CallFailure extends CliFailure {
  constructor(
    /** The status name (`NOT_FOUND`). */
    readonly status: string,
    /** The reason code (`TICKETS_NOT_FOUND`; `GRPC_STATUS` from a server that sent none). */
    readonly reason: string,
    readonly details: string,
    /** The fields the server refused, with why. */
    readonly fieldViolations: readonly { readonly field: string; readonly description: string }[],
  ) {
    const fields = fieldViolations.map((v) => `\n  ${v.field}: ${v.description}`).join('');
    super(`${status} ${reason}: ${details}${fields}`);
  }
}

interface MethodDef {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestSerialize: (value: object) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => unknown;
  readonly originalName?: string;
}

/**
 * Calls one unary method of a running service over gRPC, with the request built from JSON by the
 * service's contract: the workspace's `.proto` files, compiled by `buf build` (their imports
 * resolved as the workspace's buf.yaml says) and loaded by `@grpc/proto-loader`.
 *
 * @throws CliFailure when the contract, the method or the address cannot be found, the JSON is
 *   invalid; CallFailure when the call fails (its status, reason, message and field violations).
 * @example
 * const r = await call({ target: 'tickets/GetTicket', json: '{"id":"…"}', cwd: '.', address: '127.0.0.1:50051', tenant: 'acme' });
 */
export async function call(options: CallOptions): Promise<CallResult> {
  const slash = options.target.lastIndexOf('/');
  if (slash <= 0 || slash === options.target.length - 1)
    throw new CliFailure(`"${options.target}" is not <service>/<method> (e.g. tickets/GetTicket)`, 2);
  const serviceArg = options.target.slice(0, slash);
  const methodArg = options.target.slice(slash + 1);
  let request: object;
  try {
    const parsed: unknown = JSON.parse(options.json);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    request = parsed;
  } catch (e: unknown) {
    throw new CliFailure(`the request is not a JSON object: ${(e as Error).message}`, 2);
  }

  const set = buildDescriptorSet({ cwd: options.cwd, ...(options.proto ? { proto: options.proto } : {}) });
  const definition = protoLoader.loadFileDescriptorSetFromBuffer(set, {
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const services = Object.entries(definition).filter(([, v]) => isService(v)) as [
    string,
    Record<string, MethodDef>,
  ][];
  const [serviceName, methods] = pickService(services, serviceArg);
  const method = pickMethod(serviceName, methods, methodArg);
  if (method.requestStream || method.responseStream)
    throw new CliFailure(`${method.path} streams: refront call calls unary methods only`, 2);

  const address = options.address ?? (await discover(serviceArg, serviceName, options.env ?? process.env));
  const credentials = options.tls
    ? grpc.credentials.createSsl(
        readFileSync(options.tls.ca),
        options.tls.key ? readFileSync(options.tls.key) : null,
        options.tls.cert ? readFileSync(options.tls.cert) : null,
      )
    : grpc.credentials.createInsecure();
  const client = new grpc.Client(
    address,
    credentials,
    options.tls?.serverName ? { 'grpc.ssl_target_name_override': options.tls.serverName } : {},
  );
  const metadata = new grpc.Metadata();
  metadata.set('x-refront-caller', options.caller ?? 'refront-cli');
  if (options.tenant) metadata.set('x-refront-tenant', options.tenant);
  for (const [k, v] of Object.entries(options.metadata ?? {})) metadata.set(k, v);
  try {
    const response = await new Promise<unknown>((resolve, reject) => {
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        metadata,
        { deadline: Date.now() + (options.timeoutMs ?? 10_000) },
        (error, value) => (error ? reject(error) : resolve(value)),
      );
    });
    return { path: method.path, address, response: plain(response) };
  } catch (e: unknown) {
    if (typeof (e as grpc.ServiceError).code !== 'number') throw e;
    const error = fromGrpcError(e);
    throw new CallFailure(error.status, error.reason, error.message, error.details.fieldViolations ?? []);
  } finally {
    client.close();
  }
}

function isService(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || 'format' in v) return false;
  const first = Object.values(v)[0] as { path?: unknown } | undefined;
  return typeof first?.path === 'string';
}

/** The Refront service name a gRPC service belongs to: `refront.billing_alerts.v1.X` → `billing-alerts`. */
function serviceOf(fullName: string): string {
  return (fullName.split('.')[1] ?? fullName).replaceAll('_', '-');
}

function pickService(
  services: readonly [string, Record<string, MethodDef>][],
  arg: string,
): [string, Record<string, MethodDef>] {
  const exact = services.find(([name]) => name === arg);
  if (exact) return exact;
  const flat = (s: string) => s.replaceAll('-', '');
  const matches = services.filter(
    ([name]) => serviceOf(name) === arg || flat(serviceOf(name)) === flat(arg) || name.endsWith(`.${arg}`),
  );
  if (matches.length === 1) return matches[0] as [string, Record<string, MethodDef>];
  const known = services.map(([n]) => n).join(', ');
  if (matches.length === 0)
    throw new CliFailure(`no contract of service "${arg}"; the contracts have: ${known}`, 2);
  throw new CliFailure(
    `"${arg}" has several gRPC services (${matches.map(([n]) => n).join(', ')}): name one in full`,
    2,
  );
}

function pickMethod(serviceName: string, methods: Record<string, MethodDef>, arg: string): MethodDef {
  const all = Object.entries(methods);
  const hit = all.find(
    ([name, m]) => name === arg || m.originalName === arg || name.toLowerCase() === arg.toLowerCase(),
  );
  if (!hit)
    throw new CliFailure(`${serviceName} has no method ${arg}; it has ${all.map(([n]) => n).join(', ')}`, 2);
  return hit[1];
}

/** `REFRONT_ENDPOINTS` (`tickets=127.0.0.1:50051;…`), else Consul's healthy gRPC instances. */
async function discover(
  arg: string,
  serviceName: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  const name = arg.includes('.') ? serviceOf(serviceName) : arg;
  for (const entry of (env.REFRONT_ENDPOINTS ?? '').split(';')) {
    const [service, list] = entry.split('=');
    const first = list?.split(',')[0]?.trim();
    if (service?.trim() === name && first) return first;
  }
  if (env.CONSUL_HTTP_ADDR) {
    const registry = createConsulRegistry({
      url: env.CONSUL_HTTP_ADDR,
      ...(env.CONSUL_HTTP_TOKEN ? { token: env.CONSUL_HTTP_TOKEN } : {}),
    });
    try {
      const instances = await registry.resolve(name);
      const first = instances[0];
      if (first) return `${first.address}:${first.port}`;
    } finally {
      await registry.close();
    }
    throw new CliFailure(`Consul at ${env.CONSUL_HTTP_ADDR} has no healthy instance of ${name}`);
  }
  throw new CliFailure(
    `no address for ${name}: pass --address host:port, or set REFRONT_ENDPOINTS or CONSUL_HTTP_ADDR`,
    2,
  );
}

/** The response as JSON-able data (bytes as base64). */
function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) =>
      v &&
      typeof v === 'object' &&
      (v as { type?: unknown }).type === 'Buffer' &&
      Array.isArray((v as { data?: unknown }).data)
        ? Buffer.from((v as { data: number[] }).data).toString('base64')
        : v,
    ),
  );
}
