/**
 * The console's API explorer, contracts and Flow view in a real headless browser (Debian's
 * chromium, driven by playwright-core), on both topologies: the monolith (the explorer calls
 * through the in-process channel) and the distributed one with mutual TLS on (the console a
 * process of its own, calling each service on its lane with its own certificate, the operator
 * identity `console`, and the gateway over HTTP). A ticket created through the explorer's gateway
 * route and another through its method, each trace followed from the explorer's link (spans of
 * the gateway, tickets, ai, reporting and notifications); invalid bodies refused with their typed
 * errors and no ticket created; the Flow view's gateway → tickets call and TicketCreated to its
 * consumer groups; each method's RED row beside it in the Services view's contracts.
 *
 * Screenshots go to REFRONT_CONSOLE_SCREENSHOTS when set (docs/console/ for the docs; the
 * distributed run's names end in `-distributed`), else to a temporary folder.
 */
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium, screenshotDir, servicesShown } from './browser.js';
import {
  acmeAdmin,
  type ConsoleTopology,
  distributedWithConsole,
  monolithWithConsole,
} from './consoleTopologies.js';
import { http } from './http.js';

const screenshots = screenshotDir();

const CREATE_TICKET_ROUTE = 'http:POST /v1/tickets';
const CREATE_TICKET_METHOD = 'rpc:refront.tickets.v1.TicketsService/CreateTicket';
/** The services a created ticket's trace must have spans of. */
const JOURNEY = ['ai', 'gateway', 'notifications', 'reporting', 'tickets'];

const TOPOLOGIES = [
  { name: 'monolith', start: monolithWithConsole, suffix: '' },
  { name: 'distributed, mutual TLS', start: distributedWithConsole, suffix: '-distributed' },
];

describe.skipIf(!chromiumAvailable()).each(TOPOLOGIES)(
  'the console API explorer and flow in a browser ($name)',
  ({ start, suffix }) => {
    let platform: ConsoleTopology;
    let browser: BrowserContext;
    let page: Page;
    let customerId: string;
    let token: string;
    const shot = (name: string) => join(screenshots, `${name}${suffix}.png`);
    /** The tenant's tickets, counted through the gateway. */
    const tickets = async () =>
      (await http(platform.gatewayUrl, 'GET', '/v1/tickets?pageSize=100', { token })).body.tickets.length;

    beforeAll(async () => {
      platform = await start();
      ({ token, customerId } = await acmeAdmin(platform, 'Initech'));
      ({ browser, page } = await launchChromium());
    }, 180_000);

    afterAll(async () => {
      await browser?.close();
      await platform?.[Symbol.asyncDispose]();
    });

    /** Chooses a target, fills the body and calls it; resolves with the outcome panel. */
    async function callThroughExplorer(target: string, body: string) {
      await page.goto(platform.page('#/explorer'));
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

    /**
     * Follows the outcome's trace link once the console holds spans of every service of `services`:
     * the waterfall shows them, and the tickets service's server span holds the ticket's id.
     */
    async function followTrace(outcome: Locator, ticketId: string, services: readonly string[]) {
      const traceId = (await outcome.locator('[data-testid=trace-link]').getAttribute('href'))
        ?.split('/')
        .pop();
      await platform.settle();
      await platform.traced(traceId ?? '', services);
      await outcome.locator('[data-testid=trace-link]').click();
      const waterfall = page.locator('[data-testid=waterfall]');
      await waterfall.waitFor();
      await expect
        .poll(() => servicesShown(waterfall), { timeout: 20_000 })
        .toEqual(expect.arrayContaining([...services]));
      await waterfall.locator('.span-row[data-service=tickets][data-kind=server]').first().click();
      await expect.poll(() => page.locator('[data-testid=span-details]').textContent()).toContain(ticketId);
      return waterfall;
    }

    it('creates a ticket through the gateway route and follows the link to its trace across five services', async () => {
      await page.goto(platform.page('#/explorer'));
      await page
        .locator(`[data-testid=target] option[value="${CREATE_TICKET_ROUTE}"]`)
        .waitFor({ state: 'attached' });
      await page.selectOption('[data-testid=target]', CREATE_TICKET_ROUTE);
      // The body is pre-filled from the route's schema: every field, typed.
      const skeleton = JSON.parse(await page.inputValue('textarea[name=body]'));
      expect(Object.keys(skeleton).sort()).toEqual(['customerId', 'description', 'priority', 'title']);

      const before = await tickets();
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
      expect(await tickets()).toBe(before + 1);
      await page.screenshot({ path: shot('explorer'), fullPage: true });

      const waterfall = await followTrace(outcome, ticket.id, JOURNEY);
      const root = waterfall.locator('.span-row').first();
      expect(await root.getAttribute('data-service')).toBe('gateway');
      expect(await root.textContent()).toContain('POST /v1/tickets');
    }, 90_000);

    it("creates a ticket through the tickets service's method, as the console, and follows its trace", async () => {
      const before = await tickets();
      const outcome = await callThroughExplorer(
        CREATE_TICKET_METHOD,
        JSON.stringify({ customerId, title: 'Refunds stay pending', description: 'Since Monday.' }),
      );
      expect(await outcome.getAttribute('data-ok')).toBe('true');
      expect(await outcome.locator('[data-testid=http-status]').textContent()).toBe('HTTP 200');
      const created = JSON.parse((await outcome.locator('[data-testid=response]').textContent()) ?? '{}');
      expect(created.ticket.customerId).toBe(customerId);
      expect(await tickets()).toBe(before + 1);
      // No gateway on this path: the call goes from the console straight to tickets, under a span
      // of the console's own at the root (kept in its store in both topologies).
      const waterfall = await followTrace(outcome, created.ticket.id, [
        ...JOURNEY.filter((s) => s !== 'gateway'),
        'console',
      ]);
      const root = waterfall.locator('.span-row').first();
      expect(await root.getAttribute('data-service')).toBe('console');
      expect(await root.textContent()).toContain('console /refront.tickets.v1.TicketsService/CreateTicket');
      await page.screenshot({ path: shot('explorer-trace'), fullPage: true });
    }, 90_000);

    it('refuses a body that is not JSON, or breaks the contract, with the typed error and sends nothing', async () => {
      // Counted where a ticket would land: the tenant's tickets, read through the gateway.
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
      await page.screenshot({ path: shot('explorer-error'), fullPage: true });
      expect(await tickets()).toBe(before);
    });

    it('draws the gateway → tickets call and TicketCreated to its consumer groups, with what the traces saw', async () => {
      await platform.settle();
      await page.goto(platform.page('#/flow'));
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
      await page.screenshot({ path: shot('flow'), fullPage: true });
    });

    it("shows each service's contract with its methods' RED figures and its events", async () => {
      await page.goto(platform.page('#/services'));
      const contract = page.locator('[data-testid=contract][data-service=tickets]');
      await contract.waitFor();
      const createTicket = contract.locator('[data-testid=contract-method][data-method=CreateTicket]');
      await expect
        .poll(async () => Number(await createTicket.locator('td').nth(1).textContent()))
        .toBeGreaterThan(0);
      const text = (await contract.textContent()) ?? '';
      expect(text).toContain('TicketCreated');
      expect(text).toContain('TicketClassified');
      await contract.scrollIntoViewIfNeeded();
      await contract.screenshot({ path: shot('contracts') });
    });
  },
);
