/**
 * The Refront console in a real headless browser (Debian's chromium, driven by playwright-core),
 * on both topologies: the monolith with its console, and the distributed topology with the
 * console as a process of its own receiving every process's OTLP. A ticket created through the
 * gateway, its trace opened in the console with spans of several services (processes, in the
 * distributed one); every process ready with RED rows; then a message poisoned (the AI provider
 * is down, so the ai group's TicketCreated runs out of attempts), found under Dead letters with
 * its reason, replayed once the provider is back, and seen handled (the ticket gets its
 * classification).
 *
 * Screenshots go to REFRONT_CONSOLE_SCREENSHOTS when set (docs/console/ for the docs; the
 * distributed run's names end in `-distributed`), else to a temporary folder.
 */
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walk } from '../src/walk.js';
import { chromiumAvailable, launchChromium, screenshotDir, servicesShown } from './browser.js';
import {
  acmeAdmin,
  type ConsoleTopology,
  distributedWithConsole,
  monolithWithConsole,
} from './consoleTopologies.js';
import { http } from './http.js';

const screenshots = screenshotDir();

const TOPOLOGIES = [
  { name: 'monolith', start: monolithWithConsole, suffix: '', extra: [] as string[] },
  { name: 'distributed', start: distributedWithConsole, suffix: '-distributed', extra: ['gateway'] },
];

describe.skipIf(!chromiumAvailable()).each(TOPOLOGIES)(
  'the console in a browser ($name)',
  ({ start, suffix, extra }) => {
    let platform: ConsoleTopology;
    let browser: BrowserContext;
    let page: Page;
    let token: string;
    let customerId: string;
    const shot = (name: string) => join(screenshots, `${name}${suffix}.png`);
    /** The services a ticket's trace must have spans of. */
    const journey = ['ai', 'notifications', 'reporting', 'tickets', ...extra];

    beforeAll(async () => {
      platform = await start();
      ({ token, customerId } = await acmeAdmin(platform, 'Globex Corporation'));
    }, 180_000);

    beforeAll(async () => {
      // A fresh profile each run (playwright passes it as --user-data-dir).
      ({ browser, page } = await launchChromium());
    });

    afterAll(async () => {
      await browser?.close();
      await platform?.[Symbol.asyncDispose]();
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
      await platform.settle();
      await platform.traced(created.headers.get('traceparent')?.split('-')[1] ?? '', journey);

      await page.goto(platform.page('#/traces'));
      await page.fill('input[name=q]', ticketId);
      await page.click('button[type=submit]');
      const rows = page.locator('[data-testid=traces] tbody tr');
      await expect.poll(() => rows.count()).toBe(1);
      await page.screenshot({ path: shot('traces') });
      await rows.first().click();

      const waterfall = page.locator('[data-testid=waterfall]');
      await waterfall.waitFor();
      // Spans of the consumers arrive as their handlers end: the page refreshes every 3 s.
      await expect
        .poll(() => servicesShown(waterfall), { timeout: 20_000 })
        .toEqual(expect.arrayContaining(journey));
      const kinds = await waterfall
        .locator('.span-row')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
      expect(kinds).toEqual(expect.arrayContaining(['server', 'client', 'producer', 'consumer']));
      // Each consumer's span hangs under the event's producer span and links it.
      expect(await waterfall.locator('.span-row[data-kind=consumer]').first().textContent()).toContain(
        'linked',
      );
      // The root is the gateway's HTTP span of the request that created the ticket.
      const root = waterfall.locator('.span-row').first();
      expect(await root.getAttribute('data-kind')).toBe('server');
      expect(await root.textContent()).toContain('POST /v1/tickets');
      await waterfall.locator('.span-row[data-service=tickets][data-kind=server]').first().click();
      const details = page.locator('[data-testid=span-details]');
      await expect.poll(() => details.textContent()).toContain(ticketId);
      await page.screenshot({ path: shot('trace'), fullPage: true });
    }, 60_000);

    it('shows every process ready, with RED figures per method and per consumer group', async () => {
      await page.goto(platform.page('#/services'));
      const services = page.locator('[data-testid=service]');
      await expect.poll(() => services.count()).toBe(platform.processes);
      const readiness = async () => services.locator('[data-testid=readiness]').allTextContents();
      await expect.poll(readiness).toEqual(Array(platform.processes).fill('ready'));
      const red = page.locator('[data-testid=red-row]');
      await expect.poll(() => red.count()).toBeGreaterThan(3);
      const text = (await page.locator('main').textContent()) ?? '';
      expect(text).toContain('CreateTicket');
      expect(text).toContain('refront.tickets.v1.TicketCreated');
      await page.screenshot({ path: shot('services'), fullPage: true });
    }, 60_000);

    it('finds a poisoned message under Dead letters with its reason, replays it after the fix, and sees it handled', async () => {
      await platform.aiDown(true);
      const created = await http(platform.gatewayUrl, 'POST', '/v1/tickets', {
        token,
        body: {
          customerId,
          title: 'Invoice PDF shows the wrong VAT rate',
          description: 'Every PDF uses 19%.',
        },
      });
      expect(created.status).toBe(201);
      const ticketId: string = created.body.id;

      await page.goto(platform.page('#/dead-letters'));
      // The ai group retries TicketCreated with backoff (about 20 s) before it dead-letters it.
      const letter = page.locator('[data-testid=dead-letter-group][data-group=ai] [data-testid=dead-letter]');
      await letter.first().waitFor({ timeout: 60_000 });
      expect(await letter.count()).toBe(1);
      expect(await letter.locator('[data-testid=reason]').textContent()).toMatch(/^[A-Z][A-Z_]+$/);
      expect(await letter.textContent()).toContain(platform.downError);
      expect(await letter.textContent()).toContain(ticketId);
      const unclassified = await http(platform.gatewayUrl, 'GET', `/v1/tickets/${ticketId}/classification`, {
        token,
      });
      expect(unclassified.status).toBe(404);
      await page.screenshot({ path: shot('dead-letters'), fullPage: true });

      await platform.aiDown(false);
      await letter.locator('[data-testid=replay]').click();
      await page.locator('[data-testid=no-dead-letters]').waitFor();
      await platform.settle();
      const classified = await http(platform.gatewayUrl, 'GET', `/v1/tickets/${ticketId}/classification`, {
        token,
      });
      expect(classified.status).toBe(200);
      expect(classified.body.category).toBe('billing');
      expect(await platform.aiDeadLetters()).toBe(0);
    }, 120_000);

    it("ends the demo's walk with a link that opens the trace of its first ticket", async () => {
      const lines: string[] = [];
      const result = await walk({
        baseUrl: platform.gatewayUrl,
        print: (line) => lines.push(line),
        settle: () => platform.settle(),
        traceUrl: (traceId) => platform.page(`#/traces/${traceId}`),
      });
      await platform.traced(result.firstTicketTraceId ?? '', journey);
      const link = platform.page(`#/traces/${result.firstTicketTraceId}`);
      expect(lines.at(-1)).toBe(`12. The first ticket's journey, traced: ${link}`);

      // The walk closed a billing period: the Workflows view shows its run, read from invoicing's
      // journal (distributed: from an invoicing instance's ops server, with the console token).
      await page.goto(platform.page('#/workflows'));
      const billing = page.locator(
        '[data-testid=workflow-service][data-service=invoicing] [data-testid=workflow-run][data-workflow=close-billing-period] [data-testid=run-state]',
      );
      await expect.poll(() => billing.allTextContents(), { timeout: 20_000 }).toContain('completed');

      await page.goto(link);
      const waterfall = page.locator('[data-testid=waterfall]');
      await waterfall.waitFor();
      const services = async () =>
        waterfall.locator('.span-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-service')));
      await expect.poll(services, { timeout: 20_000 }).toEqual(expect.arrayContaining(journey));
      await waterfall.locator('.span-row[data-service=tickets][data-kind=server]').first().click();
      await expect
        .poll(() => page.locator('[data-testid=span-details]').textContent())
        .toContain(result.ticketIds[0]);
    }, 180_000);
  },
);
