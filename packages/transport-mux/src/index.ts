export type { MuxClient, MuxClientOptions } from './createMuxClient.js';
export { createMuxClient } from './createMuxClient.js';
export type { MuxReasonCode } from './errors.js';
export { MuxErrors, MuxReason } from './errors.js';
export type { MuxChannel, MuxChannelOptions, ReconnectOptions } from './MuxChannel.js';
export { createMuxChannel } from './MuxChannel.js';
export type { MuxServer, MuxServerOptions } from './MuxServer.js';
export { createMuxServer } from './MuxServer.js';
export { MUX_PROTOCOL_VERSION, MUX_SYSTEM } from './protocol.js';
