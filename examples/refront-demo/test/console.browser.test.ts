/**
 * The Refront console in a real headless browser (Debian's chromium, driven by playwright-core):
 * the monolith with its console, a ticket created through the gateway, its trace opened in the
 * console with spans of several services; then a message poisoned (the AI provider is down, so
 * the ai group's TicketCreated runs out of attempts), found under Dead letters with its reason,
 * replayed once the provider is back, and seen handled (the ticket gets its classification).
 *
 * Screenshots go to REFRONT_CONSOLE_SCREENSHOTS when set (docs/console/ for the docs), else to a
 * temporary folder.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalProvider } from '../src/ai/localProvider.js';
import type { AiProvider } from '../src/ai/provider.js';
import { settle } from '../src/platform/settle.js';
import { type Platform, startPlatform } from '../src/platform/startPlatform.js';
import { walk } from '../src/walk.js';
import { devToken, http } from './http.js';

const CHROMIUM = '/usr/bin/chromium';

function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const hint = `${CHROMIUM} is missing: install Debian's chromium (\`apt-get install -y chromium\`)`;
  if (process.env.REFRONT_REQUIRE_INFRA === '1') throw new Error(`${hint} (REFRONT_REQUIRE_INFRA=1)`);
  console.warn(`skipping: ${hint}`);
  return false;
}

const screenshots = process.env.REFRONT_CONSOLE_SCREENSHOTS
  ? resolve(process.env.REFRONT_CONSOLE_SCREENSHOTS)
  : mkdtempSync(join(tmpdir(), 'refront-console-'));

/** The local provider, made to fail while `down` (an outage of a remote AI provider). */
async function switchableProvider(): Promise<{ provider: AiProvider; setDown(down: boolean): void }> {
  const local = await createLocalProvider();
  let down = false;
  const check = () => {
    if (down) throw new Error('AI provider unreachable (connect ECONNREFUSED)');
  };
  return {
    setDown: (d) => {
      down = d;
    },
    provider: {
      name: local.name,
      classify: async (ticket, options) => {
        check();
        return local.classify(ticket, options);
      },
      summarize: async (text, options) => {
        check();
        return local.summarize(text, options);
      },
      close: () => local.close?.() ?? Promise.resolve(),
    },
  };
}

describe.skipIf(!chromiumAvailable())('the console in a browser (monolith)', () => {
  let platform: Platform;
  let browser: BrowserContext;
  let page: Page;
  let ai: Awaited<ReturnType<typeof switchableProvider>>;
  let token: string;
  let customerId: string;
  let consoleUrl: string;

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    ai = await switchableProvider();
    platform = await startPlatform({
      gatewayPort: 0,
      opsPort: 0,
      aiProvider: ai.provider,
      console: { port: 0, development: true },
    });
    consoleUrl = platform.console?.url as string;
    token = await devToken(platform.gatewayUrl, 'acme', ['admin']);
    const customer = await http(platform.gatewayUrl, 'POST', '/v1/customers', {
      token,
      body: { name: 'Globex Corporation', hourlyRateMinor: 9_500, currency: 'EUR' },
    });
    customerId = customer.body.id;
  });

  beforeAll(async () => {
    // A fresh profile each run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'refront-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it("shows a ticket's trace with spans of tickets, ai, reporting and notifications", async () => {
    const created = await http(platform.gatewayUrl, 'POST', '/v1/tickets', {
      token,
      body: {
        customerId,
        title: 'Production API returns 502 for every request',
        description: 'Our whole checkout is down, customers cannot pay.',
        priority: 'urgent',
      },
    });
    expect(created.status).toBe(201);
    const ticketId: string = created.body.id;
    await settle(platform);
    await platform.flushTraces();

    await page.goto(`${consoleUrl}/#/traces`);
    await page.fill('input[name=q]', ticketId);
    await page.click('button[type=submit]');
    const rows = page.locator('[data-testid=traces] tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    await page.screenshot({ path: join(screenshots, 'traces.png') });
    await rows.first().click();

    const waterfall = page.locator('[data-testid=waterfall]');
    await waterfall.waitFor();
    const servicesShown = async () =>
      [
        ...new Set(
          await waterfall
            .locator('.span-row')
            .evaluateAll((els) => els.map((e) => e.getAttribute('data-service'))),
        ),
      ].sort();
    // Spans of the consumers arrive as their handlers end: the page refreshes every 3 s.
    await expect
      .poll(servicesShown, { timeout: 20_000 })
      .toEqual(expect.arrayContaining(['ai', 'notifications', 'reporting', 'tickets']));
    const kinds = await waterfall
      .locator('.span-row')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
    expect(kinds).toEqual(expect.arrayContaining(['server', 'client', 'consumer']));
    // The root is the gateway's HTTP span of the request that created the ticket.
    const root = waterfall.locator('.span-row').first();
    expect(await root.getAttribute('data-kind')).toBe('server');
    expect(await root.textContent()).toContain('POST /v1/tickets');
    await waterfall.locator('.span-row[data-service=tickets][data-kind=server]').first().click();
    const details = page.locator('[data-testid=span-details]');
    await expect.poll(() => details.textContent()).toContain(ticketId);
    await page.screenshot({ path: join(screenshots, 'trace.png'), fullPage: true });
  });

  it('shows the process ready, with RED figures per method and per consumer group', async () => {
    await page.goto(`${consoleUrl}/#/services`);
    const service = page.locator('[data-testid=service]').first();
    await expect.poll(() => service.locator('[data-testid=readiness]').textContent()).toBe('ready');
    const red = service.locator('[data-testid=red-row]');
    await expect.poll(() => red.count()).toBeGreaterThan(3);
    const text = (await service.textContent()) ?? '';
    expect(text).toContain('CreateTicket');
    expect(text).toContain('refront.tickets.v1.TicketCreated');
    await page.screenshot({ path: join(screenshots, 'services.png'), fullPage: true });
  });

  it('finds a poisoned message under Dead letters with its reason, replays it after the fix, and sees it handled', async () => {
    ai.setDown(true);
    const created = await http(platform.gatewayUrl, 'POST', '/v1/tickets', {
      token,
      body: { customerId, title: 'Invoice PDF shows the wrong VAT rate', description: 'Every PDF uses 19%.' },
    });
    expect(created.status).toBe(201);
    const ticketId: string = created.body.id;

    await page.goto(`${consoleUrl}/#/dead-letters`);
    // The ai group retries TicketCreated with backoff (about 20 s) before it dead-letters it.
    const letter = page.locator('[data-testid=dead-letter-group][data-group=ai] [data-testid=dead-letter]');
    await letter.first().waitFor({ timeout: 60_000 });
    expect(await letter.count()).toBe(1);
    expect(await letter.locator('[data-testid=reason]').textContent()).toMatch(/^[A-Z][A-Z_]+$/);
    expect(await letter.textContent()).toContain('AI provider unreachable');
    expect(await letter.textContent()).toContain(ticketId);
    const unclassified = await http(platform.gatewayUrl, 'GET', `/v1/tickets/${ticketId}/classification`, {
      token,
    });
    expect(unclassified.status).toBe(404);
    await page.screenshot({ path: join(screenshots, 'dead-letters.png'), fullPage: true });

    ai.setDown(false);
    await letter.locator('[data-testid=replay]').click();
    await page.locator('[data-testid=no-dead-letters]').waitFor();
    await settle(platform);
    const classified = await http(platform.gatewayUrl, 'GET', `/v1/tickets/${ticketId}/classification`, {
      token,
    });
    expect(classified.status).toBe(200);
    expect(classified.body.category).toBe('billing');
    expect(platform.bus.deadLetters('ai')).toEqual([]);
  }, 90_000);

  it("ends the demo's walk with a link that opens the trace of its first ticket", async () => {
    const lines: string[] = [];
    const result = await walk({
      baseUrl: platform.gatewayUrl,
      print: (line) => lines.push(line),
      settle: () => settle(platform),
      traceUrl: (traceId) => `${consoleUrl}/#/traces/${traceId}`,
    });
    await platform.flushTraces();
    const link = `${consoleUrl}/#/traces/${result.firstTicketTraceId}`;
    expect(lines.at(-1)).toBe(`12. The first ticket's journey, traced: ${link}`);

    await page.goto(link);
    const waterfall = page.locator('[data-testid=waterfall]');
    await waterfall.waitFor();
    const services = async () =>
      waterfall.locator('.span-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-service')));
    await expect
      .poll(services, { timeout: 20_000 })
      .toEqual(expect.arrayContaining(['ai', 'notifications', 'reporting', 'tickets']));
    await waterfall.locator('.span-row[data-service=tickets][data-kind=server]').first().click();
    await expect
      .poll(() => page.locator('[data-testid=span-details]').textContent())
      .toContain(result.ticketIds[0]);
  }, 120_000);
});
