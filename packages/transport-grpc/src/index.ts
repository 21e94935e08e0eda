export type { GrpcClient, GrpcClientOptions } from './createGrpcClient.js';
export { createGrpcClient } from './createGrpcClient.js';
export type { GrpcReasonCode } from './errors.js';
export {
  encodeStatusDetails,
  fromGrpcError,
  GrpcErrors,
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
export type { ReflectionOptions } from './reflection.js';
