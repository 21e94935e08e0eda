import { CoreReason, isRefrontError, RefrontError } from '@refront/core';
import { asUnprocessed, isStatus, type RefrontErrorJson } from '@refront/core/transport';

/** The payload of an error or goaway frame: RefrontError's JSON form. */
export function errorToWire(e: RefrontError): string {
  return JSON.stringify(e.toJSON());
}

/**
 * Rebuilds an error frame's RefrontError, or undefined when the payload is not one. A
 * `CORE_DRAINING` comes back `unprocessed`: a Refront server answers it only when it refused the
 * request before dispatch (a handler's rethrown one leaves as `CORE_DEPENDENCY_UNAVAILABLE`).
 */
export function errorFromWire(text: string): RefrontError | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const j = json as Record<string, unknown>;
  if (!isStatus(j.status) || typeof j.reason !== 'string' || typeof j.message !== 'string') return undefined;
  if (j.retryable !== undefined && typeof j.retryable !== 'boolean') return undefined;
  if (j.details !== undefined && (typeof j.details !== 'object' || j.details === null)) return undefined;
  const err = RefrontError.fromJSON(j as unknown as RefrontErrorJson);
  if (!isRefrontError(err)) return undefined;
  return err.reason === CoreReason.DRAINING ? asUnprocessed(err) : err;
}
