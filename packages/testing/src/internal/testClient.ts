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

/**
 * The caller name of a test's own clients: every module a test app runs accepts it for every
 * method, beside the callers the module declares.
 */
export const TEST_CALLER = 'test';

/** Who a test client calls as. */
export interface TestClientOptions {
  /** The tenant every call is made for (sent as the caller's tenant, as the gateway does). @default none */
  readonly tenant?: string;
  /** Roles of the user the calls are made for (sent as `x-refront-roles`, as the gateway does). @default none (a member) */
  readonly roles?: readonly string[];
  /**
   * The service the calls come from, as the server's declared `callers` see it: the module under
   * test refuses a caller it does not declare (PERMISSION_DENIED `CORE_CALLER_NOT_ALLOWED`).
   * @default TEST_CALLER ('test'), which every module accepts
   */
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
  const caller = options.caller ?? TEST_CALLER;
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
