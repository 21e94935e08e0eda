export type { CallRoute, Connector } from './CallRoute.js';
export type { ClientFactory, ClientLane, RpcClient, RpcClientOptions } from './clientFactory.js';
export { CLIENT_CHANNEL, clientFactory, DEFAULT_CALLER } from './clientFactory.js';
export { RpcErrors, RpcReason, requestDecodeFailed, responseDecodeFailed } from './errors.js';
export type { KeepaliveOptions } from './options.js';
export {
  DEFAULT_CLIENT_KEEPALIVE_TIME_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_SERVER_KEEPALIVE_TIME_MS,
  positiveInt,
  resolveKeepalive,
} from './options.js';
export type { ChannelLane, OutgoingCallClass, RpcChannel, RpcChannelOptions } from './RpcChannel.js';
export { createRpcChannel } from './RpcChannel.js';
export { RpcOutgoingCall } from './RpcOutgoingCall.js';
export type { NetworkRpcServer, RpcServerOptions, ServerLane } from './RpcServerBase.js';
export { RpcServerBase } from './RpcServerBase.js';
export type { InstancesReady, OutgoingPolicyCall } from './startCall.js';
export { startCall } from './startCall.js';
export type { TlsFilePaths, TlsMaterial, TlsReloaderOptions } from './TlsReloader.js';
export { DEFAULT_TLS_RECHECK_MS, TlsReloader } from './TlsReloader.js';
export type { ClientTlsOptions, ServerTlsOptions, UnreadablePem } from './tls.js';
