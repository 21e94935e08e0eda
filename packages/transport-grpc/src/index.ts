export type { GrpcClient, GrpcClientOptions } from './createGrpcClient.js';
export { createGrpcClient } from './createGrpcClient.js';
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
export { createGrpcServer, GRPC_SYSTEM } from './GrpcServer.js';
export type { ConnectionOptions, ReconnectOptions } from './options.js';
export {
  DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
  DEFAULT_MAX_SEND_MESSAGE_BYTES,
  DEFAULT_MIN_PING_INTERVAL_MS,
  DEFAULT_RECONNECT_INITIAL_BACKOFF_MS,
  DEFAULT_RECONNECT_MAX_BACKOFF_MS,
} from './options.js';
export type { ReflectionOptions } from './reflection.js';
