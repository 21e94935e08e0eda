/** Test fixtures for what a retry may repeat: Echo servers that count their handlers, and a relay that cuts. */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import type { Registry, ServiceImplementation } from '@refront/core';
import { createMemoryRegistry } from '@refront/discovery';
import { createGrpcServer, type GrpcServer } from '../GrpcServer.js';
import { EchoServiceDefinition, logger } from './fixtures.js';

/** A TCP relay in front of a server; `cut()` resets every relayed connection and refuses later dials. */
export interface CuttingRelay {
  readonly port: number;
  cut(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

/** Starts a relay on 127.0.0.1 to `port`. */
export async function startRelay(port: number): Promise<CuttingRelay> {
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  const server = createServer({ noDelay: true }, (down) => {
    const up = tcpConnect({ host: '127.0.0.1', port, noDelay: true });
    track(down);
    track(up);
    down.pipe(up);
    up.pipe(down);
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
  });
  const bound = await listen(server);
  let cutting: Promise<void> | undefined;
  return {
    port: bound,
    cut: () => {
      cutting ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.resetAndDestroy();
      });
      return cutting;
    },
  };
}

/** A free port of 127.0.0.1 nothing listens on (connections to it are refused). */
export async function refusingPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Two Echo instances (`a`, `b`) behind relays, registered under `echo`. Each handler run is
 * counted where it lands (`runs`); when `cutFirst` is set, the first handler to run cuts its own
 * instance's relay after it ran and before it answers: the call was processed, its reply is lost.
 */
export interface CountingPair extends AsyncDisposable {
  readonly registry: Registry & AsyncDisposable;
  /** Handler runs per instance and method (`a:echo`, `b:sleep`…). */
  readonly runs: Map<string, number>;
  /** The instance key (`echo/127.0.0.1:<relay port>`) of each instance. */
  readonly keys: Record<'a' | 'b', string>;
  /** Cut the relay of the next handler that runs, once. */
  cutNext(): void;
  /** Handler runs of `method` on both instances. */
  total(method: 'echo' | 'sleep'): number;
}

export async function startCountingPair(): Promise<CountingPair> {
  const registry = createMemoryRegistry();
  const runs = new Map<string, number>();
  const relays: Partial<Record<'a' | 'b', CuttingRelay>> = {};
  const servers: GrpcServer[] = [];
  let cut = false;
  const ran = async (name: 'a' | 'b', method: string): Promise<void> => {
    runs.set(`${name}:${method}`, (runs.get(`${name}:${method}`) ?? 0) + 1);
    if (cut) {
      cut = false;
      await relays[name]?.cut();
    }
  };
  const keys = { a: '', b: '' };
  for (const name of ['a', 'b'] as const) {
    const impl: ServiceImplementation<typeof EchoServiceDefinition> = {
      async echo(request) {
        await ran(name, 'echo');
        return { message: request.message, payload: request.payload, seen: { server: name } };
      },
      async sleep() {
        await ran(name, 'sleep');
        return { aborted: false };
      },
      async fail() {
        return {};
      },
    };
    const server = createGrpcServer({ service: 'echo', logger, host: '127.0.0.1' });
    server.add(EchoServiceDefinition, impl);
    await server.start();
    servers.push(server);
    const relay = await startRelay(server.port);
    relays[name] = relay;
    keys[name] = `echo/127.0.0.1:${relay.port}`;
    await registry.register(
      { id: name, service: 'echo', address: '127.0.0.1', port: relay.port, metadata: {} },
      { check: { kind: 'ttl', ttlMs: 60_000 } },
    );
  }
  return {
    registry,
    runs,
    keys,
    cutNext: () => {
      cut = true;
    },
    total: (method) => (runs.get(`a:${method}`) ?? 0) + (runs.get(`b:${method}`) ?? 0),
    async [Symbol.asyncDispose]() {
      await registry[Symbol.asyncDispose]();
      for (const r of Object.values(relays)) await r.cut();
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}
