import { isRefrontError } from '@refront/core';
import { describe, expect, it } from 'vitest';
import { createEchoProbe } from './echoProbe.js';
import { connectEcho, logger, served, setupEnv } from './environment.js';
import { eventually, refused, within } from './expectations.js';
import { startFaultProxy } from './faultProxy.js';
import { startSilentServer } from './silentServer.js';
import type { TransportFactory } from './TransportFactory.js';

/** Deadline of calls that must not end by it: a hang trips the hang guard long before. */
const PATIENT_MS = 30_000;
/** Longest wait for a channel to reach a restarted server (the lanes' reconnect backoff is far below). */
const RECOVERY_BOUND_MS = 10_000;
/** Deadline of each call while waiting for the restarted server. */
const ATTEMPT_TIMEOUT_MS = 1_000;
/** Deadline of the calls to a peer that never answers. */
const SILENT_DEADLINE_MS = 400;

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/**
 * Registers the fault cases (capability `faults`): connections cut under an in-flight call, a
 * server restarted on the same port, a peer that accepts the connection and never answers. The
 * suite injects the faults itself, over TCP ({@link startFaultProxy}, {@link startSilentServer}),
 * so every lane meets the same faults.
 */
export function describeFaultCases<H>(factory: TransportFactory<H>): void {
  const addressOf = (handle: H): string => {
    if (!factory.addressOf) throw new Error('capabilities.faults needs factory.addressOf');
    return factory.addressOf(handle);
  };
  const handleOf = (address: string): H => {
    if (!factory.handleOf) throw new Error('capabilities.faults needs factory.handleOf');
    return factory.handleOf(address);
  };

  /** A server, a relay in front of it, a client through the relay with a Sleep call in flight. */
  async function cutUnderSleep() {
    const env = await setupEnv(factory);
    const proxy = await startFaultProxy(addressOf(env.server.handle)).catch(async (e: unknown) => {
      await env[Symbol.asyncDispose]();
      throw e;
    });
    const dispose = async (): Promise<void> => {
      await proxy.cut();
      await env[Symbol.asyncDispose]();
    };
    try {
      const relayed = env.connect({ handle: handleOf(proxy.address) });
      expect((await relayed.client.echo({ message: 'through the relay' })).message).toBe('through the relay');
      const pending = refused(relayed.client.sleep({ durationMs: 20_000 }, { timeoutMs: PATIENT_MS }));
      await within(env.probe.sleepsStarted(1), 'the Sleep handler start');
      await proxy.cut();
      return { env, relayed, pending, [Symbol.asyncDispose]: dispose };
    } catch (e: unknown) {
      await dispose();
      throw e;
    }
  }

  describe('faults', () => {
    it('answers an in-flight call whose connection is cut with UNAVAILABLE, not a hang', async () => {
      await using cut = await cutUnderSleep();
      const err = await within(cut.pending, "the in-flight caller's refusal");
      expect(err.status).toBe('UNAVAILABLE');
      // The peer is gone for good: the next call is refused too, without waiting for its deadline.
      const next = await within(
        refused(cut.relayed.client.echo({ message: 'x' }, { timeoutMs: PATIENT_MS })),
        "the next call's refusal",
      );
      expect(next.status).toBe('UNAVAILABLE');
      // Other connections to the server are untouched.
      expect((await cut.env.client.echo({ message: 'still serving' })).message).toBe('still serving');
    });

    it("aborts the handler's signal with CANCELLED when its caller's connection is cut", async () => {
      await using cut = await cutUnderSleep();
      await within(cut.pending, "the in-flight caller's refusal");
      const seen = await within(cut.env.probe.sleepEnded(0), "the handler's signal abort");
      expect(seen.aborted).toBe(true);
      expect(isRefrontError(seen.reason) && seen.reason.status).toBe('CANCELLED');
    });

    it('reaches a server restarted on the same port through the same channel', async () => {
      await using env = await setupEnv(factory);
      expect((await env.client.echo({ message: 'before' })).message).toBe('before');
      const port = portOf(addressOf(env.server.handle));
      await env.server.close();
      const down = await within(
        refused(env.client.echo({ message: 'down' }, { timeoutMs: PATIENT_MS })),
        'the refusal while the server is down',
      );
      expect(down.status).toBe('UNAVAILABLE');
      const probe = createEchoProbe();
      const restarted = await factory.startServer({
        service: 'echo',
        logger,
        contracts: [served(probe.implementation)],
        port,
      });
      try {
        expect(addressOf(restarted.handle)).toBe(addressOf(env.server.handle));
        const res = await eventually(
          () => env.client.echo({ message: 'after restart' }, { timeoutMs: ATTEMPT_TIMEOUT_MS }),
          RECOVERY_BOUND_MS,
        );
        expect(res.message).toBe('after restart');
        expect((await env.client.echo({ message: 'and after' })).message).toBe('and after');
      } finally {
        await restarted.close();
      }
    });

    it('ends calls to a peer that accepts the connection but never answers with DEADLINE_EXCEEDED, not a hang', async () => {
      await using silent = await startSilentServer();
      await using connection = connectEcho(factory, handleOf(silent.address));
      for (const attempt of ['first', 'second']) {
        const err = await within(
          refused(connection.client.echo({ message: attempt }, { timeoutMs: SILENT_DEADLINE_MS })),
          `the ${attempt} call's deadline`,
        );
        expect({ attempt, status: err.status }).toEqual({ attempt, status: 'DEADLINE_EXCEEDED' });
      }
    });
  });
}
