import { createServer, type Socket } from 'node:net';

/** A TCP server that accepts connections and never answers. */
export interface SilentServer extends AsyncDisposable {
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  /** Resets its connections and stops listening; idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a TCP server on 127.0.0.1 that accepts every connection, reads and drops whatever
 * arrives, and never writes a byte: a peer that is hung, or a port some other program holds.
 *
 * @example
 * await using silent = await startSilentServer();
 * // a call to silent.address with a deadline must end with DEADLINE_EXCEEDED at that deadline
 */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.resume();
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.resetAndDestroy();
    });
    return closing;
  };
  return { address: `127.0.0.1:${port}`, close, [Symbol.asyncDispose]: close };
}
