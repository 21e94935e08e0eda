import type { Client } from '@grpc/grpc-js';
import type { Connector } from '@refront/rpc';

/** The grpc-js clients of a channel (one per instance), and the caller their `user-agent` announces. */
export interface GrpcConnector extends Connector<Client> {
  /** The caller named in the connections' `user-agent`, if any (its `x-refront-caller` is not sent again). */
  readonly announced: string | undefined;
}
