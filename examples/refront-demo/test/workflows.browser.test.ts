/**
 * The console's Workflows view and the Services view's sparklines in a real headless browser
 * (Debian's chromium, driven by playwright-core): the monolith walks its main flow, which closes a
 * billing period with the billing saga on `@refront/workflow`; the console lists the run as
 * completed and shows its journal (lock, price, apply-rate, issue) with a link to its trace, and
 * the Services view draws RED sparklines from its periodic samples of `/metrics`. Then the
 * operator's actions: a billing run whose compensation is dead-lettered (an accounting freeze, a
 * trigger on the billable entries, refuses both pricing and unlocking) is retried from the page
 * once the freeze is lifted and ends compensated; a billing run held between two steps is
 * cancelled from the page and compensates. (The demo has no workflow that waits for a signal:
 * cancelling a waiting run is tested in packages/console/src/workflowActions.test.ts.)
 *
 * Screenshots go to REFRONT_CONSOLE_SCREENSHOTS when set (docs/console/ for the docs), else to a
 * temporary folder.
 */
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settle } from '../src/platform/settle.js';
import { type Platform, startPlatform } from '../src/platform/startPlatform.js';
import { previousMonth, walk } from '../src/walk.js';
import { chromiumAvailable, launchChromium, screenshotDir } from './browser.js';
import { devToken, http } from './http.js';

const screenshots = screenshotDir();

describe.skipIf(!chromiumAvailable())('the console’s Workflows view in a browser (monolith)', () => {
  let platform: Platform;
  let browser: BrowserContext;
  let page: Page;
  let consoleUrl: string;
  /** Holds the billing runs of the tenant `hold` names after their price step, until released. */
  const hold: { tenant: string | undefined; reached: () => void; release: Promise<void> } = {
    tenant: undefined,
    reached: () => undefined,
    release: Promise.resolve(),
  };

  beforeAll(async () => {
    platform = await startPlatform({
      gatewayPort: 0,
      opsPort: 0,
      console: { port: 0, development: true },
      invoicingWorkflow: {
        // A compensation is dead-lettered after two attempts, not ten (with up to 30 s between them).
        compensationMaxAttempts: 2,
        minBackoffMs: 50,
        // The console's control writes requests to the journal: the engine's sweep carries them out.
        pollIntervalMs: 100,
        faultPoint: async (p) => {
          if (hold.tenant === undefined || p.step !== 'price' || p.when !== 'after') return;
          const tenant = await platform.databases
            .get('invoicing')
            ?.query<{ tenant_id: string }>('select tenant_id from billing_runs where id = $1', [p.runId]);
          if (tenant?.rows[0]?.tenant_id !== hold.tenant) return;
          hold.reached();
          await hold.release;
        },
      },
    });
    consoleUrl = platform.console?.url as string;
    // The whole platform on embedded PostgreSQL: 27 s alone on a loaded 2-core machine (every module's migrations).
  }, 120_000);

  beforeAll(async () => {
    ({ browser, page } = await launchChromium());
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('shows the billing run completed with its steps, and opens its trace', async () => {
    await walk({ baseUrl: platform.gatewayUrl, print: () => undefined, settle: () => settle(platform) });
    await platform.flushTraces();

    await page.goto(`${consoleUrl}/#/workflows`);
    const run = page.locator(
      '[data-testid=workflow-service][data-service=invoicing] [data-testid=workflow-run][data-workflow=close-billing-period]',
    );
    await expect.poll(() => run.count()).toBe(1);
    expect(await run.locator('[data-testid=run-state]').textContent()).toBe('completed');
    expect(await run.textContent()).toContain('acme');
    await page.screenshot({ path: join(screenshots, 'workflows.png'), fullPage: true });

    await run.click();
    const steps = page.locator('[data-testid=step-timeline] [data-testid=step]');
    await expect
      .poll(() => steps.evaluateAll((els) => els.map((e) => e.getAttribute('data-step'))))
      .toEqual(['lock', 'price', 'apply-rate', 'issue']);
    expect(await page.locator('[data-testid=run-state]').textContent()).toBe('completed');
    // lock registered the unlock compensation; the run completed, so it never ran.
    const compensation = page.locator('[data-testid=compensation]');
    expect(await compensation.getAttribute('data-state')).toBe('pending');
    expect(await compensation.textContent()).toContain('unlock');
    await page.screenshot({ path: join(screenshots, 'workflow-run.png'), fullPage: true });

    // The run belongs to the trace of the request that closed the period.
    await page.locator('[data-testid=run-trace]').click();
    const waterfall = page.locator('[data-testid=waterfall]');
    await expect
      .poll(() => waterfall.textContent(), { timeout: 20_000 })
      .toContain('workflow.step close-billing-period/issue');
    expect(await waterfall.textContent()).toContain('POST /v1/billing-runs');
    // The walk makes some thirty calls and waits for their events, then the page polls.
  }, 120_000);

  it('draws RED sparklines per method and consumer group in Services', async () => {
    await page.goto(`${consoleUrl}/#/services`);
    const rows = page.locator('[data-testid=red-row]');
    await expect.poll(() => rows.count()).toBeGreaterThan(3);
    // The console samples /metrics every 5 s: a line needs two samples, taken after the walk's calls.
    const drawn = page.locator('[data-testid=red-row] [data-testid=sparkline]:not([data-points="0"])');
    await expect.poll(() => drawn.count(), { timeout: 20_000 }).toBeGreaterThan(0);
    // Calls made once the console has sampled twice count from zero in their first interval: the
    // ListInvoices line rises above zero at the next sample, shown at the page's next refresh.
    const token = await devToken(platform.gatewayUrl, 'acme', ['admin']);
    for (let i = 0; i < 3; i++) await http(platform.gatewayUrl, 'GET', '/v1/invoices', { token });
    const row = rows.filter({ hasText: 'ListInvoices' });
    const rateMax = async () =>
      (await row.count()) === 0
        ? 0
        : Number(await row.first().locator('[data-testid=sparkline]').first().getAttribute('data-max'));
    await expect.poll(rateMax, { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await row.first().locator('[data-testid=sparkline]').count()).toBe(3);
    await page.screenshot({ path: join(screenshots, 'services-sparklines.png'), fullPage: true });
    // Two sample intervals (5 s) and page refreshes (5 s) after the console's first samples.
  }, 60_000);

  /** A customer of a new tenant with time logged last month, billable once the event is handled. */
  async function billableCustomer(tenant: string): Promise<{ token: string; customerId: string }> {
    const token = await devToken(platform.gatewayUrl, tenant, ['admin']);
    const customer = await http(platform.gatewayUrl, 'POST', '/v1/customers', {
      token,
      body: { name: `${tenant} Corp`, hourlyRateMinor: 6_000, currency: 'EUR' },
    });
    const ticket = await http(platform.gatewayUrl, 'POST', '/v1/tickets', {
      token,
      body: { customerId: customer.body.id, title: 'Audit help', description: 'Year-end audit.' },
    });
    const time = await http(platform.gatewayUrl, 'POST', `/v1/tickets/${ticket.body.id}/time-entries`, {
      token,
      body: { minutes: 60, workDate: `${previousMonth()}-05`, description: 'audit' },
    });
    expect(time.status).toBe(201);
    await settle(platform);
    return { token, customerId: customer.body.id };
  }

  /** The Workflows view's row of the tenant's billing run, opened. */
  async function openRun(tenant: string): Promise<void> {
    await page.goto(`${consoleUrl}/#/workflows`);
    const row = page
      .locator('[data-testid=workflow-run][data-workflow=close-billing-period]')
      .filter({ hasText: tenant });
    await expect.poll(() => row.count()).toBe(1);
    await row.click();
    await page.locator('[data-testid=run-id]').waitFor();
  }

  it('retries a dead-lettered compensation from the page once its cause is fixed: the run ends compensated', async () => {
    const tenant = 'initech';
    const { token, customerId } = await billableCustomer(tenant);
    const db = platform.databases.get('invoicing');
    if (!db) throw new Error('no invoicing database');
    // An accounting freeze on the tenant's entries: pricing them fails, and so does unlocking them.
    await db.query(`create function billing_freeze() returns trigger language plpgsql as $$
      begin raise exception 'billing is frozen for the audit'; end $$`);
    await db.query(`create trigger billing_freeze before update on billable_entries for each row
      when (new.tenant_id = '${tenant}' and (new.rate_minor is distinct from old.rate_minor
        or (old.billing_run_id is not null and new.billing_run_id is null)))
      execute function billing_freeze()`);
    const close = await http(platform.gatewayUrl, 'POST', '/v1/billing-runs', {
      token,
      body: { customerId, period: previousMonth() },
    });
    expect(close.status).toBeGreaterThanOrEqual(400);

    await openRun(tenant);
    expect(await page.locator('[data-testid=run-state]').textContent()).toBe('failed');
    const compensation = page.locator('[data-testid=compensation]');
    expect(await compensation.getAttribute('data-state')).toBe('dead');
    expect(await compensation.textContent()).toContain('billing is frozen for the audit');
    await page.screenshot({ path: join(screenshots, 'workflow-failed.png'), fullPage: true });

    await db.query('drop trigger billing_freeze on billable_entries');
    page.once('dialog', (d) => void d.accept());
    await page.locator('[data-testid=retry-compensations]').click();
    // The engine's next sweep (100 ms), the compensation, then the page's next poll (every 2 s).
    await expect
      .poll(() => page.locator('[data-testid=run-state]').textContent(), { timeout: 10_000 })
      .toBe('compensated');
    expect(await compensation.getAttribute('data-state')).toBe('done');
    // Undone where it lands: the entries are billable again, the billing run says compensated.
    const entries = await db.query('select billing_run_id from billable_entries where tenant_id = $1', [
      tenant,
    ]);
    expect(entries.rows).toEqual([{ billing_run_id: null }]);
    const runs = await db.query<{ state: string }>('select state from billing_runs where tenant_id = $1', [
      tenant,
    ]);
    expect(runs.rows.map((r) => r.state)).toEqual(['compensated']);
    await page.screenshot({ path: join(screenshots, 'workflow-retried.png'), fullPage: true });
    // The close's saga, two dead attempts, the page's polls: seconds on a loaded machine.
  }, 90_000);

  it('cancels a billing run held between two steps from the page: it stops and compensates', async () => {
    const tenant = 'umbrella';
    const { token, customerId } = await billableCustomer(tenant);
    let release = (): void => undefined;
    const reached = new Promise<void>((r) => {
      hold.reached = r;
    });
    hold.release = new Promise<void>((r) => {
      release = r;
    });
    hold.tenant = tenant;
    const closing = http(platform.gatewayUrl, 'POST', '/v1/billing-runs', {
      token,
      body: { customerId, period: previousMonth() },
    });
    try {
      await reached;
      await openRun(tenant);
      expect(await page.locator('[data-testid=run-state]').textContent()).toBe('running');
      page.once('dialog', (d) => void d.accept('the customer disputes the hours'));
      await page.locator('[data-testid=cancel-run]').click();
      await page.locator('[data-testid=cancel-requested]').waitFor();
      expect(await page.locator('[data-testid=cancel-requested]').textContent()).toContain(
        'the customer disputes the hours',
      );
    } finally {
      hold.tenant = undefined;
      release();
    }
    expect((await closing).status).toBeGreaterThanOrEqual(400);
    // The engine's next sweep (100 ms), the compensation, then the page's next poll (every 2 s).
    await expect
      .poll(() => page.locator('[data-testid=run-state]').textContent(), { timeout: 10_000 })
      .toBe('compensated');
    expect(await page.locator('[data-testid=failed-step]').textContent()).toContain('WORKFLOW_CANCELLED');
    const db = platform.databases.get('invoicing');
    const entries = await db?.query(
      'select billing_run_id, invoice_id from billable_entries where tenant_id = $1',
      [tenant],
    );
    expect(entries?.rows).toEqual([{ billing_run_id: null, invoice_id: null }]);
    await page.screenshot({ path: join(screenshots, 'workflow-cancelled.png'), fullPage: true });
  }, 90_000);
});
