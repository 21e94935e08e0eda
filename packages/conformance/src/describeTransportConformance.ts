import {
  type Channel,
  createClient,
  createRequestContext,
  currentContext,
  type Interceptor,
  isRefrontError,
  METADATA_IDEMPOTENCY_KEY,
  RefrontError,
  runWithContext,
} from '@refront/core';
import { parseTraceparent } from '@refront/core/transport';
import { EchoRequest, EchoServiceDefinition, FILE_DESCRIPTOR_SET } from '@refront/test-contracts';
import { createContractCatalog, createContractValidator } from '@refront/validate';
import { describe, expect, it } from 'vitest';
import { describeBalancingCases } from './balancingCases.js';
import { describeCallerCases } from './callerCases.js';
import { describeDeliveryCases } from './deliveryCases.js';
import { ALL_STATUSES, FLIP_RETRYABLE, failDetails, PLAIN_ERROR_MESSAGE, THROW_PLAIN } from './echoProbe.js';
import { CONFORMANCE_CALLER, logger, type SetupOptions, setupEnv } from './environment.js';
import { refused, rejection, within } from './expectations.js';
import { describeFaultCases } from './faultCases.js';
import type { ConformanceAuth, TransportFactory } from './TransportFactory.js';
import { describeTlsCases } from './tlsCases.js';

export { CONFORMANCE_CALLER } from './environment.js';

/** The bearer token the suite's verifier accepts, and the principal it stands for. */
export const GOOD_TOKEN = 'good-token';
const PRINCIPAL = 'alice';

const auth: ConformanceAuth = {
  verifyToken: (token) => (token === GOOD_TOKEN ? { id: PRINCIPAL, claims: { role: 'admin' } } : undefined),
};

/** Calls Echo with `body` as the request's bytes, whatever they are. */
function rawEcho(channel: Channel, body: readonly number[]): Promise<unknown> {
  const raw = { ...EchoRequest, encode: () => ({ finish: () => new Uint8Array(body) }) };
  const echo = EchoServiceDefinition.methods.echo;
  const def = {
    ...EchoServiceDefinition,
    methods: { ...EchoServiceDefinition.methods, echo: { ...echo, requestType: raw } },
  };
  return createClient(def, channel, { caller: CONFORMANCE_CALLER }).echo({});
}

/**
 * Registers the transport conformance suite for one request lane: Vitest `describe`/`it` blocks
 * that prove what every lane promises (round trips, typed errors, deadlines, cancellation,
 * metadata and trace continuation, authentication, declared callers, drain, bad input, concurrency, TLS and mTLS,
 * faults: connections cut, a restarted server, a peer that never answers; delivery: what a retry
 * may repeat across two instances, a breaker opening on an unreachable one). Call it at
 * the top level of the lane's test file. Cases whose capability the factory turns off are not
 * registered.
 *
 * @example
 * describeTransportConformance('gRPC', grpcFactory);
 */
export function describeTransportConformance<H>(name: string, factory: TransportFactory<H>): void {
  const caps = {
    sendsBytes: true,
    auth: true,
    tls: true,
    faults: true,
    discovery: true,
    channelCaller: false,
    ...factory.capabilities,
  };
  if (caps.faults && (!factory.addressOf || !factory.handleOf)) {
    throw new Error(`${name}: capabilities.faults needs factory.addressOf and factory.handleOf`);
  }
  if (caps.discovery && !(caps.faults && factory.discoveryChannel)) {
    throw new Error(`${name}: capabilities.discovery needs capabilities.faults and factory.discoveryChannel`);
  }

  const setup = (options?: SetupOptions) => setupEnv(factory, options);

  describe(`${name}: transport conformance`, () => {
    describe('round trip', () => {
      it('round-trips a message and a bytes payload', async () => {
        await using env = await setup();
        const payload = Buffer.from(Uint8Array.from({ length: 256 }, (_, i) => i));
        const res = await env.client.echo({ message: 'héllo, wörld — 🚀', payload });
        expect(res.message).toBe('héllo, wörld — 🚀');
        expect(Buffer.from(res.payload).equals(payload)).toBe(true);
      });

      it('round-trips an empty request as the contract defaults', async () => {
        await using env = await setup();
        const res = await env.client.echo({});
        expect(res.message).toBe('');
        expect(res.payload).toHaveLength(0);
      });

      it('round-trips a 1 MiB payload', async () => {
        await using env = await setup();
        const payload = Buffer.from(Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 7919) & 0xff));
        const res = await env.client.echo({ message: 'big', payload });
        expect(res.payload).toHaveLength(payload.length);
        expect(Buffer.from(res.payload).equals(payload)).toBe(true);
      });
    });

    describe('errors', () => {
      it.each(ALL_STATUSES)(
        'a handler throwing %s reaches the caller with its status, reason, message, retryable flag and details',
        async (status) => {
          await using env = await setup();
          for (const reason of [`CONFORMANCE_${status}`, `CONFORMANCE_${status}${FLIP_RETRYABLE}`]) {
            const message = `failed on purpose: ${status} — ünïcødé`;
            const err = await refused(env.client.fail({ status, reason, message }));
            const byDefault = new RefrontError(status, reason, message).retryable;
            const retryable = reason.endsWith(FLIP_RETRYABLE) ? !byDefault : byDefault;
            expect({
              status: err.status,
              reason: err.reason,
              message: err.message,
              retryable: err.retryable,
            }).toEqual({ status, reason, message, retryable });
            expect(err.details).toEqual(failDetails(status));
          }
        },
      );

      it('turns an unexpected throw into INTERNAL without leaking its message, and keeps serving', async () => {
        await using env = await setup();
        const err = await refused(env.client.fail({ status: THROW_PLAIN, reason: 'X', message: 'x' }));
        expect(err.status).toBe('INTERNAL');
        expect(err.reason).toBe('CORE_INTERNAL');
        expect(err.retryable).toBe(false);
        const sent = JSON.stringify({ message: err.message, details: err.details });
        expect(sent).not.toContain('hunter2');
        expect(sent).not.toContain(PLAIN_ERROR_MESSAGE);
        expect((await env.client.echo({ message: 'still serving' })).message).toBe('still serving');
      });

      it('answers a method the server does not serve with UNIMPLEMENTED', async () => {
        await using env = await setup();
        const echo = EchoServiceDefinition.methods.echo;
        const withNope = {
          ...EchoServiceDefinition,
          methods: { ...EchoServiceDefinition.methods, nope: { ...echo, name: 'Nope' } },
        };
        const client = createClient(withNope, env.channel, { caller: CONFORMANCE_CALLER });
        const err = await refused(client.nope({ message: 'x' }));
        expect(err.status).toBe('UNIMPLEMENTED');
        expect(err.reason).toBe('CORE_UNIMPLEMENTED');
        expect(err.retryable).toBe(false);
      });
    });

    describe('deadlines and cancellation', () => {
      it("gives the handler the caller's deadline", async () => {
        await using env = await setup();
        const before = Date.now();
        const res = await env.client.echo({ message: 'x' }, { timeoutMs: 2_000 });
        const deadline = Number(res.seen.deadline);
        expect(deadline).toBeGreaterThan(before);
        // The lane may carry the remaining time rather than the instant (gRPC); allow its rounding.
        expect(deadline).toBeLessThanOrEqual(Date.now() + 2_000 + 100);
      });

      it("aborts a handler sleeping past the caller's timeout; the caller gets DEADLINE_EXCEEDED", async () => {
        await using env = await setup();
        const err = await refused(env.client.sleep({ durationMs: 20_000 }, { timeoutMs: 150 }));
        expect(err.status).toBe('DEADLINE_EXCEEDED');
        const seen = await within(env.probe.sleepEnded(0), "the handler's signal abort");
        expect(seen.aborted).toBe(true);
        expect(isRefrontError(seen.reason) && seen.reason.status).toBe('DEADLINE_EXCEEDED');
      });

      it("rethrows the caller's abort reason unchanged and aborts the handler's signal", async () => {
        await using env = await setup();
        const controller = new AbortController();
        const reason = new Error('the user navigated away');
        const pending = rejection(env.client.sleep({ durationMs: 20_000 }, { signal: controller.signal }));
        await within(env.probe.sleepsStarted(1), 'the Sleep handler start');
        controller.abort(reason);
        expect(await within(pending, "the caller's rejection")).toBe(reason);
        const seen = await within(env.probe.sleepEnded(0), "the handler's signal abort");
        expect(seen.aborted).toBe(true);
        expect(isRefrontError(seen.reason) && seen.reason.status).toBe('CANCELLED');
      });
    });

    describe('metadata', () => {
      it('carries the caller, the tenant and custom metadata to the handler context', async () => {
        await using env = await setup();
        const ctx = createRequestContext({ service: 'upstream', logger, tenant: 'acme' });
        const res = await runWithContext(ctx, () =>
          env.client.echo({ message: 'x' }, { metadata: { 'x-custom': 'value-1', 'x-request-id': 'r-42' } }),
        );
        expect(res.seen.caller).toBe(CONFORMANCE_CALLER);
        expect(res.seen.tenant).toBe('acme');
        expect(res.seen['md:x-custom']).toBe('value-1');
        expect(res.seen['md:x-request-id']).toBe('r-42');
      });

      it('carries one idempotency key per logical call, the same on every attempt, a chosen one unchanged', async () => {
        await using env = await setup();
        const keys: (string | undefined)[] = [];
        // Every call sent twice over the lane with the same call object, as a retry policy does.
        const twice: Channel = {
          async unary(method, call) {
            let res: unknown;
            for (let attempt = 0; attempt < 2; attempt++) {
              res = await env.channel.unary(method, call);
              keys.push((res as { seen: Record<string, string> }).seen[`md:${METADATA_IDEMPOTENCY_KEY}`]);
            }
            return res as never;
          },
        };
        const client = createClient(EchoServiceDefinition, twice, { caller: CONFORMANCE_CALLER });
        await client.echo({ message: 'a' });
        await client.echo({ message: 'b' });
        await client.echo({ message: 'c' }, { idempotencyKey: 'chosen-key/1' });
        const [a1, a2, b1, b2, c1, c2] = keys;
        expect(a1).toMatch(/^[0-9a-f-]{36}$/);
        expect([a2, b2, c1, c2]).toEqual([a1, b1, 'chosen-key/1', 'chosen-key/1']);
        expect(b1).not.toBe(a1);
        const bad = { [METADATA_IDEMPOTENCY_KEY]: 'x'.repeat(256) };
        const err = await refused(env.client.echo({ message: 'x' }, { metadata: bad }));
        expect([err.status, err.reason]).toEqual(['INVALID_ARGUMENT', 'CORE_INVALID_IDEMPOTENCY_KEY']);
      });

      it("continues the caller's trace: same trace id, a traceparent naming a new client span", async () => {
        await using env = await setup();
        const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
        const parentSpan = '00f067aa0ba902b7';
        const parent = parseTraceparent(`00-${traceId}-${parentSpan}-01`);
        const ctx = createRequestContext({ service: 'upstream', logger, parent });
        const res = await runWithContext(ctx, () => env.client.echo({ message: 'x' }));
        expect(res.seen.traceId).toBe(traceId);
        const header = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(res.seen['md:traceparent'] ?? '');
        expect(header?.[1]).toBe(traceId);
        expect(header?.[2]).not.toBe(parentSpan);
      });
    });

    describe('interceptors', () => {
      it('runs server interceptors after the defaults, inside the request context', async () => {
        const seen: { path: string; caller: string | undefined; traceId: string | undefined }[] = [];
        const recorder: Interceptor = (call, next) => {
          seen.push({
            path: call.method.path,
            caller: call.context?.caller,
            traceId: currentContext()?.traceId,
          });
          return next(call);
        };
        await using env = await setup({ interceptors: [recorder] });
        const res = await env.client.echo({ message: 'x' });
        expect(seen).toEqual([
          {
            path: '/refront.testing.v1.EchoService/Echo',
            caller: CONFORMANCE_CALLER,
            traceId: res.seen.traceId,
          },
        ]);
      });
    });

    if (caps.auth) {
      describe('authentication', () => {
        it("makes a verified token's principal the handler's caller and hides the token", async () => {
          await using env = await setup({ auth });
          const res = await env.client.echo(
            { message: 'x' },
            { metadata: { authorization: `Bearer ${GOOD_TOKEN}` } },
          );
          expect(res.seen.caller).toBe(PRINCIPAL);
          expect(res.seen['md:authorization']).toBeUndefined();
        });

        it('refuses a missing token with UNAUTHENTICATED, not retryable', async () => {
          await using env = await setup({ auth });
          const err = await refused(env.client.echo({ message: 'x' }));
          expect(err.status).toBe('UNAUTHENTICATED');
          expect(err.reason).toBe('CORE_MISSING_TOKEN');
          expect(err.retryable).toBe(false);
        });

        it('refuses an invalid token with UNAUTHENTICATED, not retryable', async () => {
          await using env = await setup({ auth });
          const err = await refused(
            env.client.echo({ message: 'x' }, { metadata: { authorization: 'Bearer forged' } }),
          );
          expect(err.status).toBe('UNAUTHENTICATED');
          expect(err.reason).toBe('CORE_BAD_TOKEN');
          expect(err.retryable).toBe(false);
        });

        it('with declared callers, refuses a call with no verified identity, whatever caller it claims', async () => {
          await using env = await setup({ auth: { callers: { [CONFORMANCE_CALLER]: '*', alice: '*' } } });
          const err = await refused(
            env.client.echo({ message: 'x' }, { metadata: { 'x-refront-caller': 'alice' } }),
          );
          expect(err.status).toBe('UNAUTHENTICATED');
          expect(err.reason).toBe('CORE_UNAUTHENTICATED_CALLER');
          expect(err.retryable).toBe(false);
        });

        it("with declared callers, a verified token's principal is the caller the rules name", async () => {
          await using env = await setup({
            auth: { ...auth, callers: { [PRINCIPAL]: ['refront.testing.v1.EchoService/Echo'] } },
          });
          const bearer = { authorization: `Bearer ${GOOD_TOKEN}` };
          const res = await env.client.echo({ message: 'x' }, { metadata: bearer });
          expect(res.seen.caller).toBe(PRINCIPAL);
          const err = await refused(env.client.sleep({ durationMs: 0 }, { metadata: bearer }));
          expect(err.status).toBe('PERMISSION_DENIED');
          expect(err.reason).toBe('CORE_CALLER_NOT_ALLOWED');
          expect(err.retryable).toBe(false);
        });
      });
    }

    describe('drain', () => {
      it('lets in-flight calls finish and refuses new ones with UNAVAILABLE (retryable)', async () => {
        await using env = await setup();
        const inflight = env.client.sleep({ durationMs: 300 });
        await within(env.probe.sleepsStarted(1), 'the Sleep handler start');
        const drained = env.server.drain();
        const err = await refused(env.client.echo({ message: 'too late' }));
        expect(err.status).toBe('UNAVAILABLE');
        expect(err.retryable).toBe(true);
        expect(await inflight).toEqual({ aborted: false });
        await within(drained, 'the drain');
      });

      it('aborts in-flight handlers when the grace period ends; their callers get UNAVAILABLE', async () => {
        await using env = await setup();
        const inflight = refused(env.client.sleep({ durationMs: 20_000 }));
        await within(env.probe.sleepsStarted(1), 'the Sleep handler start');
        const grace = new AbortController();
        const drained = env.server.drain(grace.signal);
        grace.abort();
        await within(drained, 'the drain');
        const err = await inflight;
        expect(err.status).toBe('UNAVAILABLE');
        expect((await within(env.probe.sleepEnded(0), "the handler's signal abort")).aborted).toBe(true);
      });

      it('answers calls to a closed server with UNAVAILABLE (retryable), not a hang', async () => {
        await using env = await setup();
        expect((await env.client.echo({ message: 'before' })).message).toBe('before');
        await env.server.close();
        const err = await refused(env.client.echo({ message: 'after' }, { timeoutMs: 3_000 }));
        expect(err.status).toBe('UNAVAILABLE');
        expect(err.retryable).toBe(true);
      });
    });

    if (caps.sendsBytes) {
      describe('bad input', () => {
        it('answers a body that does not decode with INVALID_ARGUMENT and keeps serving', async () => {
          await using env = await setup();
          // Field 1 announced as 5 bytes long, then the body ends.
          const err = await refused(rawEcho(env.channel, [0x0a, 0x05, 0x61]));
          expect(err.status).toBe('INVALID_ARGUMENT');
          expect(err.reason).toBe('CORE_DECODE_FAILED');
          expect(err.retryable).toBe(false);
          expect((await env.client.echo({ message: 'still serving' })).message).toBe('still serving');
        });

        it('refuses field number 0, a lone end-group tag and a group as CORE_DECODE_FAILED, before any handler', async () => {
          await using env = await setup();
          // Each decodes leniently as a request of defaults (or of `message: "a"`): the codec stops there.
          const bodies = [[0x00], [0x0a, 0x01, 0x61, 0x00, 0x0a, 0x01, 0x62], [0x0c], [0x0b, 0x0c]];
          for (const body of bodies) {
            const err = await refused(rawEcho(env.channel, body));
            expect(err).toMatchObject({
              status: 'INVALID_ARGUMENT',
              reason: 'CORE_DECODE_FAILED',
              retryable: false,
            });
          }
          expect(env.probe.echoes).toBe(0);
          expect((await env.client.echo({ message: 'still serving' })).message).toBe('still serving');
          expect(env.probe.echoes).toBe(1);
        });
      });
    }

    describe('validation', () => {
      const validator = createContractValidator({ descriptors: [FILE_DESCRIPTOR_SET] });

      it("refuses a request that breaks its contract's rules with CORE_INVALID_MESSAGE naming field and rule, before any handler", async () => {
        await using env = await setup({ validator });
        const err = await refused(env.client.echo({ message: 'x'.repeat(4097) }));
        expect(err.toJSON()).toEqual({
          status: 'INVALID_ARGUMENT',
          reason: 'CORE_INVALID_MESSAGE',
          message:
            'refront.testing.v1.EchoRequest is invalid: message: must be at most 4096 characters [string.max_len]',
          details: {
            fieldViolations: [
              { field: 'message', description: 'must be at most 4096 characters', reason: 'string.max_len' },
            ],
          },
        });
        expect(err.retryable).toBe(false);
        expect(env.probe.echoes).toBe(0);
        expect((await env.client.echo({ message: 'x'.repeat(4096) })).message).toHaveLength(4096);
        expect(env.probe.echoes).toBe(1);
      });
    });

    describe('contracts read from descriptors', () => {
      // What `refront call` and the console's API explorer send: a client whose codecs are made
      // from the descriptor set (protobuf-es), not generated code (decision 0133).
      const catalog = createContractCatalog({ descriptors: [FILE_DESCRIPTOR_SET] });

      it('calls the generated server with JSON through a definition made from the descriptors, and gets its typed errors', async () => {
        await using env = await setup();
        const { service, method } = catalog.find('testing/Echo');
        const client = createClient(service.definition, env.channel, { caller: CONFORMANCE_CALLER });
        const res = await client[method.key]?.(
          catalog.requestFromJson(method, '{"message":"hé","payload":"AAH/"}'),
          {
            metadata: { 'x-refront-tenant': 'acme' },
          },
        );
        expect(catalog.messageType(method.responseType).toJSON(res as never)).toMatchObject({
          message: 'hé',
          payload: 'AAH/',
          seen: { caller: CONFORMANCE_CALLER, tenant: 'acme' },
        });
        expect(env.probe.echoes).toBe(1);
        const fail = catalog.find('testing/Fail');
        const err = await refused(
          client[fail.method.key]?.(
            catalog.requestFromJson(
              fail.method,
              '{"status":"NOT_FOUND","reason":"CONFORMANCE_GONE","message":"gone"}',
            ),
          ) as Promise<unknown>,
        );
        expect([err.status, err.reason, err.message]).toEqual(['NOT_FOUND', 'CONFORMANCE_GONE', 'gone']);
      });
    });

    describe('concurrency', () => {
      it('completes 200 concurrent calls, each with its own response', async () => {
        await using env = await setup();
        const calls = Array.from({ length: 200 }, (_, i) =>
          env.client.echo({ message: `call-${i}`, payload: Buffer.of(i & 0xff, i >> 8) }),
        );
        const results = await Promise.all(calls);
        results.forEach((res, i) => {
          expect(res.message).toBe(`call-${i}`);
          expect([...res.payload]).toEqual([i & 0xff, i >> 8]);
        });
      });

      it('pairs each of 200 concurrent successes and failures with its own call', async () => {
        await using env = await setup();
        const outcomes = await Promise.allSettled(
          Array.from({ length: 200 }, (_, i) =>
            i % 3 === 0
              ? env.client.fail({
                  status: 'NOT_FOUND',
                  reason: `CONFORMANCE_MISSING_${i}`,
                  message: `no ${i}`,
                })
              : env.client.echo({ message: `call-${i}` }).then((res) => res.message),
          ),
        );
        outcomes.forEach((o, i) => {
          if (i % 3 === 0) {
            expect(o.status).toBe('rejected');
            const e = o.status === 'rejected' ? o.reason : undefined;
            expect(isRefrontError(e) && [e.status, e.reason, e.message]).toEqual([
              'NOT_FOUND',
              `CONFORMANCE_MISSING_${i}`,
              `no ${i}`,
            ]);
          } else {
            expect(o.status === 'fulfilled' && o.value).toBe(`call-${i}`);
          }
        });
      });

      it('aborts every handler when 50 in-flight calls are cancelled, and keeps serving', async () => {
        await using env = await setup();
        const controllers = Array.from({ length: 50 }, () => new AbortController());
        const pending = controllers.map((c) =>
          rejection(env.client.sleep({ durationMs: 20_000 }, { signal: c.signal })),
        );
        await within(env.probe.sleepsStarted(50), 'the start of 50 Sleep handlers');
        const reasons = controllers.map((c, i) => {
          const reason = new Error(`cancel ${i}`);
          c.abort(reason);
          return reason;
        });
        const errors = await within(Promise.all(pending), "the callers' rejections");
        expect(errors.every((e, i) => e === reasons[i])).toBe(true);
        const ended = await within(
          Promise.all(Array.from({ length: 50 }, (_, i) => env.probe.sleepEnded(i))),
          "every handler's signal abort",
        );
        expect(ended.every((s) => s.aborted)).toBe(true);
        expect((await env.client.echo({ message: 'still serving' })).message).toBe('still serving');
      });
    });

    if (caps.channelCaller) describeCallerCases(factory);
    if (caps.tls) describeTlsCases(factory);
    if (caps.faults) describeFaultCases(factory);
    if (caps.discovery) describeDeliveryCases(factory);
    if (caps.discovery) describeBalancingCases(factory);
  });
}
