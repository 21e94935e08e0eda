import type { SecureContextOptions } from 'node:tls';
import type { Logger, MetricsRegistry } from '@refront/core';
import { invalidOption } from '@refront/core/transport';
import {
  type ClientTlsOptions,
  positiveInt,
  type ServerTlsOptions,
  type TlsMaterial,
  TlsReloader,
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
 * The TLS files of a mux server (`clientCaFile` is the CA bundle client certificates must chain
 * to), read and kept current.
 * @throws RefrontError `MUX_BAD_CREDENTIALS` when a file cannot be read, `RPC_BAD_TLS_MATERIAL`
 *   when the key does not match the certificate.
 */
export function serverTlsReloader(
  tls: ServerTlsOptions,
  logger: Logger,
  metrics: MetricsRegistry | undefined,
): TlsReloader {
  const files = { caFile: tls.clientCaFile, certFile: tls.certFile, keyFile: tls.keyFile };
  return new TlsReloader({ files, unreadable: MuxErrors.BAD_CREDENTIALS, logger, metrics });
}

/**
 * The TLS files of a mux client, read and kept current.
 * @throws RefrontError `MUX_BAD_CREDENTIALS` when a file cannot be read, `RPC_BAD_TLS_MATERIAL`
 *   when the key does not match the certificate, `CORE_INVALID_OPTION` when only one of certFile
 *   and keyFile is given.
 */
export function clientTlsReloader(
  tls: ClientTlsOptions,
  logger: Logger,
  metrics: MetricsRegistry | undefined,
): TlsReloader {
  return new TlsReloader({ files: tls, unreadable: MuxErrors.BAD_CREDENTIALS, logger, metrics });
}

/** node:tls secure context options of a set of TLS files (a server's `ca` is its client CA bundle). */
export function secureContextOptions(m: TlsMaterial): SecureContextOptions {
  return {
    ...(m.ca ? { ca: m.ca } : {}),
    ...(m.cert ? { cert: m.cert } : {}),
    ...(m.key ? { key: m.key } : {}),
    minVersion: 'TLSv1.2',
  };
}
