export type { MuxClient, MuxClientOptions } from './createMuxClient.js';
export { createMuxClient } from './createMuxClient.js';
export type { MuxChannel, MuxChannelOptions, ReconnectOptions } from './MuxChannel.js';
export {
  createMuxChannel,
  DEFAULT_CHANNEL_CLOSE_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_CONNECTIONS_PER_INSTANCE,
  DEFAULT_RECONNECT_BASE_DELAY_MS,
  DEFAULT_RECONNECT_MAX_DELAY_MS,
} from './MuxChannel.js';
export type { MuxServer, MuxServerOptions } from './MuxServer.js';
export { createMuxServer } from './MuxServer.js';
export type { MuxReasonCode } from './protocol.js';
export {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_REQUESTS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_WRITE_HIGH_WATER_BYTES,
  MUX_PROTOCOL_VERSION,
  MUX_SYSTEM,
  MuxReason,
} from './protocol.js';
