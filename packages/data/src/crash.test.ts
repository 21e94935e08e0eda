import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInProcessEventBus, on } from '@refront/core';
import type { EventEnvelope } from '@refront/core/transport';
import { ThingHappened } from '@refront/test-contracts';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createOutbox } from './Outbox.js';
import { openDatabase } from './openDatabase.js';
import { POSTGRES_URL, postgresUp, silent, uniqueSchema } from './testing/engines.js';

const FIXTURE = fileURLToPath(new URL('./testing/crashWriter.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

function runWriter(
  schema: string,
): Promise<{ stdout: string; stderr: string; signal: NodeJS.Signals | null; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@refront/source', '--import', 'tsx', FIXTURE], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: POSTGRES_URL, SCHEMA: schema, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ stdout, stderr, signal, code }));
  });
}

describe.skipIf(!postgresUp)('outbox: crash between commit and publish [postgres]', () => {
  const schema = uniqueSchema('crash');
  afterAll(async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  it('publishes the committed event exactly once after a restart, with its id and traceparent', async () => {
    const writer = await runWriter(schema);
    expect(writer.stderr).not.toContain('the relay published before the crash');
    expect(writer.signal).toBe('SIGKILL');
    const written = JSON.parse(writer.stdout.trim()) as EventEnvelope;
    expect(written.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');

    await using db = await openDatabase({ schema, url: POSTGRES_URL, logger: silent });
    expect((await db.query('select id from things')).rows).toEqual([{ id: 'thing-1' }]);
    const bus = createInProcessEventBus({ service: 'writer', logger: silent });
    const received: EventEnvelope[] = [];
    await bus.subscribe('watchers', [on(ThingHappened, async (_e, ctx) => void received.push(ctx.envelope))]);
    await using outbox = createOutbox({ db, source: 'writer', publisher: bus, pollIntervalMs: 20 });
    expect(await outbox.pending()).toBe(1);
    outbox.start();
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(1);
    await outbox.flush(); // a few more relay passes: nothing left to send
    await new Promise((r) => setTimeout(r, 100));
    expect(received).toHaveLength(1);
    expect(received[0]).toEqual(written);
    expect(await outbox.pending()).toBe(0);
    await bus.close();
  });
});
