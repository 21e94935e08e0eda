/**
 * The billing saga on real PostgreSQL, with a process SIGKILLed at every step boundary in turn
 * (issue 23): a child hosting tickets and invoicing closes a period and kills itself at the
 * workflow's fault point; a fresh child resumes the run. Each period ends with exactly one
 * invoice whose lines are the period's entries, counted in the database.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type Database, openDatabase } from '@refront/data';
import { findInfra } from '@refront/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { priceMinutes } from './pricing.js';
import { billingRunId } from './saga.js';

const RUNNER = fileURLToPath(new URL('../platform/testing/billingRunner.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));
const SERVER = await findInfra('postgres');
const MINUTES = [90, 7, 45];
const RATE = 3_333;
/** Before the first step (lock), then after lock, price, apply-rate and issue. */
const POINTS = [
  { killAt: '0:before', journaled: 0 },
  { killAt: '0:after', journaled: 1 },
  { killAt: '1:after', journaled: 2 },
  { killAt: '2:after', journaled: 3 },
  { killAt: '3:after', journaled: 4 },
] as const;

function runChild(
  url: string,
  env: Record<string, string>,
): Promise<{ stdout: string; stderr: string; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@refront/source', '--import', 'tsx', RUNNER], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: url, NODE_OPTIONS: '', LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ stdout, stderr, signal }));
  });
}

describe.skipIf(SERVER === undefined)('billing saga: SIGKILL at every step boundary [postgres]', () => {
  const name = `refront_billcrash_${process.pid}_${randomUUID().slice(0, 6)}`;
  const url = new URL(SERVER ?? 'postgres://localhost');
  url.pathname = `/${name}`;
  const admin = () => openDatabase({ schema: 'refront_test_admin', url: SERVER, poolSize: 1 });
  let db: Database | undefined;

  beforeAll(async () => {
    const a = await admin();
    try {
      await a.query(`create database ${name}`);
    } finally {
      await a.close();
    }
  });
  afterAll(async () => {
    await db?.close();
    const a = await admin();
    try {
      await a.query(`drop database if exists ${name} with (force)`);
    } finally {
      await a.close();
    }
  });

  it('issues exactly one invoice of the period’s entries when killed before each step and resumed', async () => {
    const setup = await runChild(url.toString(), {
      MODE: 'setup',
      CUSTOMERS: String(POINTS.length),
      MINUTES: MINUTES.join(','),
    });
    expect(setup.signal, setup.stderr).toBeNull();
    const customers = JSON.parse(setup.stdout) as string[];
    expect(customers).toHaveLength(POINTS.length);
    db = await openDatabase({ schema: 'invoicing', url: url.toString(), poolSize: 1 });
    const journal = async (runId: string) =>
      (
        await (db as Database).query<{ name: string }>(
          'select name from refront_workflow_steps where run_id = $1 order by seq',
          [runId],
        )
      ).rows.map((r) => r.name);

    for (const [i, { killAt, journaled }] of POINTS.entries()) {
      const customerId = customers[i] ?? '';
      const key = `close-${customerId}`;
      const runId = billingRunId('acme', key);
      const env = { MODE: 'close', CUSTOMER: customerId, KEY: key };

      const killed = await runChild(url.toString(), { ...env, KILL_AT: killAt });
      expect(killed.signal, `${killAt}: ${killed.stderr}`).toBe('SIGKILL');
      expect(killed.stdout).toBe('');
      // The kill hit the run in flight: it had journaled exactly the steps before the boundary.
      const before = await db.query<{ state: string }>(
        'select state from refront_workflow_runs where id = $1',
        [runId],
      );
      expect(
        before.rows.map((r) => r.state),
        killAt,
      ).toEqual(['running']);
      expect((await journal(runId)).length, killAt).toBe(journaled);
      const invoicesBefore = await db.query('select 1 from invoices where customer_id = $1', [customerId]);
      expect(invoicesBefore.rowCount, killAt).toBe(journaled === 4 ? 1 : 0);

      const resumed = await runChild(url.toString(), { ...env, KILL_AT: 'none' });
      expect(resumed.signal, `${killAt}: ${resumed.stderr}`).toBeNull();
      expect(resumed.stdout, `${killAt}: ${resumed.stderr}`).not.toBe('');
      const { invoiceId } = JSON.parse(resumed.stdout) as { invoiceId: string };

      const run = await db.query<{ state: string }>('select state from refront_workflow_runs where id = $1', [
        runId,
      ]);
      expect(
        run.rows.map((r) => r.state),
        killAt,
      ).toEqual(['completed']);
      expect(await journal(runId), killAt).toEqual(['lock', 'price', 'apply-rate', 'issue']);
      const invoices = await db.query<{ id: string; total_minor: string; total_minutes: number }>(
        'select id, total_minor, total_minutes from invoices where customer_id = $1',
        [customerId],
      );
      expect(invoices.rows, killAt).toEqual([
        {
          id: invoiceId,
          total_minor: expect.anything(),
          total_minutes: MINUTES.reduce((s, m) => s + m, 0),
        },
      ]);
      const amounts = MINUTES.map((m) => priceMinutes(m, RATE));
      expect(Number(invoices.rows[0]?.total_minor), killAt).toBe(amounts.reduce((s, a) => s + a, 0));
      // Every entry is locked to this run and billed on this invoice, once, at the customer's rate.
      const entries = await db.query(
        `select minutes, amount_minor::int as amount, billing_run_id::text as run, invoice_id::text as invoice
         from billable_entries where customer_id = $1 order by work_date`,
        [customerId],
      );
      expect(entries.rows, killAt).toEqual(
        MINUTES.map((m, j) => ({ minutes: m, amount: amounts[j], run: runId, invoice: invoiceId })),
      );
      const steps = await db.query<{ name: string; outcome: string }>(
        'select name, outcome from billing_run_steps where run_id = $1 order by n',
        [runId],
      );
      expect(
        steps.rows.map((s) => `${s.name}:${s.outcome}`),
        killAt,
      ).toEqual(['lock:done', 'price:done', 'issue:done', 'publish:done']);
      const billing = await db.query('select state from billing_runs where id = $1', [runId]);
      expect(billing.rows, killAt).toEqual([{ state: 'issued' }]);
    }
  }, 300_000); // eleven Node processes, each loading TypeScript through tsx (2-10 s each on a loaded 2-core machine)
});
