/** Authentication lives in `@refront/core` (the same on every lane); re-exported for this package's users. */
export type { Principal, ServerAuthOptions, TokenProvider, TokenVerifier, VerifyInfo } from '@refront/core';
export {
  bearerTokenInterceptor,
  defaultPeerIdentity,
  METADATA_CLAIM_PREFIX,
  METADATA_PEER_IDENTITY,
  METADATA_PRINCIPAL,
  RESERVED_METADATA,
  serverAuthInterceptor,
} from '@refront/core';
