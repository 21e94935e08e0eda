import { CoreErrors, type Registry, type ServiceInstance } from '@refront/core';
import type { RegisterOptions, ResolveOptions } from '@refront/core/transport';
import { type CheckStatus, httpProbe } from './internal/httpProbe.js';
import { LatestValue } from './internal/LatestValue.js';
import { callSignal, createRegistration } from './internal/registration.js';
import { sameSet, sortById } from './internal/sameInstances.js';
import { sleep } from './internal/timing.js';
import {
  DEFAULT_HTTP_CHECK_TIMEOUT_MS,
  freezeInstance,
  type ResolvedRegisterOptions,
  validateRegistration,
  validateServiceName,
} from './internal/validate.js';

interface Entry {
  readonly instance: ServiceInstance;
  readonly options: ResolvedRegisterOptions;
  readonly stop: AbortController;
  status: CheckStatus;
  criticalSince: number | undefined;
}

type InstanceSet = readonly ServiceInstance[];

/**
 * Creates the in-memory registry: the embedded default of the modular monolith, where every
 * service runs in one process. Nothing leaves the process and nothing needs to run.
 *
 * Health checks: a TTL check always passes while the instance is registered (the heartbeat and
 * the registry share one process, so a missed heartbeat cannot happen); an HTTP check is probed
 * for real every `intervalMs`, starting critical until the first probe passes, exactly as Consul
 * does. An instance critical for `deregisterCriticalAfterMs` is removed.
 *
 * @example
 * await using registry = createMemoryRegistry();
 * await using registration = await registry.register({
 *   id: 'tickets-1', service: 'tickets', address: '127.0.0.1', port: 50051, metadata: {},
 * });
 * const instances = await registry.resolve('tickets'); // [{ id: 'tickets-1', … }]
 */
export function createMemoryRegistry(): Registry & AsyncDisposable {
  const entries = new Map<string, Entry>();
  const feeds = new Map<string, LatestValue<InstanceSet>>();
  const closed = new AbortController();
  let closing: Promise<void> | undefined;

  const feed = (service: string): LatestValue<InstanceSet> => {
    let f = feeds.get(service);
    if (!f) {
      f = new LatestValue<InstanceSet>(sameSet);
      f.set(healthy(service));
      feeds.set(service, f);
    }
    return f;
  };
  const healthy = (service: string): InstanceSet =>
    Object.freeze(
      sortById(
        [...entries.values()]
          .filter((e) => e.instance.service === service && e.status === 'passing')
          .map((e) => e.instance),
      ),
    );
  const publish = (service: string): void => {
    feeds.get(service)?.set(healthy(service));
  };
  const remove = (entry: Entry): void => {
    if (entries.get(entry.instance.id) !== entry) return;
    entries.delete(entry.instance.id);
    entry.stop.abort();
    publish(entry.instance.service);
  };
  const assertOpen = (): void => {
    if (closed.signal.aborted) throw CoreErrors.CLOSED('the memory registry');
  };

  async function probeLoop(entry: Entry, url: string, intervalMs: number, timeoutMs: number): Promise<void> {
    const signal = entry.stop.signal;
    while (!signal.aborted) {
      const status = await httpProbe(url, timeoutMs, signal);
      if (signal.aborted) return;
      entry.status = status;
      entry.criticalSince = status === 'critical' ? (entry.criticalSince ?? Date.now()) : undefined;
      publish(entry.instance.service);
      const criticalFor = entry.criticalSince === undefined ? 0 : Date.now() - entry.criticalSince;
      if (criticalFor >= entry.options.deregisterCriticalAfterMs) return remove(entry);
      await sleep(intervalMs, signal);
    }
  }

  return {
    async register(instance: ServiceInstance, options: RegisterOptions = {}) {
      assertOpen();
      options.signal?.throwIfAborted();
      const resolved = validateRegistration(instance, options);
      const frozen = freezeInstance(instance);
      // Replace in place (no publish in between), so watchers never see the instance vanish.
      entries.get(frozen.id)?.stop.abort();
      const { check } = resolved;
      const entry: Entry = {
        instance: frozen,
        options: resolved,
        stop: new AbortController(),
        status: check.kind === 'ttl' ? 'passing' : 'critical',
        criticalSince: check.kind === 'ttl' ? undefined : Date.now(),
      };
      const previous = entries.get(frozen.id);
      entries.set(frozen.id, entry);
      if (previous && previous.instance.service !== frozen.service) publish(previous.instance.service);
      publish(frozen.service);
      if (check.kind === 'http') {
        void probeLoop(entry, check.url, check.intervalMs, check.timeoutMs ?? DEFAULT_HTTP_CHECK_TIMEOUT_MS);
      }
      return createRegistration(frozen, async () => remove(entry));
    },

    async deregister(instanceId: string, options: ResolveOptions = {}) {
      assertOpen();
      options.signal?.throwIfAborted();
      const entry = entries.get(instanceId);
      if (entry) remove(entry);
    },

    async resolve(service: string, options: ResolveOptions = {}) {
      assertOpen();
      options.signal?.throwIfAborted();
      validateServiceName(service);
      return healthy(service);
    },

    watch(service: string, options: ResolveOptions = {}) {
      validateServiceName(service);
      return feed(service).values(callSignal(closed.signal, options.signal));
    },

    close() {
      closing ??= (async () => {
        closed.abort();
        for (const entry of entries.values()) entry.stop.abort();
        entries.clear();
        for (const f of feeds.values()) f.wake();
      })();
      return closing;
    },

    [Symbol.asyncDispose]() {
      return this.close();
    },
  };
}
