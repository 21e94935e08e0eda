import { RefrontError } from '@refront/core';
import type { Reply } from '@refront/core/transport';
import { createDefaultPolicy, type ResilienceAttemptContext } from '@refront/resilience';
import { describe, expect, it } from 'vitest';
import { type InstancesReady, type OutgoingPolicyCall, startCall } from './startCall.js';

/** An outgoing call that answers every attempt (and the once-only send) with `value`. */
function outgoing(value: string, signal?: AbortSignal) {
  const log: string[] = [];
  let settle!: (outcome: { value?: unknown; error?: unknown }) => void;
  const outcome = new Promise<{ value?: unknown; error?: unknown }>((resolve) => {
    settle = resolve;
  });
  const call: OutgoingPolicyCall<unknown> = {
    signal,
    deadline: undefined,
    idempotent: true,
    target: 'svc',
    pickTarget: () => undefined,
    attempt(_ctx: ResilienceAttemptContext, done: Reply) {
      log.push('attempt');
      done.ok(value);
    },
    sendOnce() {
      log.push('once');
      this.ok(value);
    },
    ok: (v) => settle({ value: v }),
    fail: (e) => settle({ error: e }),
  };
  return { call, log, outcome };
}

/** Instances that arrive when `arrive()` is called, or never. */
function gate() {
  let open!: () => void;
  let refuse!: (e: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    open = resolve;
    refuse = reject;
  });
  const g: InstancesReady & { isReady: boolean } = {
    isReady: false,
    whenReady: () => ready,
  };
  return {
    g,
    arrive: () => {
      g.isReady = true;
      open();
    },
    fail: refuse,
  };
}

describe('startCall', () => {
  it('runs the call through the policy, or sends it once without one', async () => {
    const withPolicy = outgoing('via policy');
    startCall(withPolicy.call, createDefaultPolicy({ name: 'svc' }), undefined);
    expect(await withPolicy.outcome).toEqual({ value: 'via policy' });
    expect(withPolicy.log).toEqual(['attempt']);
    const plain = outgoing('once');
    startCall(plain.call, undefined, { isReady: true, whenReady: () => Promise.resolve() });
    expect(await plain.outcome).toEqual({ value: 'once' });
    expect(plain.log).toEqual(['once']);
  });

  it('waits for the first instances before the first attempt', async () => {
    const { g, arrive } = gate();
    const c = outgoing('after the resolve');
    startCall(c.call, undefined, g);
    await Promise.resolve();
    expect(c.log).toEqual([]);
    arrive();
    expect(await c.outcome).toEqual({ value: 'after the resolve' });
  });

  it('fails the call when the wait fails (no instances, closed, aborted)', async () => {
    const { g, fail } = gate();
    const c = outgoing('never');
    startCall(c.call, createDefaultPolicy({ name: 'svc' }), g);
    const e = new RefrontError('UNAVAILABLE', 'DISCOVERY_NO_INSTANCES', 'no instance of svc');
    fail(e);
    expect(await c.outcome).toEqual({ error: e });
    expect(c.log).toEqual([]);
  });
});
