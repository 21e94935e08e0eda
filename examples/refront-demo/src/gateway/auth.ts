import { createSecretKey, randomBytes } from 'node:crypto';
import { RefrontError } from '@refront/core';
import { invalidOption } from '@refront/core/transport';
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import { GatewayReason } from './errors.js';
import { effectiveRoles, type Role } from './roles.js';
import { secretProblems } from './secretStrength.js';
import { createVerifiedTokens, DEFAULT_VERIFIED_TOKEN_CACHE_SIZE } from './verifiedTokens.js';

/** How the gateway checks bearer tokens. Set `hs256Secret` or `jwksUrl` (not both), or `devTokens`. */
export interface GatewayAuthOptions {
  /** Shared secret of HS256 tokens, at least 32 characters (256 bits). */
  readonly hs256Secret?: string | undefined;
  /** URL of a JSON Web Key Set; tokens must be signed with one of its asymmetric keys. */
  readonly jwksUrl?: string | undefined;
  /** Required `iss` claim, when set. @default not checked */
  readonly issuer?: string | undefined;
  /** Required `aud` claim (one of the token's audiences), when set. @default not checked */
  readonly audience?: string | undefined;
  /**
   * Serve `POST /v1/dev/tokens`, which signs a token for any tenant and user. For demos and local
   * development only. Tokens are HS256 with `hs256Secret`, or with a random per-process secret
   * when none is set. Cannot be combined with `jwksUrl`. @default false
   */
  readonly devTokens?: boolean | undefined;
  /** Lifetime of dev tokens, in seconds. @default DEFAULT_DEV_TOKEN_TTL_SEC (1 hour) */
  readonly devTokenTtlSec?: number | undefined;
  /**
   * Tokens kept verified (decision 0142): a token seen again within its lifetime and
   * VERIFIED_TOKEN_MAX_AGE_SEC is not verified again; 0 verifies every request.
   * @default DEFAULT_VERIFIED_TOKEN_CACHE_SIZE
   */
  readonly verifiedTokenCacheSize?: number | undefined;
}

/** Who a request acts for, taken from a verified token and from nothing else. */
export interface Principal {
  /** The `sub` claim: the user. */
  readonly user: string;
  /** The `tenant` claim: the tenant every downstream call is scoped to. */
  readonly tenant: string;
  /**
   * The user's roles in the tenant, from the `roles` claim (an array of strings, as RFC 9068
   * §2.2.3.1 and Entra ID carry them): the known ones, always with `member` (decision 0069).
   */
  readonly roles: readonly Role[];
}

/** What a dev token is signed for. */
export interface DevTokenRequest {
  readonly tenant: string;
  readonly user: string;
  /** Put in the `roles` claim. @default [] (a member) */
  readonly roles?: readonly Role[];
}

/** A dev token and when it expires. */
export interface DevToken {
  readonly token: string;
  /** ISO 8601. */
  readonly expiresAt: string;
}

/** Verifies bearer tokens; signs dev tokens when they are on. */
export interface Authenticator {
  /**
   * Verifies an `Authorization` header value.
   * @throws RefrontError UNAUTHENTICATED (GATEWAY_TOKEN_MISSING, _INVALID, _EXPIRED, _CLAIMS: no
   *   usable `sub` or `tenant`, or a `roles` claim that is not an array of strings), or
   *   UNAVAILABLE (GATEWAY_JWKS_UNAVAILABLE) when the key set cannot be read.
   */
  authenticate(authorization: string | undefined): Promise<Principal>;
  /** Signs a dev token; undefined when dev tokens are off. */
  readonly issueDevToken: ((request: DevTokenRequest) => Promise<DevToken>) | undefined;
}

/** Lifetime of dev tokens, in seconds. */
export const DEFAULT_DEV_TOKEN_TTL_SEC = 3_600;
/** Allowed clock skew between the token issuer and the gateway, in seconds. */
export const CLOCK_TOLERANCE_SEC = 5;
/** What a tenant id may look like: it travels in metadata headers and ends up in every record. */
export const TENANT_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$';
/** Most entries a `roles` claim may have (an identity provider's own roles come along). */
const MAX_ROLES = 64;
/** Longest `Authorization` header accepted, in characters. */
const MAX_AUTHORIZATION_LENGTH = 8_192;
/** Asymmetric algorithms accepted from a JWKS (never HS*: that would allow key confusion). */
const JWKS_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];
/** jose codes that say the key set, not the token, is at fault. */
const JWKS_FAULTS = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID', 'ERR_JOSE_GENERIC']);

const tenantRegExp = new RegExp(TENANT_PATTERN);

function unauthenticated(reason: string, message: string): RefrontError {
  return new RefrontError('UNAUTHENTICATED', reason, message, { retryable: false });
}

/** Turns a jose failure into the gateway's typed error. */
function verifyFailure(e: unknown, remote: boolean): RefrontError {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  if (code === 'ERR_JWT_EXPIRED') return unauthenticated(GatewayReason.TOKEN_EXPIRED, 'the token expired');
  if (remote && (typeof code !== 'string' || JWKS_FAULTS.has(code))) {
    return new RefrontError(
      'UNAVAILABLE',
      GatewayReason.JWKS_UNAVAILABLE,
      'the token keys cannot be read now',
      {
        cause: e,
      },
    );
  }
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    const claim = (e as { claim?: unknown }).claim;
    return unauthenticated(GatewayReason.TOKEN_INVALID, `the token's ${String(claim)} claim is not accepted`);
  }
  return unauthenticated(GatewayReason.TOKEN_INVALID, 'the token does not verify');
}

/** The `roles` claim's names: absent is none; anything but an array of short strings is refused. */
function roleNames(roles: unknown): string[] {
  if (roles === undefined) return [];
  if (
    !Array.isArray(roles) ||
    roles.length > MAX_ROLES ||
    !roles.every((r) => typeof r === 'string' && r.length <= 256)
  ) {
    throw unauthenticated(
      GatewayReason.TOKEN_CLAIMS,
      "the token's roles claim is not an array of role names",
    );
  }
  return roles;
}

function principalOf(payload: JWTPayload): Principal {
  const { sub, tenant, roles } = payload;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 256) {
    throw unauthenticated(GatewayReason.TOKEN_CLAIMS, 'the token has no usable sub claim');
  }
  if (typeof tenant !== 'string' || !tenantRegExp.test(tenant)) {
    throw unauthenticated(GatewayReason.TOKEN_CLAIMS, 'the token has no usable tenant claim');
  }
  return { user: sub, tenant, roles: effectiveRoles(roleNames(roles)) };
}

function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization === '') {
    throw unauthenticated(GatewayReason.TOKEN_MISSING, 'a bearer token is required');
  }
  const match = /^Bearer +([A-Za-z0-9\-_.~+/]+=*) *$/i.exec(authorization);
  if (!match || authorization.length > MAX_AUTHORIZATION_LENGTH) {
    throw unauthenticated(GatewayReason.TOKEN_INVALID, 'the Authorization header is not a bearer token');
  }
  return match[1]!;
}

function checkOptions(options: GatewayAuthOptions): void {
  const { hs256Secret, jwksUrl, devTokens, devTokenTtlSec } = options;
  if (hs256Secret !== undefined && jwksUrl !== undefined) {
    throw invalidOption('auth: set either hs256Secret or jwksUrl, not both');
  }
  if (hs256Secret === undefined && jwksUrl === undefined && !devTokens) {
    throw invalidOption('auth: set hs256Secret, jwksUrl or devTokens, or no token could ever verify');
  }
  if (hs256Secret !== undefined && hs256Secret.length < 32) {
    throw invalidOption('auth: hs256Secret must have at least 32 characters');
  }
  if (jwksUrl !== undefined && !URL.canParse(jwksUrl)) throw invalidOption('auth: jwksUrl is not a URL');
  if (jwksUrl !== undefined && devTokens) {
    throw invalidOption('auth: devTokens cannot be combined with jwksUrl (dev tokens are HS256)');
  }
  if (devTokenTtlSec !== undefined && !(Number.isInteger(devTokenTtlSec) && devTokenTtlSec > 0)) {
    throw invalidOption(`auth: devTokenTtlSec must be a positive integer, got ${devTokenTtlSec}`);
  }
  const size = options.verifiedTokenCacheSize;
  if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) {
    throw invalidOption(`auth: verifiedTokenCacheSize must be an integer ≥ 0, got ${size}`);
  }
}

/**
 * What makes auth options unfit for production, one sentence each (decision 0067). The gateway's
 * config refuses them with `NODE_ENV=production`; {@link createAuthenticator}'s callers log them
 * as warnings anywhere else.
 *
 * @example
 * for (const w of authWeaknesses({ devTokens: true })) logger.warn(w);
 */
export function authWeaknesses(options: GatewayAuthOptions): string[] {
  const weaknesses: string[] = [];
  if (options.devTokens)
    weaknesses.push('dev tokens are on: POST /v1/dev/tokens signs a token for any tenant');
  if (options.hs256Secret !== undefined) {
    for (const p of secretProblems(options.hs256Secret)) weaknesses.push(`the HS256 secret ${p}`);
  }
  if (options.issuer === undefined) weaknesses.push('the iss claim of tokens is not checked');
  if (options.audience === undefined) weaknesses.push('the aud claim of tokens is not checked');
  return weaknesses;
}

/**
 * Creates the bearer-token checker: HS256 with a shared secret, or asymmetric keys from a JWKS
 * URL (fetched lazily, cached, refetched when an unknown `kid` shows up). Tokens must carry
 * `exp`, `sub` and `tenant`, and may carry `roles` (an array of strings; decision 0069); `iss`
 * and `aud` are checked when configured. A token that verified is answered from a bounded cache
 * until it expires, for at most VERIFIED_TOKEN_MAX_AGE_SEC (decision 0142).
 *
 * @throws RefrontError INVALID_ARGUMENT (CORE_INVALID_OPTION) for an unusable combination.
 * @example
 * const auth = createAuthenticator({ jwksUrl: 'https://id.example.com/.well-known/jwks.json', issuer: 'https://id.example.com/' });
 * const { tenant, user } = await auth.authenticate(request.headers.authorization);
 */
export function createAuthenticator(options: GatewayAuthOptions): Authenticator {
  checkOptions(options);
  const claims = {
    clockTolerance: CLOCK_TOLERANCE_SEC,
    requiredClaims: ['exp', 'sub'],
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    ...(options.audience !== undefined ? { audience: options.audience } : {}),
  };
  const remote = options.jwksUrl !== undefined;
  let verify: (token: string) => Promise<JWTPayload>;
  let secret: Uint8Array | undefined;
  if (options.jwksUrl !== undefined) {
    const keys: JWTVerifyGetKey = createRemoteJWKSet(new URL(options.jwksUrl));
    verify = async (token) =>
      (await jwtVerify(token, keys, { ...claims, algorithms: JWKS_ALGORITHMS })).payload;
  } else {
    const raw =
      options.hs256Secret !== undefined ? new TextEncoder().encode(options.hs256Secret) : randomBytes(32);
    secret = raw;
    // A KeyObject: jose imports it into WebCrypto once and keeps it, where raw bytes are imported
    // again on every verification.
    const key = createSecretKey(raw);
    verify = async (token) => (await jwtVerify(token, key, { ...claims, algorithms: ['HS256'] })).payload;
  }
  const verified = createVerifiedTokens(
    options.verifiedTokenCacheSize ?? DEFAULT_VERIFIED_TOKEN_CACHE_SIZE,
    CLOCK_TOLERANCE_SEC,
  );
  const ttlSec = options.devTokenTtlSec ?? DEFAULT_DEV_TOKEN_TTL_SEC;
  const devKey = options.devTokens ? secret : undefined;
  return {
    async authenticate(authorization) {
      const token = bearerToken(authorization);
      const nowSec = Math.floor(Date.now() / 1000);
      const known = verified.get(token, nowSec);
      if (known !== undefined) return known;
      let payload: JWTPayload;
      try {
        payload = await verify(token);
      } catch (e: unknown) {
        throw verifyFailure(e, remote);
      }
      const principal = principalOf(payload);
      // exp is a required claim: jwtVerify has checked that it is a number.
      verified.set(token, principal, payload.exp as number, nowSec);
      return principal;
    },
    issueDevToken: devKey
      ? async ({ tenant, user, roles }) => {
          const exp = Math.floor(Date.now() / 1000) + ttlSec;
          let jwt = new SignJWT({ tenant, ...(roles && roles.length > 0 ? { roles: [...roles] } : {}) })
            .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
            .setSubject(user)
            .setIssuedAt()
            .setExpirationTime(exp);
          if (options.issuer !== undefined) jwt = jwt.setIssuer(options.issuer);
          if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
          return { token: await jwt.sign(devKey), expiresAt: new Date(exp * 1000).toISOString() };
        }
      : undefined,
  };
}
