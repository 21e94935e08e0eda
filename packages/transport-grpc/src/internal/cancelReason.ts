import { CoreErrors, type RefrontError } from '@refront/core';

/**
 * How long before the server's deadline a cancel still counts as the deadline, in ms. gRPC
 * carries the timeout relative (`grpc-timeout`), so the server's deadline is the client's plus
 * the request's transit time, and a client cancels at its own deadline (grpc-js sends
 * RST_STREAM CANCEL, the same code as a user's cancel): that cancel arrives up to the transit
 * time (more when either event loop lags) before the server's deadline.
 */
export const DEADLINE_CANCEL_MARGIN_MS = 50;

/**
 * Why a running call was cancelled: DEADLINE_EXCEEDED when the cancel came at, or within
 * {@link DEADLINE_CANCEL_MARGIN_MS} before, the server's deadline, else CANCELLED (the caller
 * gave up). The margin is at most half the timeout the call arrived with, so a short call
 * cancelled early still reads as cancelled.
 *
 * @param deadline the server's deadline (epoch ms), undefined without one
 * @param arrivedAt when the call arrived (epoch ms)
 * @param now when the cancel arrived (epoch ms)
 */
export function cancelReason(deadline: number | undefined, arrivedAt: number, now: number): RefrontError {
  if (deadline !== undefined) {
    // At least 1 ms: Node's timers can fire within the millisecond before Date.now() reaches the deadline.
    const margin = Math.max(1, Math.min(DEADLINE_CANCEL_MARGIN_MS, (deadline - arrivedAt) / 2));
    if (now >= deadline - margin) {
      return CoreErrors.DEADLINE_EXCEEDED('before the handler finished');
    }
  }
  return CoreErrors.CANCELLED();
}
