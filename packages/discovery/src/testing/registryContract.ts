import { randomUUID } from 'node:crypto';
import { isRefrontError, type Registry, type ServiceInstance } from '@refront/core';
import { describe, expect, it } from 'vitest';
import { recordWatch } from './collect.js';
import { startHealthEndpoint } from './healthEndpoint.js';

/** A backend under the shared contract. */
export interface ContractSubject extends AsyncDisposable {
  readonly registry: Registry;
  /** A second registry on the same backend, to see what the subject leaves behind after close. */
  readonly observer?: Registry;
}

/** What a backend can do, so the suite defines only the tests that apply to it. */
export interface ContractTraits {
  /** Whether `register` makes instances resolvable (false for static and DNS). */
  readonly registers: boolean;
  /** For read-only backends: a configured service and the ids it must resolve to. */
  readonly seeded?: { readonly service: string; readonly ids: readonly string[] };
  /** HTTP check interval to register with, in ms (a real agent runs checks at most every 1 s). @default 50 */
  readonly checkIntervalMs?: number;
  /** Whether critical instances are reaped within a second (a real agent waits at least 1 min). */
  readonly reapsQuickly?: boolean;
  /** Whether the subject comes with an `observer`. */
  readonly observes?: boolean;
}

const POLL = { timeout: 10_000, interval: 20 };

function instance(service: string, n: number, extra: Partial<ServiceInstance> = {}): ServiceInstance {
  return { id: `${service}-${n}`, service, address: '127.0.0.1', port: 40_000 + n, metadata: {}, ...extra };
}

async function reasonOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e: unknown) {
    return isRefrontError(e) ? e.reason : `not a RefrontError: ${String(e)}`;
  }
  return 'resolved';
}

/**
 * The one contract every {@link Registry} backend passes. Each backend's test file calls it with
 * a factory; tests needing `register` run only where it registers, and say so in their names.
 */
export function registryContract(
  name: string,
  traits: ContractTraits,
  make: () => Promise<ContractSubject>,
): void {
  const svc = () => `svc-${randomUUID().slice(0, 8)}`;

  describe(`${name}: registry contract`, () => {
    it('resolves an unknown service to an empty set', async () => {
      await using s = await make();
      expect(await s.registry.resolve(svc())).toEqual([]);
    });

    it('yields an empty set first when watching an unknown service', async () => {
      await using s = await make();
      await using rec = recordWatch((signal) => s.registry.watch(svc(), { signal }));
      await expect.poll(() => rec.sets.length, POLL).toBe(1);
      expect(rec.sets[0]).toEqual([]);
    });

    it('rejects an invalid instance with DISCOVERY_INVALID_INSTANCE and every violation', async () => {
      await using s = await make();
      const bad = { id: '', service: 'tickets', address: '', port: 70_000, metadata: {} };
      const e = await s.registry.register(bad).catch((x: unknown) => x);
      expect(isRefrontError(e) && e.reason).toBe('DISCOVERY_INVALID_INSTANCE');
      expect(isRefrontError(e) && e.status).toBe('INVALID_ARGUMENT');
      const fields = isRefrontError(e) ? e.details.fieldViolations?.map((v) => v.field) : [];
      expect(fields).toEqual(['id', 'address', 'port']);
      const badCheck = s.registry.register(instance('tickets', 1), { check: { kind: 'ttl', ttlMs: 0 } });
      expect(await reasonOf(badCheck)).toBe('DISCOVERY_INVALID_INSTANCE');
    });

    it('rejects an empty service name with DISCOVERY_INVALID_SERVICE', async () => {
      await using s = await make();
      expect(await reasonOf(s.registry.resolve(''))).toBe('DISCOVERY_INVALID_SERVICE');
    });

    it('rethrows the reason of an aborted signal unchanged', async () => {
      await using s = await make();
      const reason = new Error('caller gave up');
      await expect(s.registry.resolve(svc(), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    });

    it('ends a running watch when its signal aborts', async () => {
      await using s = await make();
      const rec = recordWatch((signal) => s.registry.watch(svc(), { signal }));
      await expect.poll(() => rec.sets.length, POLL).toBe(1);
      await rec.stop();
      expect(rec.error()).toBeUndefined();
    });

    it('closes idempotently, ending running watches; later calls fail with CORE_CLOSED', async () => {
      const s = await make();
      const rec = recordWatch((signal) => s.registry.watch(svc(), { signal }));
      await expect.poll(() => rec.sets.length, POLL).toBe(1);
      await Promise.all([s.registry.close(), s.registry.close()]);
      await rec.ended;
      expect(rec.error()).toBeUndefined();
      expect(await reasonOf(s.registry.resolve('tickets'))).toBe('CORE_CLOSED');
      await s[Symbol.asyncDispose]();
    });

    const seeded = traits.seeded;
    if (seeded) {
      it('resolves the configured set, and watch yields it first', async () => {
        await using s = await make();
        const ids = [...seeded.ids].sort();
        expect((await s.registry.resolve(seeded.service)).map((i) => i.id)).toEqual(ids);
        await using rec = recordWatch((signal) => s.registry.watch(seeded.service, { signal }));
        await expect.poll(() => rec.latestIds(), POLL).toEqual(ids);
      });
    }

    if (!traits.registers) {
      it('validates on register and changes nothing', async () => {
        await using s = await make();
        const service = seeded?.service ?? svc();
        await using reg = await s.registry.register(instance(service, 99));
        expect(reg.instance.id).toBe(`${service}-99`);
        expect((await s.registry.resolve(service)).map((i) => i.id)).not.toContain(reg.instance.id);
        await expect(s.registry.deregister(reg.instance.id)).resolves.toBeUndefined();
      });
      return;
    }

    describe('register', () => {
      const registering = make;

      it('resolves a registered instance with id, address, port, version, zone and metadata', async () => {
        await using s = await registering();
        const service = svc();
        const full = instance(service, 1, {
          version: '1.4.2',
          zone: 'eu-west-1a',
          metadata: { protocol: 'grpc' },
        });
        await using reg = await s.registry.register(full);
        expect(reg.instance).toEqual(full);
        expect(await s.registry.resolve(service)).toEqual([full]);
      });

      it('removes a deregistered instance from resolve and from a running watch', async () => {
        await using s = await registering();
        const service = svc();
        await s.registry.register(instance(service, 1));
        await s.registry.register(instance(service, 2));
        await using rec = recordWatch((signal) => s.registry.watch(service, { signal }));
        await expect.poll(() => rec.latestIds(), POLL).toEqual([`${service}-1`, `${service}-2`]);
        await s.registry.deregister(`${service}-1`);
        await expect.poll(() => rec.latestIds(), POLL).toEqual([`${service}-2`]);
        expect((await s.registry.resolve(service)).map((i) => i.id)).toEqual([`${service}-2`]);
      });

      it('deregisters through the Registration, idempotently, and through await using', async () => {
        await using s = await registering();
        const service = svc();
        const reg = await s.registry.register(instance(service, 1));
        await Promise.all([reg.deregister(), reg.deregister()]);
        await reg.deregister();
        expect(await s.registry.resolve(service)).toEqual([]);
        {
          await using _scoped = await s.registry.register(instance(service, 2));
          expect(await s.registry.resolve(service)).toHaveLength(1);
        }
        expect(await s.registry.resolve(service)).toEqual([]);
      });

      it('treats deregistering an unknown id as success', async () => {
        await using s = await registering();
        await expect(s.registry.deregister(`missing-${randomUUID()}`)).resolves.toBeUndefined();
      });

      it('drops an instance whose HTTP check goes critical from resolve and a running watch, and brings it back', async () => {
        await using s = await registering();
        await using health = await startHealthEndpoint();
        const service = svc();
        const intervalMs = traits.checkIntervalMs ?? 50;
        await s.registry.register(instance(service, 1));
        await s.registry.register(instance(service, 2), {
          check: { kind: 'http', url: health.url, intervalMs },
        });
        await using rec = recordWatch((signal) => s.registry.watch(service, { signal }));
        await expect.poll(() => rec.latestIds(), POLL).toEqual([`${service}-1`, `${service}-2`]);
        health.setHealthy(false);
        await expect.poll(() => rec.latestIds(), POLL).toEqual([`${service}-1`]);
        expect((await s.registry.resolve(service)).map((i) => i.id)).toEqual([`${service}-1`]);
        health.setHealthy(true);
        await expect.poll(() => rec.latestIds(), POLL).toEqual([`${service}-1`, `${service}-2`]);
      });

      if (traits.reapsQuickly)
        it('deregisters an instance critical for longer than deregisterCriticalAfterMs', async () => {
          await using s = await registering();
          await using health = await startHealthEndpoint();
          health.setHealthy(false);
          const service = svc();
          const check = { kind: 'http', url: health.url, intervalMs: 30 } as const;
          await s.registry.register(instance(service, 1), { check, deregisterCriticalAfterMs: 150 });
          await using rec = recordWatch((signal) => s.registry.watch(service, { signal }));
          await new Promise((r) => setTimeout(r, 400));
          health.setHealthy(true);
          await new Promise((r) => setTimeout(r, 200));
          expect(await s.registry.resolve(service)).toEqual([]);
          expect(rec.sets.every((set) => set.length === 0)).toBe(true);
        });

      it('replaces an instance re-registered under the same id', async () => {
        await using s = await registering();
        const service = svc();
        await s.registry.register(instance(service, 1));
        await using rec = recordWatch((signal) => s.registry.watch(service, { signal }));
        await expect.poll(() => rec.sets.at(-1)?.[0]?.port, POLL).toBe(40_001);
        await s.registry.register(instance(service, 1, { port: 41_001 }));
        await expect.poll(() => rec.sets.at(-1)?.map((i) => i.port), POLL).toEqual([41_001]);
      });

      it('emits from a watch only when the set changes', async () => {
        await using s = await registering();
        const service = svc();
        await s.registry.register(instance(service, 1));
        await using rec = recordWatch((signal) => s.registry.watch(service, { signal }));
        await expect.poll(() => rec.sets.length, POLL).toBe(1);
        await s.registry.register(instance(svc(), 7));
        await s.registry.register(instance(service, 1));
        await new Promise((r) => setTimeout(r, 300));
        expect(rec.sets).toHaveLength(1);
        await s.registry.register(instance(service, 2));
        await expect.poll(() => rec.sets.length, POLL).toBe(2);
      });

      if (traits.observes)
        it('deregisters what it registered when closed', async () => {
          await using s = await registering();
          if (!s.observer) throw new Error('traits.observes needs an observer');
          const service = svc();
          await s.registry.register(instance(service, 1));
          expect(await s.observer.resolve(service)).toHaveLength(1);
          await s.registry.close();
          expect(await s.observer.resolve(service)).toEqual([]);
        });
    });
  });
}
