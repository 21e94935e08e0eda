/** Authentication lives in `@refront/core` (the same on every lane); re-exported for this package's users. */
export type { Principal, ServerAuthOptions, TokenProvider, TokenVerifier } from '@refront/core';
export { bearerTokenInterceptor } from '@refront/core';
export type { VerifyInfo } from '@refront/core/transport';
export {
  defaultPeerIdentity,
  METADATA_CLAIM_PREFIX,
  METADATA_PEER_IDENTITY,
  METADATA_PRINCIPAL,
  RESERVED_METADATA,
  serverAuthInterceptor,
} from '@refront/core/transport';
