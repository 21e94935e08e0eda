import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP health endpoint whose answer a test flips: 200 when healthy, 503 when not. */
export interface HealthEndpoint extends AsyncDisposable {
  readonly url: string;
  setHealthy(healthy: boolean): void;
  close(): Promise<void>;
}

/** Starts a {@link HealthEndpoint} on 127.0.0.1, healthy at first. */
export async function startHealthEndpoint(): Promise<HealthEndpoint> {
  let healthy = true;
  const server = createServer((_req, res) => {
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' });
    res.end(healthy ? 'ok' : 'unhealthy');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
    return closing;
  };
  return {
    url,
    setHealthy(h: boolean) {
      healthy = h;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
