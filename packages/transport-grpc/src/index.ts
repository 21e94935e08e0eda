export type { Principal, ServerAuthOptions, TokenProvider, TokenVerifier, VerifyInfo } from './auth.js';
export {
  bearerTokenInterceptor,
  defaultPeerIdentity,
  METADATA_CLAIM_PREFIX,
  METADATA_PEER_IDENTITY,
  METADATA_PRINCIPAL,
  serverAuthInterceptor,
} from './auth.js';
export type { GrpcClient, GrpcClientOptions } from './createGrpcClient.js';
export { createGrpcClient, DEFAULT_CALLER, GRPC_CHANNEL } from './createGrpcClient.js';
export type { GrpcReasonCode } from './errors.js';
export {
  encodeStatusDetails,
  fromGrpcError,
  GrpcReason,
  RETRYABLE_KEY,
  STATUS_DETAILS_KEY,
  toGrpcStatus,
} from './errors.js';
export type { GrpcChannel, GrpcChannelOptions } from './GrpcChannel.js';
export { createGrpcChannel } from './GrpcChannel.js';
export type { GrpcServer, GrpcServerOptions, ReadinessSource } from './GrpcServer.js';
export {
  createGrpcServer,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_GRPC_HOST,
  GRPC_SYSTEM,
} from './GrpcServer.js';
export type {
  ClientTlsOptions,
  ConnectionOptions,
  KeepaliveOptions,
  ReconnectOptions,
  ServerTlsOptions,
} from './options.js';
export {
  DEFAULT_CLIENT_KEEPALIVE_TIME_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
  DEFAULT_MAX_SEND_MESSAGE_BYTES,
  DEFAULT_MIN_PING_INTERVAL_MS,
  DEFAULT_RECONNECT_INITIAL_BACKOFF_MS,
  DEFAULT_RECONNECT_MAX_BACKOFF_MS,
  DEFAULT_SERVER_KEEPALIVE_TIME_MS,
} from './options.js';
export type { ReflectionOptions } from './reflection.js';
