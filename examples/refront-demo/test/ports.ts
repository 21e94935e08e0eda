/**
 * Ports for the process topologies of the system tests. Each run takes a block of its own, so two
 * runs of a suite (or two suites) on one machine never bind the same port, and every port stays
 * below Linux's ephemeral range (32768-60999): a process the tests kill and restart gets its port
 * back, since no outgoing connection of any test can be holding it.
 */
import { createServer } from 'node:net';

const LOWEST = 10_000;
const HIGHEST = 32_767;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * The first port of `size` consecutive ports that are free on 127.0.0.1 now, at a random place
 * in 10000-32767 (so concurrent runs start apart and rarely probe the same block).
 *
 * @throws Error when 50 random blocks all had a port in use.
 * @example
 * const base = await freePortBlock(32); // base … base + 31 are free
 */
export async function freePortBlock(size: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const start = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST - size));
    let free = true;
    for (let p = start; p < start + size && free; p++) free = await bindable(p);
    if (free) return start;
  }
  throw new Error(`no ${size} consecutive free ports below ${HIGHEST}`);
}

/** The ports of one {@link LocalTopology}: the gateway's, and the first of each kind. */
export interface TopologyPorts {
  readonly gatewayPort: number;
  readonly grpcBasePort: number;
  readonly muxBasePort: number;
  readonly opsBasePort: number;
}

/**
 * Ports for a topology of at most `processes` processes (the gateway included), in one free
 * block: the gateway, then a gRPC, a mux and an ops port per process.
 *
 * @throws Error when no free block is found.
 * @example
 * const topology = new LocalTopology({ ...await topologyPorts(9), databaseUrl, amqpUrl });
 */
export async function topologyPorts(processes: number): Promise<TopologyPorts> {
  const base = await freePortBlock(1 + 3 * processes);
  return {
    gatewayPort: base,
    grpcBasePort: base + 1,
    muxBasePort: base + 1 + processes,
    opsBasePort: base + 1 + 2 * processes,
  };
}
