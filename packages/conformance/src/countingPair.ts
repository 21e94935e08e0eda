import type { Registry, ServiceImplementation } from '@refront/core';
import { createMemoryRegistry } from '@refront/discovery';
import type { EchoServiceDefinition } from '@refront/test-contracts';
import { createEchoProbe } from './echoProbe.js';
import { logger, served } from './environment.js';
import { type FaultProxy, startFaultProxy } from './faultProxy.js';
import type { ConformanceServer, TransportFactory } from './TransportFactory.js';

/** The two instances of a {@link CountingPair}. */
export type PairInstance = 'a' | 'b';

/** The methods whose handler runs a {@link CountingPair} counts. */
export type CountedMethod = 'echo' | 'sleep';

/**
 * Two Echo instances (`a`, `b`) of one lane, each behind its own {@link FaultProxy}, registered
 * under `echo` at their proxies. Each handler run is counted where it lands; once armed, the next
 * handler to run cuts its own instance's proxy after it ran and before it answers: the call was
 * processed, its reply is lost.
 */
export interface CountingPair extends AsyncDisposable {
  /** The registry both instances are registered in (at their proxies). */
  readonly registry: Registry;
  /** The instance key (`echo/127.0.0.1:<proxy port>`) of each instance, as policies and breakers name it. */
  readonly keys: Readonly<Record<PairInstance, string>>;
  /** Handler runs of `method` on `instance`. */
  runs(instance: PairInstance, method: CountedMethod): number;
  /** Handler runs of `method` on both instances. */
  total(method: CountedMethod): number;
  /** Cut the proxy of the next handler that runs, once, after it ran and before it answers. */
  cutNext(): void;
}

/** An Echo implementation that counts its Echo and Sleep runs and names its instance in `seen.server`. */
function countingImplementation(
  name: PairInstance,
  ran: (name: PairInstance, method: CountedMethod) => Promise<void>,
): ServiceImplementation<typeof EchoServiceDefinition> {
  const probe = createEchoProbe().implementation;
  return {
    async echo(request, ctx) {
      const res = await probe.echo(request, ctx);
      await ran(name, 'echo');
      return { ...res, seen: { ...res.seen, server: name } };
    },
    async sleep(request, ctx) {
      const res = await probe.sleep(request, ctx);
      await ran(name, 'sleep');
      return res;
    },
    fail: (request, ctx) => probe.fail(request, ctx),
  };
}

/**
 * Starts a {@link CountingPair} of `factory`'s servers (a network lane: needs `addressOf`).
 *
 * @throws whatever starting a server, a proxy or registering throws (what started is closed first).
 * @example
 * await using pair = await startCountingPair(factory);
 * pair.cutNext();
 * // call echo through a channel discovering pair.registry: pair.total('echo') counts the runs
 */
export async function startCountingPair<H>(factory: TransportFactory<H>): Promise<CountingPair> {
  const addressOf = factory.addressOf;
  if (!addressOf) throw new Error('a counting pair needs factory.addressOf');
  const registry = createMemoryRegistry();
  const counts = new Map<string, number>();
  const proxies = new Map<PairInstance, FaultProxy>();
  const servers: ConformanceServer<H>[] = [];
  let armed = false;
  const ran = async (name: PairInstance, method: CountedMethod): Promise<void> => {
    counts.set(`${name}:${method}`, (counts.get(`${name}:${method}`) ?? 0) + 1);
    if (!armed) return;
    armed = false;
    await proxies.get(name)?.cut();
  };
  const dispose = async (): Promise<void> => {
    await registry[Symbol.asyncDispose]();
    for (const proxy of proxies.values()) await proxy.cut();
    await Promise.all(servers.map((s) => s.close()));
  };
  const keys = { a: '', b: '' };
  try {
    for (const name of ['a', 'b'] as const) {
      const server = await factory.startServer({
        service: 'echo',
        logger,
        contracts: [served(countingImplementation(name, ran))],
      });
      servers.push(server);
      const proxy = await startFaultProxy(addressOf(server.handle));
      proxies.set(name, proxy);
      keys[name] = `echo/127.0.0.1:${proxy.port}`;
      await registry.register(
        { id: name, service: 'echo', address: '127.0.0.1', port: proxy.port, metadata: {} },
        { check: { kind: 'ttl', ttlMs: 60_000 } },
      );
    }
  } catch (e: unknown) {
    await dispose();
    throw e;
  }
  const runs = (name: PairInstance, method: CountedMethod): number => counts.get(`${name}:${method}`) ?? 0;
  return {
    registry,
    keys,
    runs,
    total: (method) => runs('a', method) + runs('b', method),
    cutNext: () => {
      armed = true;
    },
    [Symbol.asyncDispose]: dispose,
  };
}
