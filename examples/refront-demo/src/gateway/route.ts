import type { Client } from '@refront/core';
import type { AiServiceDefinition } from '../gen/refront/ai/v1/ai.js';
import type { InvoicingServiceDefinition } from '../gen/refront/invoicing/v1/invoicing.js';
import type { NotificationsServiceDefinition } from '../gen/refront/notifications/v1/notifications.js';
import type { ReportingServiceDefinition } from '../gen/refront/reporting/v1/reporting.js';
import type { TicketsServiceDefinition } from '../gen/refront/tickets/v1/tickets.js';
import type { TimeTrackingServiceDefinition } from '../gen/refront/timetracking/v1/timetracking.js';
import type { Principal } from './auth.js';
import type { Role } from './roles.js';
import type { JsonSchema } from './schemas.js';

/** The typed clients of the services behind the gateway. */
export interface GatewayClients {
  readonly tickets: Client<TicketsServiceDefinition>;
  readonly timeTracking: Client<TimeTrackingServiceDefinition>;
  readonly invoicing: Client<InvoicingServiceDefinition>;
  readonly ai: Client<AiServiceDefinition>;
  readonly notifications: Client<NotificationsServiceDefinition>;
  readonly reporting: Client<ReportingServiceDefinition>;
}

/** What a route handler gets: the validated request parts and who asks. */
export interface RouteInput<Body, Query, Params> {
  readonly body: Body;
  readonly query: Query;
  readonly params: Params;
  /** The verified principal; undefined only on routes with `auth: false`. */
  readonly principal: Principal | undefined;
  /**
   * Pass to every service call: aborts when the HTTP client goes away, and carries the user's
   * roles (`x-refront-roles`) so the service can check them too.
   */
  readonly call: { readonly signal: AbortSignal; readonly metadata: Readonly<Record<string, string>> };
}

/** One public endpoint: its contract (schemas, OpenAPI facts) and its handler. */
export interface RouteDefinition<Body = unknown, Query = unknown, Params = unknown, Result = unknown> {
  readonly method: 'GET' | 'POST' | 'PATCH';
  /** Path below `/v1`, Fastify syntax (`/tickets/:id`). */
  readonly url: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: 'customers' | 'tickets' | 'time' | 'billing' | 'ai' | 'notifications' | 'reports' | 'dev';
  /** Require a bearer token. @default true */
  readonly auth?: boolean;
  /**
   * Role the token's user must hold, checked before any service call (403 GATEWAY_FORBIDDEN
   * otherwise) and published as the operation's `x-required-role`. Only with `auth`.
   * @default 'member' (any user of the tenant)
   */
  readonly role?: Role;
  /** Status of a successful answer. @default 200 */
  readonly status?: 200 | 201;
  readonly params?: JsonSchema;
  readonly querystring?: JsonSchema;
  readonly body?: JsonSchema;
  /** Accept a request without a body as `{}`. @default false */
  readonly bodyOptional?: boolean;
  /** Schema of the successful answer. */
  readonly response: JsonSchema;
  /** `Location` of a created resource, below `/v1`. */
  readonly location?: (result: Result) => string;
  /** Serves the request inside its request context (tenant, deadline, span). */
  handler(input: RouteInput<Body, Query, Params>, clients: GatewayClients): Promise<Result>;
}

/** A route with its types erased, as the registry holds it. */
export type Route = RouteDefinition<unknown, unknown, unknown, unknown>;

/**
 * Declares a route with typed request parts. The types are the schemas' shapes: every request
 * is validated against the schemas before the handler runs, which is what makes them true.
 *
 * @example
 * defineRoute<undefined, undefined, { id: string }>({ method: 'GET', url: '/tickets/:id', … });
 */
export function defineRoute<Body = undefined, Query = undefined, Params = undefined, Result = unknown>(
  route: RouteDefinition<Body, Query, Params, Result>,
): Route {
  return route as unknown as Route;
}
