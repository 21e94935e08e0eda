/**
 * A TCP relay in front of a server that can cut: the demo's fault tests put one in front of each
 * instance, so a connection can be lost at an exact point of a handler (the transports keep the
 * same relay in their own test fixtures, which they do not export).
 */
import { createServer, type Socket, connect as tcpConnect } from 'node:net';

/** A TCP relay; `cut()` resets every relayed connection and refuses later dials. */
export interface CuttingRelay {
  /** The relay's port on 127.0.0.1. */
  readonly port: number;
  /** How many connections it accepted. */
  readonly accepted: number;
  /** Resets every relayed connection and stops listening; resolves once it is closed. Idempotent. */
  cut(): Promise<void>;
}

/**
 * Starts a relay on 127.0.0.1 (a free port) to `127.0.0.1:port`.
 *
 * @throws the listen error when no port can be bound.
 * @example
 * const relay = await startRelay(server.port);
 * await registry.register({ id: 'a', service: 'echo', address: '127.0.0.1', port: relay.port, metadata: {} });
 * await relay.cut(); // the caller's connection is reset with whatever was in flight
 */
export async function startRelay(port: number): Promise<CuttingRelay> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  const server = createServer({ noDelay: true }, (down) => {
    accepted++;
    const up = tcpConnect({ host: '127.0.0.1', port, noDelay: true });
    track(down);
    track(up);
    down.pipe(up);
    up.pipe(down);
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
  });
  const bound = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
  let cutting: Promise<void> | undefined;
  return {
    port: bound,
    get accepted() {
      return accepted;
    },
    cut: () => {
      cutting ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.resetAndDestroy();
      });
      return cutting;
    },
  };
}
