/**
 * Authentication of calls, the same on every request lane (gRPC, mux): a bearer token verified
 * by the server, and the mTLS peer identity. Transports pass the peer certificate; the rest is here.
 */
import type { PeerCertificate } from 'node:tls';
import { type CallerRules, callerPolicy } from './callerPolicy.js';
import { CoreErrors } from './coreErrors.js';
import { isRefrontError } from './errors.js';
import type { Call, Interceptor, MethodInfo, Next } from './Interceptor.js';
import { METADATA_CALLER } from './metadataKeys.js';

/** Metadata key of the verified token's principal id, as the handler sees it. */
export const METADATA_PRINCIPAL = 'x-refront-principal';
/** Metadata key of the mTLS peer identity, as the handler sees it. */
export const METADATA_PEER_IDENTITY = 'x-refront-peer-identity';
/** Prefix of the metadata keys carrying the verified token's claims (`x-refront-claim-role`). */
export const METADATA_CLAIM_PREFIX = 'x-refront-claim-';
/** Metadata keys only the server may set: anything a client sends under them is dropped. */
export const RESERVED_METADATA: readonly string[] = [METADATA_PRINCIPAL, METADATA_PEER_IDENTITY];

/** Who a verified token speaks for. */
export interface Principal {
  /** The principal's id; becomes the handler's `caller`. */
  readonly id: string;
  /** Facts about the principal (roles, tenant…), exposed as `x-refront-claim-<name>` metadata. @default {} */
  readonly claims?: Readonly<Record<string, string>>;
}

/** What a {@link TokenVerifier} knows about the call besides the token. */
export interface VerifyInfo {
  /** The called method. */
  readonly method: MethodInfo;
  /** The mTLS peer identity, when the connection has one. */
  readonly peerIdentity: string | undefined;
}

/**
 * Checks a bearer token (a JWT, an opaque key…). Returns the principal, or undefined when the
 * token is not valid. A thrown RefrontError is answered as is (PERMISSION_DENIED, UNAVAILABLE
 * when the identity provider is down…); any other throw counts as a bad token.
 */
export type TokenVerifier = (
  token: string,
  info: VerifyInfo,
) => Principal | undefined | Promise<Principal | undefined>;

/** Authentication of a server. */
export interface ServerAuthOptions {
  /** Verifies the `authorization: Bearer <token>` of every call; without it, tokens are not checked. @default none */
  readonly verifyToken?: TokenVerifier;
  /**
   * Identity of an mTLS peer from its certificate. @default the first URI subject alternative
   * name (a SPIFFE id), else the subject's common name
   */
  readonly peerIdentity?: (certificate: PeerCertificate) => string | undefined;
  /**
   * The callers this server accepts and what each may call (see {@link CallerRules}). With it,
   * a call with no verified identity (no client certificate, no verified token) is
   * UNAUTHENTICATED `CORE_UNAUTHENTICATED_CALLER`, and a caller not declared for the method is
   * PERMISSION_DENIED `CORE_CALLER_NOT_ALLOWED`, before any handler runs. The caller is the mTLS
   * peer when there is one (the service calling), else the token's principal.
   * @default none: any caller may call any method
   */
  readonly callers?: CallerRules;
  /**
   * The caller name of a verified identity, as `callers` and the handler's `caller` name it
   * (e.g. `spiffe://refront.local/tickets` → `tickets`); undefined for an identity that names no
   * known caller, which is then PERMISSION_DENIED under `callers`. @default the identity itself
   */
  readonly callerName?: (identity: string) => string | undefined;
}

/** The default {@link ServerAuthOptions.peerIdentity}: first SAN URI, else subject CN. */
export function defaultPeerIdentity(certificate: PeerCertificate): string | undefined {
  const uri = certificate.subjectaltname
    ?.split(', ')
    .find((n) => n.startsWith('URI:'))
    ?.slice(4);
  const cn = certificate.subject?.CN;
  return uri || (typeof cn === 'string' && cn !== '' ? cn : undefined);
}

async function verify(
  verifier: TokenVerifier,
  header: string | undefined,
  info: VerifyInfo,
): Promise<Principal> {
  const match = header === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  if (!match) {
    throw CoreErrors.MISSING_TOKEN(header !== undefined);
  }
  let principal: Principal | undefined;
  try {
    principal = await verifier(match[1]!, info);
  } catch (e: unknown) {
    if (isRefrontError(e)) throw e;
    throw CoreErrors.BAD_TOKEN.with({ cause: e });
  }
  if (!principal || typeof principal.id !== 'string' || principal.id === '') {
    throw CoreErrors.BAD_TOKEN();
  }
  return principal;
}

/**
 * Server interceptor that authenticates each call: the mTLS peer identity (put in metadata by
 * the transport) and, with `verifyToken`, the bearer token. The handler's `caller` becomes the
 * token's principal, else the peer identity; the token itself is removed from the metadata the
 * handler sees. A missing or bad token fails with UNAUTHENTICATED.
 *
 * @example
 * createGrpcServer({ service: 'tickets', logger, auth: { verifyToken: (t) => (t === key ? { id: 'gateway' } : undefined) } });
 */
export function serverAuthInterceptor(options: ServerAuthOptions): Interceptor {
  const verifier = options.verifyToken;
  const policy = options.callers ? callerPolicy(options.callers) : undefined;
  const nameOf = options.callerName ?? ((identity: string) => identity);
  /** Checks the call's identity against the callers (when declared) and records its caller. */
  const admit = (call: Call<unknown>, principal: Principal | undefined): void => {
    const peerIdentity = call.metadata[METADATA_PEER_IDENTITY];
    if (policy) {
      const identity = peerIdentity ?? principal?.id;
      if (identity === undefined) {
        throw CoreErrors.UNAUTHENTICATED_CALLER();
      }
      const caller = nameOf(identity);
      if (caller === undefined || !policy.allows(caller, call.method)) {
        throw CoreErrors.CALLER_NOT_ALLOWED(identity, call.method.path);
      }
      setAuthenticatedCaller(call, principal?.id ?? caller);
    } else if (principal) setAuthenticatedCaller(call, principal.id);
    else if (peerIdentity !== undefined) setAuthenticatedCaller(call, nameOf(peerIdentity) ?? peerIdentity);
  };
  if (!verifier) {
    // No token to wait for: no promise of its own per call (every in-process call of the monolith runs it).
    return <Req, Res>(call: Call<Req>, next: Next<Req, Res>): Promise<Res> => {
      try {
        admit(call as Call<unknown>, undefined);
      } catch (e: unknown) {
        return Promise.reject(e);
      }
      return next(call);
    };
  }
  return async <Req, Res>(call: Call<Req>, next: Next<Req, Res>): Promise<Res> => {
    const md = call.metadata;
    const header = md.authorization;
    delete md.authorization;
    const principal = await verify(verifier, header, {
      method: call.method,
      peerIdentity: md[METADATA_PEER_IDENTITY],
    });
    md[METADATA_PRINCIPAL] = principal.id;
    for (const [k, v] of Object.entries(principal.claims ?? {})) md[`${METADATA_CLAIM_PREFIX}${k}`] = v;
    admit(call as Call<unknown>, principal);
    return next(call);
  };
}

/** A bearer token, or a function giving one per call (refresh it there). */
export type TokenProvider = string | ((method: MethodInfo) => string | Promise<string>);

/**
 * Client interceptor that sends `authorization: Bearer <token>` with every call.
 *
 * @example
 * createGrpcClient(TicketsServiceDefinition, { target, token: () => tokens.current() });
 */
export function bearerTokenInterceptor(token: TokenProvider): Interceptor {
  if (typeof token === 'string') {
    const header = `Bearer ${token}`;
    return (call, next) => {
      call.metadata.authorization = header;
      return next(call);
    };
  }
  return async <Req, Res>(call: Call<Req>, next: Next<Req, Res>): Promise<Res> => {
    call.metadata.authorization = `Bearer ${await token(call.method)}`;
    return next(call);
  };
}

/**
 * Records the authenticated identity of a call being served: the request context's `caller` and
 * the caller metadata become `caller`, replacing what the client claimed. For authentication
 * interceptors, which run inside the context (inside the default server chain) so that
 * refused calls still get a span and RED metrics.
 *
 * @example
 * const auth: Interceptor = async (call, next) => {
 *   setAuthenticatedCaller(call, await verify(call.metadata.authorization));
 *   return next(call);
 * };
 */
export function setAuthenticatedCaller(call: Call<unknown>, caller: string): void {
  call.metadata[METADATA_CALLER] = caller;
  // The context is this module's own MutableRequestContext; `caller` is read-only to handlers only.
  const ctx = call.context as { caller: string | undefined } | undefined;
  if (ctx) ctx.caller = caller;
}
