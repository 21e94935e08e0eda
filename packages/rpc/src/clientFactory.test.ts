import { EchoServiceDefinition } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { CLIENT_CHANNEL, clientFactory, DEFAULT_CALLER, type RpcClientOptions } from './clientFactory.js';
import { createRpcChannel } from './RpcChannel.js';
import { type FakeConnection, fakeLane } from './testing/fakeLane.js';

/** A client factory over the fake lane; `made` records each channel's connections and announced caller. */
function fakeFactory() {
  const made: { caller: string; dialled: FakeConnection[] }[] = [];
  const create = clientFactory({
    system: 'fake',
    channelFactory: 'createFakeChannel',
    createChannel: (options: RpcClientOptions & { target: string }, caller) => {
      const { lane, dialled } = fakeLane();
      made.push({ caller, dialled });
      return createRpcChannel({ target: options.target, policy: false }, lane);
    },
  });
  return { create, made };
}

describe('clientFactory', () => {
  it('refuses a contract with a method named close before it makes a channel', () => {
    const { create, made } = fakeFactory();
    const withClose = { ...EchoServiceDefinition, methods: { close: EchoServiceDefinition.methods.echo } };
    expect(() => create(withClose, { target: 'x:1' })).toThrow(/method named close: use createFakeChannel/);
    expect(made).toEqual([]);
  });

  it('announces the caller, sends the bearer token, and owns its channel', async () => {
    const { create, made } = fakeFactory();
    const client = create(EchoServiceDefinition, { target: 'x:1', token: () => 'secret' });
    expect(made[0]?.caller).toBe(DEFAULT_CALLER);
    await client.echo({ message: 'hi' });
    const sent = made[0]?.dialled[0]?.metadata[0];
    expect(sent?.authorization).toBe('Bearer secret');
    expect(sent?.['x-refront-caller']).toBe(DEFAULT_CALLER);
    expect(client[CLIENT_CHANNEL].connectedInstances()).toEqual([]);
    await client.close();
    expect(made[0]?.dialled[0]?.closed).toBe(true);
    await expect(client.echo({ message: 'late' })).rejects.toMatchObject({ reason: 'CORE_CLOSED' });
    await client[Symbol.asyncDispose]();
  });

  it('names the caller it is given', async () => {
    const { create, made } = fakeFactory();
    await using client = create(EchoServiceDefinition, { target: 'x:1', caller: 'billing' });
    await client.echo({ message: 'hi' });
    expect(made[0]?.caller).toBe('billing');
    expect(made[0]?.dialled[0]?.metadata[0]?.['x-refront-caller']).toBe('billing');
  });
});
