import { RpcOutgoingCall } from '@refront/rpc';
import type { CallReply } from './ClientConnection.js';
import type { Endpoint } from './Endpoint.js';

/**
 * One call on a mux channel (see `RpcOutgoingCall`): each attempt is one request frame on one of
 * its instance's connections, which reports the decoded response or the error back to this
 * object (its `CallReply`). No closure or promise per call or attempt.
 */
export class OutgoingCall extends RpcOutgoingCall<Endpoint> implements CallReply {
  protected transmit(
    endpoint: Endpoint,
    deadline: number | undefined,
    signal: AbortSignal | undefined,
  ): void {
    endpoint.call(this.method, this.body, this.call.metadata, deadline, signal, this);
  }
}
