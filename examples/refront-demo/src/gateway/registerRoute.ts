import {
  createRequestContext,
  isRefrontError,
  type Logger,
  METADATA_IDEMPOTENCY_KEY,
  RefrontError,
  runWithContext,
  withActiveSpan,
} from '@refront/core';
import { METADATA_ROLES } from '@refront/core/transport';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator, Principal } from './auth.js';
import type { AuthFailureLimiter } from './authFailureLimit.js';
import { GatewayReason } from './errors.js';
import { IDEMPOTENCY_KEY_HEADER_SCHEMA, isKeyedMethod, requestIdempotencyKey } from './idempotencyKey.js';
import { stateOf } from './observability.js';
import { hasRole, type Role } from './roles.js';
import type { GatewayClients, Route } from './route.js';
import { ref } from './schemas.js';
import { compileRequestValidator } from './validation.js';

/** What {@link registerRoute} needs besides the route. */
export interface RouteDeps {
  readonly auth: Authenticator;
  /** Counts failed authentications per client address; refuses past the limit before verifying. */
  readonly authFailures: AuthFailureLimiter;
  readonly clients: GatewayClients;
  readonly logger: Logger;
  readonly requestTimeoutMs: number;
}

function requireState(request: FastifyRequest) {
  const state = stateOf(request);
  if (!state) throw new RefrontError('INTERNAL', GatewayReason.INTERNAL, 'request state missing');
  return state;
}

/** 403 unless `principal` holds `role` (decision 0069). */
function authorize(principal: Principal, role: Role): void {
  if (hasRole(principal.roles, role)) return;
  throw new RefrontError(
    'PERMISSION_DENIED',
    GatewayReason.FORBIDDEN,
    `this operation requires the ${role} role`,
    {
      retryable: false,
    },
  );
}

/** The OpenAPI facts of a route's required role: a sentence, `x-required-role` and the 403. */
function roleDocs(route: Route, role: Role): { description?: string; 'x-required-role'?: Role } {
  if (role === 'member') return {};
  return {
    description: `${route.summary}. Requires the \`${role}\` role (the token's \`roles\` claim); others get 403 GATEWAY_FORBIDDEN.`,
    'x-required-role': role,
  };
}

/** The metadata that carries the user's roles to the service called (none without a token). */
function rolesMetadata(principal: Principal | undefined): Record<string, string> {
  return principal ? { [METADATA_ROLES]: principal.roles.join(' ') } : {};
}

/** Aborts when the HTTP client disconnects before the answer was written. */
function disconnectSignal(reply: FastifyReply): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const onClose = (): void => {
    if (!reply.raw.writableFinished) {
      controller.abort(new RefrontError('CANCELLED', 'CORE_CANCELLED', 'the HTTP client went away'));
    }
  };
  reply.raw.once('close', onClose);
  return { signal: controller.signal, release: () => reply.raw.off('close', onClose) };
}

/**
 * Registers one route: OpenAPI facts and schemas, the bearer-token and role checks (onRequest,
 * before the rate limit), validation of every part at once (preValidation), and the handler run inside a
 * request context (tenant from the token, caller `gateway`, the request deadline, the SERVER
 * span as parent, the idempotency key of a POST, PUT, PATCH or DELETE; the user's roles in the
 * calls' metadata) so every service call carries them: a request retried with the same `Idempotency-Key` header makes the same service
 * calls with the same keys, and gets the answers they stored.
 */
export function registerRoute(scope: FastifyInstance, route: Route, deps: RouteDeps): void {
  const needsAuth = route.auth ?? true;
  const role = route.role ?? 'member';
  if (!needsAuth && role !== 'member') {
    throw new RefrontError(
      'INTERNAL',
      GatewayReason.INTERNAL,
      `route ${route.url} requires a role but no token`,
    );
  }
  const status = route.status ?? 200;
  const validator = compileRequestValidator(
    {
      ...(route.params ? { params: route.params } : {}),
      ...(route.querystring ? { querystring: route.querystring } : {}),
      ...(route.body ? { body: route.body } : {}),
    },
    { bodyOptional: route.bodyOptional ?? false },
  );
  scope.route({
    method: route.method,
    url: route.url,
    schema: {
      operationId: route.operationId,
      summary: route.summary,
      ...roleDocs(route, role),
      tags: [route.tag],
      ...(needsAuth ? { security: [{ bearerAuth: [] }] } : { security: [] }),
      ...(route.params ? { params: route.params } : {}),
      ...(route.querystring ? { querystring: route.querystring } : {}),
      ...(route.body ? { body: route.body } : {}),
      // Documentation only: the gateway's own validator reads the header (requestIdempotencyKey).
      ...(isKeyedMethod(route.method) ? { headers: IDEMPOTENCY_KEY_HEADER_SCHEMA } : {}),
      response: {
        [status]: route.response,
        ...(role === 'member' ? {} : { 403: ref('Error') }),
        '4xx': ref('Error'),
        '5xx': ref('Error'),
      },
    },
    ...(needsAuth
      ? {
          onRequest: async (request: FastifyRequest) => {
            await deps.authFailures.check(request);
            let principal: Principal;
            try {
              principal = await deps.auth.authenticate(request.headers.authorization);
            } catch (e: unknown) {
              // A missing or bad token counts; a key set that cannot be read is not the client's fault.
              if (isRefrontError(e) && e.status === 'UNAUTHENTICATED')
                await deps.authFailures.record(request);
              throw e;
            }
            requireState(request).principal = principal;
            authorize(principal, role);
          },
        }
      : {}),
    preValidation: async (request) => validator.validate(request),
    handler: async (request, reply) => {
      const state = requireState(request);
      const key = requestIdempotencyKey(
        request.method,
        request.headers['idempotency-key'],
        state.principal?.user,
      );
      const disconnect = disconnectSignal(reply);
      const ctx = createRequestContext({
        service: 'gateway',
        logger: deps.logger,
        deadline: Date.now() + deps.requestTimeoutMs,
        caller: 'gateway',
        tenant: state.principal?.tenant,
        parent: state.parent,
        cancel: disconnect.signal,
        ...(key === undefined ? {} : { metadata: { [METADATA_IDEMPOTENCY_KEY]: key } }),
      });
      ctx.span = state.span;
      try {
        const input = {
          body: request.body,
          query: request.query,
          params: request.params,
          principal: state.principal,
          call: { signal: ctx.signal, metadata: rolesMetadata(state.principal) },
        };
        const result = await withActiveSpan(state.span, () =>
          runWithContext(ctx, () => route.handler(input, deps.clients)),
        );
        if (route.location) reply.header('location', `/v1${route.location(result)}`);
        return reply.code(status).send(result);
      } finally {
        ctx.end();
        disconnect.release();
      }
    },
  });
}
