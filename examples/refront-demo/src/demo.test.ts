import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createClient,
  createInProcessEventBus,
  createInProcessNetwork,
  createLogger,
  createRequestContext,
  createService,
  isRefrontError,
  runWithContext,
} from '@refront/core';
import { describe, expect, it } from 'vitest';
import { TicketsServiceDefinition } from './gen/refront/demo/v1/tickets.js';
import { notificationsModule } from './notifications/service.js';
import { runMonolith } from './platform.js';
import { ticketsModule } from './tickets/service.js';
import { walk } from './walk.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const logger = createLogger({ service: 'demo-test', level: 'silent' });

async function monolith() {
  const host = createService({
    name: 'demo-test',
    version: '0',
    logger,
    handleSignals: false,
    opsPort: false,
  });
  const network = createInProcessNetwork();
  const bus = createInProcessEventBus({ service: 'demo-test', logger, metrics: host.metrics });
  await runMonolith(host, network, bus, [ticketsModule, notificationsModule]);
  await host.start();
  return { host, network, [Symbol.asyncDispose]: () => host.stop() };
}

describe('refront-demo monolith', () => {
  it('walks the main flow: a ticket is created, read back, and its event notifies the tenant', async () => {
    await using m = await monolith();
    const lines: string[] = [];
    const result = await walk(m.network.channel(), logger, (l) => lines.push(l));
    expect(result.notifications).toBe(1);
    expect(lines.join('\n')).toContain('INVALID_ARGUMENT TICKETS_INVALID_TICKET');
  });

  it("keeps tenants apart: one tenant cannot read another's ticket", async () => {
    await using m = await monolith();
    const tickets = createClient(TicketsServiceDefinition, m.network.channel(), { caller: 'test' });
    const as = <T>(tenant: string, fn: () => Promise<T>) =>
      runWithContext(createRequestContext({ service: 'test', logger, tenant }), fn);
    const { ticket } = await as('acme', () => tickets.createTicket({ title: 'mine' }));
    const err = await as('globex', () => tickets.getTicket({ id: ticket!.id })).catch((e: unknown) => e);
    expect(isRefrontError(err) && err.status).toBe('NOT_FOUND');
  });

  it('runs as `npm run demo -- --once` and exits 0 after the walk', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=@refront/source', '--import', 'tsx', path.join(here, 'demo.ts'), '--once'],
      {
        cwd: path.resolve(here, '../../..'),
        env: { ...process.env, OPS_PORT: '0' },
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(out).toContain('Walk done');
    expect(code).toBe(0);
  });
});
