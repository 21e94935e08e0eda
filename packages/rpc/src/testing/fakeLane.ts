/** A lane without sockets for the base's tests: connections that answer from memory. */
import type { Metadata } from '@refront/core/transport';
import type { Connector } from '../CallRoute.js';
import type { ChannelLane } from '../RpcChannel.js';
import { RpcOutgoingCall } from '../RpcOutgoingCall.js';

/** One fake connection: answers every attempt with `outcome` (an Error fails the attempt). */
export class FakeConnection {
  readonly bodies: Uint8Array[] = [];
  readonly metadata: Metadata[] = [];
  outcome: unknown = {};
  closed = false;

  constructor(readonly name: string) {}
}

/** The fake lane's outgoing call: records what it sends and answers on the next microtask. */
class FakeCall extends RpcOutgoingCall<FakeConnection> {
  protected transmit(connection: FakeConnection): void {
    connection.bodies.push(this.body);
    connection.metadata.push({ ...this.call.metadata });
    const outcome = connection.outcome;
    queueMicrotask(() => (outcome instanceof Error ? this.failed(outcome) : this.answered(outcome)));
  }
}

/** A fake lane, the connections it opened, and how often its connector's `closed` hook ran. */
export function fakeLane(): {
  lane: ChannelLane<FakeConnection, Connector<FakeConnection>>;
  dialled: FakeConnection[];
  closedHooks: () => number;
} {
  const dialled: FakeConnection[] = [];
  let closedHooks = 0;
  const open = (name: string): FakeConnection => {
    const c = new FakeConnection(name);
    dialled.push(c);
    return c;
  };
  const connector: Connector<FakeConnection> = {
    dial: open,
    connect: (instance) => open(instance.id),
    close: (c) => {
      c.closed = true;
    },
    closed: () => {
      closedHooks++;
    },
  };
  return {
    lane: { lane: 'fake', connector: () => connector, Call: FakeCall },
    dialled,
    closedHooks: () => closedHooks,
  };
}
