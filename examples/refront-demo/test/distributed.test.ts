/**
 * The distributed topology end to end: `npm run demo:distributed -- --once` starts every service
 * as its own process on mux and gRPC, RabbitMQ and PostgreSQL (invoicing ×3), runs the walk through
 * the gateway with requests on the default lane (REFRONT_RPC unset: mux) and on gRPC
 * (REFRONT_RPC=grpc), and stops them all. Needs the local PostgreSQL and RabbitMQ.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { infrastructure } from './topology.js';

const infra = await infrastructure('the distributed topology test');

describe.skipIf(!infra)('distributed topology', () => {
  it.each([
    ['mux', 'unset (the default)', '18190', '21161', '19581'],
    ['grpc', 'grpc', '18180', '21151', '19571'],
  ])(
    'runs the walk across 9 processes with requests on %s (REFRONT_RPC %s), and stops them all cleanly',
    { timeout: 180_000 },
    async (lane, rpc, gatewayPort, grpcPort, opsPort) => {
      const entry = fileURLToPath(new URL('../src/distributed.ts', import.meta.url));
      const { REFRONT_RPC: _, ...inherited } = process.env;
      const child = spawn(
        process.execPath,
        ['--conditions=@refront/source', '--import', 'tsx', entry, '--once'],
        {
          env: {
            ...inherited,
            GATEWAY_PORT: gatewayPort,
            GRPC_BASE_PORT: grpcPort,
            OPS_BASE_PORT: opsPort,
            ...(rpc === 'grpc' ? { REFRONT_RPC: rpc } : {}),
            LOG_LEVEL: 'warn',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(out, out).toMatch(new RegExp(`9 processes ready \\(requests on ${lane}\\)`));
      expect(code, out).toBe(0);
      expect(out).toMatch(/run issued: lock done → price done → issue done → publish done/);
      const invoice = /total 290 min = EUR ([\d.]+)/.exec(out)?.[1];
      expect(invoice).toBe('459.17');
      expect(out).toMatch(/report total EUR 459\.17 = invoice INV-\d+ EUR 459\.17/);
      expect(out).toMatch(/Stopped 9 processes\./);
      expect(out).not.toMatch(/failed to (close|drain)/);
    },
  );
});
