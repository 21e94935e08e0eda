/**
 * The console's API explorer, contracts and Flow view in a real headless browser (Debian's
 * chromium, driven by playwright-core), on the monolith: a ticket created through the explorer's
 * gateway route, its trace followed from the explorer's link (spans of the gateway, tickets, ai,
 * reporting and notifications); an invalid body refused with its typed error; the Flow view's
 * gateway → tickets call and TicketCreated to its consumer groups; each method's RED row beside
 * it in the Services view's contracts.
 *
 * Screenshots go to REFRONT_CONSOLE_SCREENSHOTS when set (docs/console/ for the docs), else to a
 * temporary folder.
 */
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settle } from '../src/platform/settle.js';
import { type Platform, startPlatform } from '../src/platform/startPlatform.js';
import { chromiumAvailable, launchChromium, screenshotDir } from './browser.js';
import { devToken, http } from './http.js';

const screenshots = screenshotDir();

const CREATE_TICKET_ROUTE = 'http:POST /v1/tickets';
const CREATE_TICKET_METHOD = 'rpc:refront.tickets.v1.TicketsService/CreateTicket';

describe.skipIf(!chromiumAvailable())('the console API explorer and flow in a browser (monolith)', () => {
  let platform: Platform;
  let browser: BrowserContext;
  let page: Page;
  let customerId: string;
  let consoleUrl: string;
  let token: string;

  beforeAll(async () => {
    platform = await startPlatform({ gatewayPort: 0, opsPort: 0, console: { port: 0, development: true } });
    consoleUrl = platform.console?.url as string;
    token = await devToken(platform.gatewayUrl, 'acme', ['admin']);
    const customer = await http(platform.gatewayUrl, 'POST', '/v1/customers', {
      token,
      body: { name: 'Initech', hourlyRateMinor: 12_000, currency: 'EUR' },
    });
    customerId = customer.body.id;
    ({ browser, page } = await launchChromium());
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  /** Chooses a target, fills the body and calls it; resolves with the outcome panel. */
  async function callThroughExplorer(target: string, body: string) {
    await page.goto(`${consoleUrl}/#/explorer`);
    await page.locator(`[data-testid=target] option[value="${target}"]`).waitFor({ state: 'attached' });
    await page.selectOption('[data-testid=target]', target);
    await page.fill('input[name=tenant]', 'acme');
    await page.fill('input[name=roles]', 'admin');
    await page.fill('textarea[name=body]', body);
    await page.click('[data-testid=call]');
    const outcome = page.locator('[data-testid=outcome]');
    await outcome.waitFor();
    return outcome;
  }

  it('creates a ticket through the gateway route and follows the link to its trace across five services', async () => {
    await page.goto(`${consoleUrl}/#/explorer`);
    await page
      .locator(`[data-testid=target] option[value="${CREATE_TICKET_ROUTE}"]`)
      .waitFor({ state: 'attached' });
    await page.selectOption('[data-testid=target]', CREATE_TICKET_ROUTE);
    // The body is pre-filled from the route's schema: every field, typed.
    const skeleton = JSON.parse(await page.inputValue('textarea[name=body]'));
    expect(Object.keys(skeleton).sort()).toEqual(['customerId', 'description', 'priority', 'title']);

    const outcome = await callThroughExplorer(
      CREATE_TICKET_ROUTE,
      JSON.stringify(
        {
          customerId,
          title: 'Checkout returns 500 for every card payment',
          description: 'Since this morning no customer can pay; we lose orders.',
          priority: 'urgent',
        },
        null,
        2,
      ),
    );
    expect(await outcome.getAttribute('data-ok')).toBe('true');
    expect(await outcome.locator('[data-testid=http-status]').textContent()).toBe('HTTP 201');
    const ticket = JSON.parse((await outcome.locator('[data-testid=response]').textContent()) ?? '{}');
    expect(ticket.customerId).toBe(customerId);
    await page.screenshot({ path: join(screenshots, 'explorer.png'), fullPage: true });

    await settle(platform);
    await platform.flushTraces();
    await outcome.locator('[data-testid=trace-link]').click();
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
    await expect
      .poll(servicesShown, { timeout: 20_000 })
      .toEqual(expect.arrayContaining(['ai', 'gateway', 'notifications', 'reporting', 'tickets']));
    const root = waterfall.locator('.span-row').first();
    expect(await root.getAttribute('data-service')).toBe('gateway');
    expect(await root.textContent()).toContain('POST /v1/tickets');
    await waterfall.locator('.span-row[data-service=tickets][data-kind=server]').first().click();
    await expect.poll(() => page.locator('[data-testid=span-details]').textContent()).toContain(ticket.id);
  }, 60_000);

  it('refuses a body that is not JSON, or breaks the contract, with the typed error and sends nothing', async () => {
    // Counted where a ticket would land: the tenant's tickets, read through the gateway.
    const tickets = async () =>
      (await http(platform.gatewayUrl, 'GET', '/v1/tickets?pageSize=100', { token })).body.tickets.length;
    const before = await tickets();
    const broken = await callThroughExplorer(CREATE_TICKET_METHOD, '{"title": "Never sent", ');
    expect(await broken.getAttribute('data-ok')).toBe('false');
    expect(await broken.locator('[data-testid=error-reason]').textContent()).toBe('VALIDATE_INVALID_JSON');
    expect(await broken.locator('[data-testid=error-status]').textContent()).toBe('INVALID_ARGUMENT');
    expect(await broken.locator('[data-testid=http-status]').textContent()).toBe('HTTP 400');

    const unknownField = await callThroughExplorer(
      CREATE_TICKET_METHOD,
      '{"title": "Never sent", "colour": 1}',
    );
    expect(await unknownField.locator('[data-testid=error-reason]').textContent()).toBe(
      'VALIDATE_INVALID_JSON',
    );
    expect(await unknownField.textContent()).toContain('colour');

    // Valid JSON of the message that breaks its rules: refused by the service's validator.
    const invalid = await callThroughExplorer(
      CREATE_TICKET_METHOD,
      '{"customerId": "not-a-uuid", "title": " "}',
    );
    expect(await invalid.locator('[data-testid=error-reason]').textContent()).toBe('CORE_INVALID_MESSAGE');
    expect(await invalid.locator('[data-testid=error-status]').textContent()).toBe('INVALID_ARGUMENT');
    expect(await invalid.locator('[data-testid=http-status]').textContent()).toBe('HTTP 400');
    expect(await invalid.locator('[data-testid=typed-error]').textContent()).toContain('customer_id');
    await page.screenshot({ path: join(screenshots, 'explorer-error.png'), fullPage: true });
    expect(await tickets()).toBe(before);
  });

  it('draws the gateway → tickets call and TicketCreated to its consumer groups, with what the traces saw', async () => {
    await settle(platform);
    await platform.flushTraces();
    await page.goto(`${consoleUrl}/#/flow`);
    const call = page.locator('[data-testid=call-edge][data-from=gateway][data-to=tickets]');
    await call.waitFor();
    await expect.poll(async () => Number(await call.getAttribute('data-count'))).toBeGreaterThan(0);
    for (const group of ['ai', 'reporting']) {
      const edge = page.locator(
        `[data-testid=event-edge][data-type="refront.tickets.v1.TicketCreated"][data-consumer=${group}]`,
      );
      await expect.poll(async () => Number(await edge.getAttribute('data-count'))).toBeGreaterThan(0);
    }
    expect(
      await page
        .locator('[data-testid=publish-edge][data-type="refront.tickets.v1.TicketCreated"]')
        .getAttribute('data-publisher'),
    ).toBe('tickets');
    await page.screenshot({ path: join(screenshots, 'flow.png'), fullPage: true });
  });

  it("shows each service's contract with its methods' RED figures and its events", async () => {
    await page.goto(`${consoleUrl}/#/services`);
    const tickets = page.locator('[data-testid=contract][data-service=tickets]');
    await tickets.waitFor();
    const createTicket = tickets.locator('[data-testid=contract-method][data-method=CreateTicket]');
    await expect
      .poll(async () => Number(await createTicket.locator('td').nth(1).textContent()))
      .toBeGreaterThan(0);
    const text = (await tickets.textContent()) ?? '';
    expect(text).toContain('TicketCreated');
    expect(text).toContain('TicketClassified');
    await tickets.scrollIntoViewIfNeeded();
    await tickets.screenshot({ path: join(screenshots, 'contracts.png') });
  });
});
