import { invalidOption } from '@refront/core/transport';

/** Client: ping an idle connection this often, in ms, so a dead peer or a dropped NAT entry is noticed. */
export const DEFAULT_CLIENT_KEEPALIVE_TIME_MS = 30_000;
/** Server: ping an idle connection this often, in ms. */
export const DEFAULT_SERVER_KEEPALIVE_TIME_MS = 60_000;
/** How long a ping may wait for its answer before the connection is closed, in ms. */
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 10_000;

/** Keepalive pings and dead-peer detection (gRPC: HTTP/2 PING; mux: its PING frame). */
export interface KeepaliveOptions {
  /**
   * Ping a connection that has been idle this long, in ms.
   * @default DEFAULT_CLIENT_KEEPALIVE_TIME_MS (30 000, client) / DEFAULT_SERVER_KEEPALIVE_TIME_MS (60 000, server)
   */
  readonly timeMs?: number;
  /** Time a ping may wait for its answer before the connection is closed, in ms. @default 10 000 */
  readonly timeoutMs?: number;
}

/**
 * Validates an integer option in `1…max`.
 *
 * @throws RefrontError `CORE_INVALID_OPTION` naming the option and the value.
 * @example
 * const maxFrameBytes = positiveInt('maxFrameBytes', options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, 0xffffffff);
 */
export function positiveInt(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!(Number.isInteger(value) && value > 0 && value <= max)) {
    const bound = max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : '';
    throw invalidOption(`${name} must be a positive integer${bound}, got ${value}`);
  }
  return value;
}

/**
 * The keepalive settings of one side, defaults filled in and checked.
 *
 * @throws RefrontError `CORE_INVALID_OPTION` for a time that is not a positive integer.
 * @example
 * const { timeMs, timeoutMs } = resolveKeepalive(options.keepalive, 'server'); // 60 000, 10 000 by default
 */
export function resolveKeepalive(
  keepalive: KeepaliveOptions | undefined,
  side: 'client' | 'server',
): Required<KeepaliveOptions> {
  const time = side === 'server' ? DEFAULT_SERVER_KEEPALIVE_TIME_MS : DEFAULT_CLIENT_KEEPALIVE_TIME_MS;
  return {
    timeMs: positiveInt('keepalive.timeMs', keepalive?.timeMs ?? time),
    timeoutMs: positiveInt('keepalive.timeoutMs', keepalive?.timeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS),
  };
}
