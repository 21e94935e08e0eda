import { createClient, isRefrontError } from '@refront/core';
import { METADATA_TENANT } from '@refront/core/transport';
import { createConsulRegistry } from '@refront/discovery';
import { createGrpcChannel } from '@refront/transport-grpc';
import { createContractCatalog } from '@refront/validate';
import { buildDescriptorSet } from './descriptorSet.js';
import { CliErrors } from './errors.js';

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
 * Calls one unary method of a running service over gRPC, with the request built from JSON by the
 * service's contract: the workspace's `.proto` files, compiled by `buf build` (their imports
 * resolved as the workspace's buf.yaml says) and read by `@refront/validate`'s contract catalog,
 * whose client definitions go through transport-grpc's channel as any Refront client's do (the
 * console's API explorer calls through the same catalog). The response is printed in protobuf's
 * JSON mapping (64-bit integers as strings, timestamps in RFC 3339, bytes in base64).
 *
 * @throws RefrontError `CLI_USAGE` when the contract, the method or the address cannot be found or
 *   the JSON is invalid; the service's own `RefrontError` (status, reason, field violations) when
 *   the call fails.
 * @example
 * const r = await call({ target: 'tickets/GetTicket', json: '{"id":"…"}', cwd: '.', address: '127.0.0.1:50051', tenant: 'acme' });
 */
export async function call(options: CallOptions): Promise<CallResult> {
  const set = buildDescriptorSet({ cwd: options.cwd, ...(options.proto ? { proto: options.proto } : {}) });
  const catalog = createContractCatalog({ descriptors: [set] });
  const { service, method } = usage(() => catalog.find(options.target));
  if (method.streaming)
    throw CliErrors.USAGE(`${method.path} streams: refront call calls unary methods only`);
  const request = usage(() => catalog.requestFromJson(method, options.json));
  const serviceArg = options.target.slice(0, options.target.lastIndexOf('/'));
  const address = options.address ?? (await discover(serviceArg, service.owner, options.env ?? process.env));
  const channel = createGrpcChannel({
    target: address,
    ...(options.tls
      ? {
          tls: {
            caFile: options.tls.ca,
            ...(options.tls.cert ? { certFile: options.tls.cert } : {}),
            ...(options.tls.key ? { keyFile: options.tls.key } : {}),
            ...(options.tls.serverName ? { serverName: options.tls.serverName } : {}),
          },
        }
      : {}),
  });
  const client = createClient(service.definition, channel, {
    caller: options.caller ?? 'refront-cli',
    timeoutMs: options.timeoutMs ?? 10_000,
  });
  const metadata: Record<string, string> = { ...(options.metadata ?? {}) };
  if (options.tenant) metadata[METADATA_TENANT] = options.tenant;
  try {
    const send = client[method.key];
    if (!send) throw CliErrors.USAGE(`${method.path} is not callable`);
    const response = await send(request, { metadata });
    return {
      path: method.path,
      address,
      response: catalog.messageType(method.responseType).toJSON(response as never),
    };
  } finally {
    await channel.close();
  }
}

/** A contract error (no such service or method, a body that does not fit) as a usage error, exit 2. */
function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e: unknown) {
    if (isRefrontError(e)) throw CliErrors.USAGE(e.message);
    throw e;
  }
}

/** `REFRONT_ENDPOINTS` (`tickets=127.0.0.1:50051;…`), else Consul's healthy gRPC instances. */
async function discover(
  arg: string,
  owner: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  const name = arg.includes('.') ? owner : arg;
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
    throw CliErrors.UNREACHABLE(`Consul at ${env.CONSUL_HTTP_ADDR} has no healthy instance of ${name}`);
  }
  throw CliErrors.USAGE(
    `no address for ${name}: pass --address host:port, or set REFRONT_ENDPOINTS or CONSUL_HTTP_ADDR`,
  );
}
