/**
 * The distributed topology end to end: `npm run demo:distributed -- --once` starts every service
 * as its own process on gRPC, RabbitMQ and PostgreSQL (invoicing ×3), runs the walk through the
 * gateway and stops them all. Needs the local PostgreSQL and RabbitMQ.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { infrastructure } from './topology.js';

const infra = await infrastructure('the distributed topology test');

describe.skipIf(!infra)('distributed topology', () => {
  it('runs the walk across 9 processes and stops them all cleanly', { timeout: 180_000 }, async () => {
    const entry = fileURLToPath(new URL('../src/distributed.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--conditions=@refront/source', '--import', 'tsx', entry, '--once'],
      {
        env: {
          ...process.env,
          GATEWAY_PORT: '18180',
          GRPC_BASE_PORT: '21151',
          OPS_BASE_PORT: '19571',
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
    expect(out, out).toMatch(/9 processes ready/);
    expect(code, out).toBe(0);
    expect(out).toMatch(/run issued: lock done → price done → issue done → publish done/);
    const invoice = /total 290 min = EUR ([\d.]+)/.exec(out)?.[1];
    expect(invoice).toBe('459.17');
    expect(out).toMatch(/report total EUR 459\.17 = invoice INV-\d+ EUR 459\.17/);
    expect(out).toMatch(/Stopped 9 processes\./);
    expect(out).not.toMatch(/failed to (close|drain)/);
  });
});
