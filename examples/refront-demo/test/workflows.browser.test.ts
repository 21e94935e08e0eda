/**
 * The console's Workflows view and the Services view's sparklines in a real headless browser
 * (Debian's chromium, driven by playwright-core): the monolith walks its main flow, which closes a
 * billing period with the billing saga on `@refront/workflow`; the console lists the run as
 * completed and shows its journal (lock, price, apply-rate, issue) with a link to its trace, and
 * the Services view draws RED sparklines from its periodic samples of `/metrics`.
 *
 * Screenshots go to REFRONT_CONSOLE_SCREENSHOTS when set (docs/console/ for the docs), else to a
 * temporary folder.
 */
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settle } from '../src/platform/settle.js';
import { type Platform, startPlatform } from '../src/platform/startPlatform.js';
import { walk } from '../src/walk.js';
import { chromiumAvailable, launchChromium, screenshotDir } from './browser.js';
import { devToken, http } from './http.js';

const screenshots = screenshotDir();

describe.skipIf(!chromiumAvailable())('the console’s Workflows view in a browser (monolith)', () => {
  let platform: Platform;
  let browser: BrowserContext;
  let page: Page;
  let consoleUrl: string;

  beforeAll(async () => {
    platform = await startPlatform({ gatewayPort: 0, opsPort: 0, console: { port: 0, development: true } });
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
});
