import type { Authenticator, DevToken } from '../auth.js';
import type { Role } from '../roles.js';
import { defineRoute, type Route } from '../route.js';
import { BODIES } from '../schemas.js';

/**
 * `POST /v1/dev/tokens`: signs a token for any tenant, user and roles (`roles: ["admin"]` for an
 * admin; none for a member). Registered only when dev auth
 * is on; otherwise the path is an unknown route (404).
 */
export function devRoutes(issue: NonNullable<Authenticator['issueDevToken']>): readonly Route[] {
  return [
    defineRoute<{ tenant: string; user: string; roles?: Role[] }, undefined, undefined, DevToken>({
      method: 'POST',
      url: '/dev/tokens',
      operationId: 'createDevToken',
      summary: 'Development only: sign a bearer token for a tenant, a user and their roles',
      tag: 'dev',
      auth: false,
      status: 201,
      body: BODIES.devToken,
      response: {
        type: 'object',
        properties: {
          token: { type: 'string', description: 'Send as Authorization: Bearer <token>.' },
          expiresAt: { type: 'string', format: 'date-time' },
        },
        required: ['token', 'expiresAt'],
      },
      handler: ({ body }) =>
        issue({ tenant: body.tenant, user: body.user, ...(body.roles ? { roles: body.roles } : {}) }),
    }),
  ];
}
