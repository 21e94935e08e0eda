import type { ConnectionOptions as TlsConnectOptions, TlsOptions } from 'node:tls';
import { invalidOption } from '@refront/core/transport';
import {
  type ClientTlsOptions,
  positiveInt,
  readClientPems,
  readServerPems,
  type ServerTlsOptions,
} from '@refront/rpc';
import { MuxErrors } from './errors.js';
import { DEFAULT_MAX_FRAME_BYTES, MIN_MAX_FRAME_BYTES } from './protocol.js';

/**
 * The largest frame a peer accepts, default filled in and checked (a u32, at least
 * {@link MIN_MAX_FRAME_BYTES} so a request and its metadata fit).
 * @throws RefrontError `CORE_INVALID_OPTION`
 */
export function resolveMaxFrameBytes(value: number | undefined): number {
  const maxFrameBytes = positiveInt('maxFrameBytes', value ?? DEFAULT_MAX_FRAME_BYTES, 0xffffffff);
  if (maxFrameBytes < MIN_MAX_FRAME_BYTES)
    throw invalidOption(`maxFrameBytes must be >= ${MIN_MAX_FRAME_BYTES}`);
  return maxFrameBytes;
}

/**
 * node:tls server options from PEM files; with `clientCaFile`, client certificates are required.
 * @throws RefrontError INVALID_ARGUMENT `MUX_BAD_CREDENTIALS` when a file cannot be read.
 */
export function serverTlsOptions(tls: ServerTlsOptions): TlsOptions {
  const { cert, key, clientCa: ca } = readServerPems(tls, MuxErrors.BAD_CREDENTIALS);
  return {
    cert,
    key,
    ...(ca ? { ca, requestCert: true, rejectUnauthorized: true } : {}),
    minVersion: 'TLSv1.2',
  };
}

/**
 * node:tls client options from PEM files (without host and port).
 * @throws RefrontError `MUX_BAD_CREDENTIALS` when a file cannot be read, `CORE_INVALID_OPTION`
 *   when only one of certFile and keyFile is given.
 */
export function clientTlsOptions(tls: ClientTlsOptions): TlsConnectOptions {
  const { ca, cert, key } = readClientPems(tls, MuxErrors.BAD_CREDENTIALS);
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), minVersion: 'TLSv1.2' };
}
