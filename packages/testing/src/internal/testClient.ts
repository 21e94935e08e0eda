import {
  type CallOptions,
  type Channel,
  type Client,
  createClient,
  createRequestContext,
  type Logger,
  type MetricsRegistry,
  runWithContext,
  type ServiceDefinition,
} from '@refront/core';
import { METADATA_ROLES } from '@refront/core/transport';

/** Who a test client calls as. */
export interface TestClientOptions {
  /** The tenant every call is made for (sent as the caller's tenant, as the gateway does). @default none */
  readonly tenant?: string;
  /** Roles of the user the calls are made for (sent as `x-refront-roles`, as the gateway does). @default none (a member) */
  readonly roles?: readonly string[];
  /** The caller's service name, as the server's caller rules see it. @default 'test' */
  readonly caller?: string;
}

/** A typed client on `channel` whose calls carry `options`' tenant, roles and caller. */
export function testClient<S extends ServiceDefinition>(
  definition: S,
  channel: Channel,
  logger: Logger,
  metrics: MetricsRegistry,
  options: TestClientOptions,
): Client<S> {
  const caller = options.caller ?? 'test';
  const inner = createClient(definition, channel, { caller, metrics }) as Record<string, unknown>;
  const roles = options.roles ?? [];
  const metadata: Record<string, string> = roles.length > 0 ? { [METADATA_ROLES]: roles.join(' ') } : {};
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(inner)) {
    wrapped[name] = (request: unknown, opts?: CallOptions) =>
      runWithContext(createRequestContext({ service: caller, logger, tenant: options.tenant }), () =>
        (fn as (r: unknown, o?: CallOptions) => Promise<unknown>)(request, {
          ...opts,
          metadata: { ...metadata, ...opts?.metadata },
        }),
      );
  }
  return wrapped as Client<S>;
}
