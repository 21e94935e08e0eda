import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/** A TCP relay in front of a server, whose connections the suite can cut like a crash would. */
export interface FaultProxy extends AsyncDisposable {
  /** `127.0.0.1:<port>` to dial instead of the server. */
  readonly address: string;
  /** The port of {@link FaultProxy.address} (what a registry entry of the proxied instance gives). */
  readonly port: number;
  /**
   * Stops accepting and resets every relayed connection on both sides (TCP RST, as when the
   * server's host dies): clients see their connection torn down, the server sees its clients
   * vanish. Later dials are refused. Idempotent.
   */
  cut(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

/**
 * Starts a TCP relay on 127.0.0.1 to `target` (`host:port`). Bytes pass through untouched, TLS
 * included, so a lane's client and server do not know it is there until {@link FaultProxy.cut}.
 *
 * @throws the listen error when no port can be bound.
 * @example
 * await using proxy = await startFaultProxy('127.0.0.1:7070');
 * // dial proxy.address, then: await proxy.cut();
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const split = target.lastIndexOf(':');
  const host = target.slice(0, split).replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.slice(split + 1));
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  };
  const server = createServer({ noDelay: true }, (downstream) => {
    track(downstream);
    const upstream = tcpConnect({ host, port, noDelay: true });
    track(upstream);
    downstream.pipe(upstream);
    upstream.pipe(downstream);
    downstream.on('close', () => upstream.destroy());
    upstream.on('close', () => downstream.destroy());
  });
  const boundPort = await listen(server);
  let cutting: Promise<void> | undefined;
  const cut = (): Promise<void> => {
    cutting ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.resetAndDestroy();
    });
    return cutting;
  };
  return { address: `127.0.0.1:${boundPort}`, port: boundPort, cut, [Symbol.asyncDispose]: cut };
}

/**
 * A `127.0.0.1:<port>` nothing listens on: a port just bound and released, so a dial is refused
 * at once (as to an instance whose process is gone), never sent.
 *
 * @throws the listen error when no port can be bound.
 * @example
 * const dead = await refusingAddress();
 * // register dead as an instance: every dial to it gets ECONNREFUSED
 */
export async function refusingAddress(): Promise<string> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}
