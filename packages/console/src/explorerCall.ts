import { randomBytes } from 'node:crypto';
import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import {
  type Channel,
  type Client,
  createClient,
  createRequestContext,
  type Logger,
  runWithContext,
  type ServiceDefinition,
  startSpan,
  toRefrontError,
} from '@refront/core';
import { METADATA_ROLES, METADATA_TENANT, type RefrontErrorJson } from '@refront/core/transport';
import type { ContractCatalog } from '@refront/validate';
import { ConsoleErrors } from './consoleErrors.js';
import type { ConsoleGateway } from './contracts.js';

/** Who an explorer call acts as. */
export interface ExplorerIdentity {
  readonly tenant: string;
  readonly user: string;
  readonly roles: readonly string[];
}

/** The outcome of a call the explorer made: the response, or the typed error; and its trace. */
export interface ExplorerOutcome {
  readonly ok: boolean;
  /** The trace the call started (the Traces view shows it once its spans arrive). */
  readonly traceId: string;
  readonly durationMs: number;
  /** The HTTP status (a route's own; a method's error's mapped one, 200 when it answered). */
  readonly httpStatus: number;
  readonly response?: unknown;
  readonly error?: RefrontErrorJson;
}

/** Time an explorer call is given. */
const TIMEOUT_MS = 10_000;

/**
 * Calls `target` (`<service>/<method>`) with the JSON body through `channel`, as the console
 * (`caller: console`) acting for the identity's tenant and roles, inside a request context of its
 * own so the call starts a trace the console can link to.
 *
 * @throws RefrontError NOT_FOUND `VALIDATE_CONTRACT_NOT_FOUND`, INVALID_ARGUMENT
 *   `VALIDATE_INVALID_JSON` before anything is sent; a failed call is an outcome, not a throw.
 */
export async function callMethod(
  catalog: ContractCatalog,
  channel: Channel,
  clients: Map<string, Client<ServiceDefinition>>,
  call: {
    readonly target: string;
    readonly body: string;
    readonly who: ExplorerIdentity;
    readonly logger: Logger;
  },
): Promise<ExplorerOutcome> {
  const { service, method } = catalog.find(call.target);
  if (method.streaming)
    throw ConsoleErrors.BAD_REQUEST(`${method.path} streams: the explorer calls unary methods`);
  const request = catalog.requestFromJson(method, call.body);
  let client = clients.get(service.fullName);
  if (!client) {
    client = createClient(service.definition, channel, { caller: 'console', timeoutMs: TIMEOUT_MS });
    clients.set(service.fullName, client);
  }
  const send = client[method.key];
  if (!send) throw ConsoleErrors.BAD_REQUEST(`${method.path} is not callable`);
  const metadata: Record<string, string> = { [METADATA_TENANT]: call.who.tenant };
  if (call.who.roles.length > 0) metadata[METADATA_ROLES] = call.who.roles.join(' ');
  // The call's own root span, in the console's service: its trace is sampled even in a process
  // without a tracing SDK (a console of its own), so the services it reaches record theirs.
  const span = startSpan(`console ${method.path}`, {
    kind: SpanKind.INTERNAL,
    attributes: { 'refront.service': 'console', 'refront.tenant': call.who.tenant },
  });
  const ctx = createRequestContext({
    service: 'console',
    logger: call.logger,
    tenant: call.who.tenant,
    deadline: Date.now() + TIMEOUT_MS,
    parent: { ...span.spanContext(), traceFlags: TraceFlags.SAMPLED },
  });
  const started = performance.now();
  try {
    const response = await runWithContext(ctx, () => send(request, { metadata }));
    span.end();
    return {
      ok: true,
      traceId: ctx.traceId,
      durationMs: performance.now() - started,
      httpStatus: 200,
      response: catalog.messageType(method.responseType).toJSON(response as never),
    };
  } catch (e: unknown) {
    const error = toRefrontError(e);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    span.end();
    return {
      ok: false,
      traceId: ctx.traceId,
      durationMs: performance.now() - started,
      httpStatus: error.httpStatus,
      error: error.toJSON(),
    };
  }
}

/**
 * Calls a gateway route with the JSON body, as `who` (a token from the gateway's `token`), with a
 * fresh sampled `traceparent`: the gateway's HTTP span is the root of the trace the call starts.
 * The body is sent as given, so the gateway answers a malformed one with its own typed error.
 */
export async function callRoute(
  gateway: ConsoleGateway,
  call: {
    readonly method: string;
    readonly path: string;
    readonly body: string;
    readonly who: ExplorerIdentity;
  },
): Promise<ExplorerOutcome> {
  const base = typeof gateway.url === 'function' ? gateway.url() : gateway.url;
  if (!base) throw ConsoleErrors.BAD_REQUEST('the gateway is not listening');
  if (!call.path.startsWith('/')) throw ConsoleErrors.BAD_REQUEST(`path ${call.path} does not start with /`);
  const traceId = randomBytes(16).toString('hex');
  const headers: Record<string, string> = {
    traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
  };
  if (gateway.token) headers.authorization = `Bearer ${await tokenOf(gateway.token, call.who)}`;
  const hasBody = call.method !== 'GET' && call.method !== 'DELETE' && call.body.trim() !== '';
  if (hasBody) headers['content-type'] = 'application/json';
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(new URL(call.path, base), {
      method: call.method,
      headers,
      ...(hasBody ? { body: call.body } : {}),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e: unknown) {
    throw ConsoleErrors.GATEWAY_UNAVAILABLE.with({ cause: e }, e instanceof Error ? e.message : String(e));
  }
  const text = await res.text();
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: shown as text.
  }
  const error = (json as { error?: RefrontErrorJson } | undefined)?.error;
  return {
    ok: res.ok,
    traceId,
    durationMs: performance.now() - started,
    httpStatus: res.status,
    ...(res.ok || !error ? { response: json } : { error }),
  };
}

async function tokenOf(token: NonNullable<ConsoleGateway['token']>, who: ExplorerIdentity): Promise<string> {
  try {
    return await token(who);
  } catch (e: unknown) {
    throw ConsoleErrors.GATEWAY_UNAVAILABLE.with(
      { cause: e },
      `no token for ${who.user} of ${who.tenant}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
