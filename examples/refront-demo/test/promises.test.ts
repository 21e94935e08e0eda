/**
 * The seed's promises, proven on the distributed topology: every service its own process on
 * RabbitMQ and PostgreSQL (invoicing ×3), with requests on each lane in turn: mux, the default,
 * then gRPC. Driven from outside through the gateway's HTTP API, with processes killed, stopped,
 * restarted and upgraded while the rest runs. Each test prints the figures it counted. Needs the
 * local PostgreSQL and RabbitMQ.
 */

import { mutualTls } from '@refront/identity';
import { createGrpcClient } from '@refront/transport-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimeTrackingServiceDefinition } from '../src/gen/refront/timetracking/v1/timetracking.js';
import { priceMinutes } from '../src/invoicing/pricing.js';
import type { LocalTopology } from '../src/platform/localTopology.js';
import { demoBreaker } from './breaker.js';
import { backgroundLoad, keepRunning, type SystemUnderTest, startSystem, takeDown } from './fixtures.js';
import type { Reply } from './http.js';
import { Session } from './session.js';
import { infrastructure, inParallel, median, metricSum, until } from './topology.js';

const infra = await infrastructure('the system tests of the distributed topology');
/**
 * Each lane gets its own processes, free ports, database and queue namespace (named after the
 * run, dropped after it). mux runs as the default lane (no `rpc` given to the topology); gRPC is
 * asked for.
 */
const LANES = [
  { lane: 'mux', rpc: undefined },
  { lane: 'grpc', rpc: 'grpc' },
] as const;
const TIME_LOGGED = 'refront.timetracking.v1.TimeLogged';
const ms = (x: number) => Math.round(x * 10) / 10;
/**
 * How long putting a disturbed topology back may take before the next test (a restarted process's
 * callers reconnect and their breakers close): a bound on the wait between tests, not a promise.
 */
const RESTORE_MS = 60_000;
const breaker = demoBreaker();

for (const { lane, rpc } of LANES)
  describe.skipIf(!infra)(`the seed promises on the distributed topology, requests on ${lane}`, () => {
    // This lane's own system: nothing here is shared with the other lane's tests.
    let system: SystemUnderTest;
    let topology: LocalTopology;
    const count = (service: string, sql: string, params: unknown[]) => system.count(service, sql, params);
    const session = (prefix: string) =>
      Session.open(topology.gatewayUrl, `${prefix}-${Date.now().toString(36)}`);
    const report = (promise: number, figures: Record<string, unknown>) =>
      console.log(
        `[promise ${promise} on ${topology.rpc}] ${Object.entries(figures)
          .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
          .join(' ')}`,
      );

    beforeAll(async () => {
      system = await startSystem(`refront_promises_${lane}`, {
        ...(rpc ? { rpc } : {}),
        instances: { invoicing: 3 },
        output: 'capture',
        env: { RATE_LIMIT_PER_MINUTE: '1000000', DATABASE_POOL_SIZE: '4', GRACE_PERIOD_MS: '15000' },
      });
      topology = system.topology;
      expect(topology.rpc).toBe(lane);
    }, 180_000);

    afterAll(async () => {
      if (!system) return;
      const crashed = topology.processes.filter((p) =>
        p.exits.some((e) => e.signal !== 'SIGKILL' && e.code !== 0 && e.code !== null),
      );
      await system[Symbol.asyncDispose]();
      for (const p of topology.processes) {
        const bad = p.exits.filter((e) => e.signal !== 'SIGKILL' && e.code !== 0);
        if (bad.length > 0)
          console.error(`${p.name} exited badly: ${JSON.stringify(bad)}\n${p.output.join('\n')}`);
      }
      expect(crashed.map((p) => p.name)).toEqual([]);
    }, 60_000);

    it('1. independent scaling: 3 invoicing instances share 300 billing requests and 3,000 TimeLogged, none twice', {
      timeout: 300_000,
    }, async () => {
      const s = await session('scale');
      const rates = Array.from({ length: 10 }, (_, i) => 6_000 + i * 150);
      const customers: string[] = [];
      for (const [i, rate] of rates.entries()) customers.push(await s.customer(`Customer ${i}`, rate));
      const tickets: string[] = [];
      for (const [i, c] of customers.entries()) tickets.push(await s.ticket(c, `Maintenance contract ${i}`));
      const periods = Array.from({ length: 30 }, (_, p) => {
        const d = new Date(Date.UTC(2023, p, 1));
        return d.toISOString().slice(0, 7);
      });
      const invoicing = topology.of('invoicing');
      const before = await Promise.all(invoicing.map((p) => topology.metrics(p)));

      // 3,000 entries: customer i % 10, period ⌊i / 10⌋ % 30, so each of the 300 pairs gets 10.
      const entry = (i: number) => ({
        c: i % 10,
        p: Math.floor(i / 10) % 30,
        minutes: 1 + ((i * 37) % 240),
        day: 1 + (i % 28),
      });
      const t0 = performance.now();
      const logged = await inParallel(3_000, 32, async (i) => {
        const e = entry(i);
        const date = `${periods[e.p]}-${String(e.day).padStart(2, '0')}`;
        return (await s.logTime(tickets[e.c] as string, e.minutes, date)).status;
      });
      const logSeconds = (performance.now() - t0) / 1000;
      expect(logged.filter((x) => x !== 201)).toEqual([]);
      await until(
        '3,000 billable entries in invoicing',
        async () =>
          (await count('invoicing', 'select count(*)::int as n from billable_entries where tenant_id = $1', [
            s.tenant,
          ])) === 3_000,
        120_000,
      );

      const t1 = performance.now();
      const runs = await inParallel(300, 16, async (k) => {
        const c = k % 10;
        const p = Math.floor(k / 10);
        return s.call('POST', '/v1/billing-runs', { customerId: customers[c], period: periods[p] });
      });
      const billSeconds = (performance.now() - t1) / 1000;
      expect(runs.filter((r) => r.status !== 201).map((r) => r.body)).toEqual([]);

      // Every invoice is exactly its 10 entries, priced at its customer's rate.
      for (const [k, r] of runs.entries()) {
        const c = k % 10;
        const p = Math.floor(k / 10);
        let minutes = 0;
        let minor = 0;
        for (let i = 0; i < 3_000; i++) {
          const e = entry(i);
          if (e.c !== c || e.p !== p) continue;
          minutes += e.minutes;
          minor += priceMinutes(e.minutes, rates[c] as number);
        }
        expect({ minutes: r.body.invoice.totalMinutes, minor: r.body.invoice.totalMinor }).toEqual({
          minutes,
          minor,
        });
      }

      const after = await Promise.all(invoicing.map((p) => topology.metrics(p)));
      const delta = (name: string, labels: Record<string, string>) =>
        invoicing.map(
          (_, i) =>
            metricSum(after[i] as string, name, labels) - metricSum(before[i] as string, name, labels),
        );
      const billed = delta('refront_rpc_server_duration_seconds_count', {
        rpc_method: 'CloseBillingPeriod',
        status: 'OK',
      });
      const handled = delta('refront_event_handler_duration_seconds_count', {
        group: 'invoicing',
        event_type: TIME_LOGGED,
        status: 'ack',
      });
      const duplicates = delta('refront_inbox_duplicates_total', { group: 'invoicing' });
      const uniqueRuns = await count(
        'invoicing',
        'select count(distinct (customer_id, period))::int as n from billing_runs where tenant_id = $1',
        [s.tenant],
      );
      const invoices = await count(
        'invoicing',
        'select count(*)::int as n from invoices where tenant_id = $1',
        [s.tenant],
      );
      const unbilled = await count(
        'invoicing',
        'select count(*)::int as n from billable_entries where tenant_id = $1 and invoice_id is null',
        [s.tenant],
      );
      report(1, {
        instances: invoicing.length,
        billingRequests: 300,
        billingPerInstance: billed,
        timeLogged: 3_000,
        timeLoggedPerInstance: handled,
        duplicatesSuppressed: duplicates,
        invoices,
        unbilledEntries: unbilled,
        logTimePerSecond: Math.round(3_000 / logSeconds),
        billingRunsPerSecond: Math.round(300 / billSeconds),
      });
      expect(billed.reduce((a, b) => a + b, 0)).toBe(300);
      expect(handled.reduce((a, b) => a + b, 0) - duplicates.reduce((a, b) => a + b, 0)).toBe(3_000);
      for (const n of billed) expect(n).toBeGreaterThanOrEqual(60);
      for (const n of handled) expect(n).toBeGreaterThanOrEqual(600);
      expect(duplicates.reduce((a, b) => a + b, 0)).toBe(0);
      expect({ uniqueRuns, invoices, unbilled }).toEqual({ uniqueRuns: 300, invoices: 300, unbilled: 0 });
    });

    it('4. rolling restart: SIGTERM to each invoicing instance under load loses nothing', {
      timeout: 300_000,
    }, async () => {
      const s = await session('rolling');
      const customers: string[] = [];
      const tickets: string[] = [];
      for (let i = 0; i < 3; i++) {
        customers.push(await s.customer(`Rolling ${i}`, 7_200 + i * 300));
        tickets.push(await s.ticket(customers[i] as string, `Rolling ticket ${i}`));
      }
      const periods = Array.from({ length: 20 }, (_, p) =>
        new Date(Date.UTC(2024, p, 1)).toISOString().slice(0, 7),
      );
      // Two entries for each of the 60 (customer, period) pairs, in before the load starts.
      const pre = await inParallel(120, 16, (i) =>
        s.logTime(tickets[i % 3] as string, 30 + (i % 7), `${periods[Math.floor(i / 6) % 20]}-1${i % 2}`),
      );
      expect(pre.filter((r) => r.status !== 201)).toEqual([]);
      await until(
        '120 entries billable',
        async () =>
          (await count('invoicing', 'select count(*)::int as n from billable_entries where tenant_id = $1', [
            s.tenant,
          ])) === 120,
      );

      const failures: string[] = [];
      let accepted = 0;
      // Whatever fails below, every instance is running again and no load outlives this test.
      await using _invoicing = keepRunning(topology, topology.of('invoicing'));
      await using logLoad = backgroundLoad(4, async (w, i) => {
        const r = await s.logTime(tickets[(w + i) % 3] as string, 1 + (i % 50), '2025-10-15');
        if (r.status === 201) accepted++;
        else failures.push(`log time → ${r.status} ${JSON.stringify(r.body)}`);
        return true;
      });
      const invoicesOut: Reply[] = [];
      let nextPair = 0;
      await using billLoad = backgroundLoad(3, async () => {
        const k = nextPair++;
        if (k >= 60) return false;
        const r = await s.call('POST', '/v1/billing-runs', {
          customerId: customers[k % 3],
          period: periods[Math.floor(k / 3)],
        });
        if (r.status === 201) invoicesOut.push(r);
        else failures.push(`billing run → ${r.status} ${JSON.stringify(r.body)}`);
        // Paced, not a wait for anything: spreads the 60 runs over the restarts.
        await new Promise((res) => setTimeout(res, 150));
        return true;
      });
      const exits: string[] = [];
      const restartMs: number[] = [];
      for (const p of topology.of('invoicing')) {
        // Each SIGTERM lands on load in flight: entries were accepted since the last restart.
        const mark = accepted;
        await until('more time entries accepted', async () => accepted >= mark + 8);
        const t = performance.now();
        const exit = await topology.stop(p, 'SIGTERM');
        exits.push(`${p.name}:${exit.code ?? exit.signal}`);
        topology.start(p);
        await topology.waitReady(p);
        restartMs.push(Math.round(performance.now() - t));
      }
      await billLoad.finished;
      await logLoad.stop();

      await until(
        `${accepted} entries of 2025-10 billable`,
        async () =>
          (await count(
            'invoicing',
            "select count(*)::int as n from billable_entries where tenant_id = $1 and work_date = '2025-10-15'",
            [s.tenant],
          )) === accepted,
        120_000,
      );
      await topology.settle();
      const billable = await count(
        'invoicing',
        "select count(*)::int as n from billable_entries where tenant_id = $1 and work_date = '2025-10-15'",
        [s.tenant],
      );
      const logged = await count(
        'time-tracking',
        "select count(*)::int as n from time_entries where tenant_id = $1 and work_date = '2025-10-15'",
        [s.tenant],
      );
      const billedMinutes = invoicesOut.reduce((a, r) => a + r.body.invoice.totalMinutes, 0);
      const preMinutes = Array.from({ length: 120 }, (_, i) => 30 + (i % 7)).reduce((a, b) => a + b, 0);
      report(4, {
        restarts: exits,
        restartMs,
        billingRequests: 60,
        billingOk: invoicesOut.length,
        logTimeAccepted: accepted,
        timeLoggedInTimeTracking: logged,
        timeLoggedBillable: billable,
        failed: failures.length,
        lost: accepted - billable,
      });
      expect(failures).toEqual([]);
      expect(exits).toEqual(topology.of('invoicing').map((p) => `${p.name}:0`));
      expect({ invoices: invoicesOut.length, billedMinutes }).toEqual({
        invoices: 60,
        billedMinutes: preMinutes,
      });
      expect({ logged, billable }).toEqual({ logged: accepted, billable: accepted });
    });

    it('2. reporting down: the flow works, 1,000 events wait, and the read models catch up exactly', {
      timeout: 300_000,
    }, async () => {
      const s = await session('nordash');
      const reporting = topology.one('reporting');
      await using killed = await takeDown(topology, reporting, 'SIGKILL', {
        what: 'the gateway to reach reporting again',
        check: async () => (await s.call('GET', '/v1/reports/customers')).status === 200,
        timeoutMs: RESTORE_MS,
      });
      expect(killed.exit.signal).toBe('SIGKILL');

      const customer = await s.customer('Initrode', 9_000);
      const ticket = await s.ticket(customer, 'Printer on fire');
      const minutes = (i: number) => 1 + (i % 60);
      const t0 = performance.now();
      const logged = await inParallel(1_000, 16, (i) =>
        s.logTime(ticket, minutes(i), `2025-09-${String(1 + (i % 28)).padStart(2, '0')}`),
      );
      expect(logged.filter((r) => r.status !== 201)).toEqual([]);
      const flowSeconds = (performance.now() - t0) / 1000;
      await until(
        '1,000 entries billable',
        async () =>
          (await count('invoicing', 'select count(*)::int as n from billable_entries where tenant_id = $1', [
            s.tenant,
          ])) === 1_000,
        120_000,
      );
      const closed = await s.ok('POST', '/v1/billing-runs', { customerId: customer, period: '2025-09' });
      const totalMinutes = Array.from({ length: 1_000 }, (_, i) => minutes(i)).reduce((a, b) => a + b, 0);
      expect(closed.invoice.totalMinutes).toBe(totalMinutes);
      const down = await s.call('GET', `/v1/reports/customers?customerId=${customer}`);
      expect(down.status).toBe(503);
      expect(down.body.error.status).toBe('UNAVAILABLE');
      await topology.settle({ except: ['reporting'] });
      const backlog = await topology.queueMessages(topology.queueOf('reporting'));
      expect(backlog).toBeGreaterThanOrEqual(1_002); // 1,000 TimeLogged, TicketCreated, InvoiceIssued, …

      const t1 = performance.now();
      topology.start(reporting);
      await topology.waitReady(reporting);
      let seen = { minutes: -1, revenue: -1 };
      await until(
        'the report to catch up',
        async () => {
          const r = await s.call('GET', `/v1/reports/customers?customerId=${customer}`);
          if (r.status !== 200) return false;
          const row = r.body.customers[0];
          seen = {
            minutes: row?.loggedMinutes ?? 0,
            revenue:
              (row?.revenue ?? []).find((x: { currency: string }) => x.currency === 'EUR')?.amountMinor ?? 0,
          };
          return seen.minutes === totalMinutes && seen.revenue === closed.invoice.totalMinor;
        },
        120_000,
      );
      const catchUpMs = Math.round(performance.now() - t1);
      await topology.settle();
      const r = await s.ok('GET', `/v1/reports/customers?customerId=${customer}`);
      report(2, {
        events: 1_000,
        flowSeconds: ms(flowSeconds),
        backlogWhileDown: backlog,
        catchUpMs,
        reportedMinutes: r.customers[0].loggedMinutes,
        expectedMinutes: totalMinutes,
        reportedRevenueMinor: seen.revenue,
        invoiceMinor: closed.invoice.totalMinor,
      });
      expect(r.customers[0].loggedMinutes).toBe(totalMinutes);
    });

    it('3. tickets down: time tracking fails fast with UNAVAILABLE, the gateway answers 503, and it recovers', {
      timeout: 300_000,
    }, async () => {
      const s = await session('notix');
      const customer = await s.customer('Umbrella', 8_000);
      const ticket = await s.ticket(customer, 'Elevator stuck');
      expect((await s.logTime(ticket, 10, '2025-08-01')).status).toBe(201);
      const tt = topology.one('time-tracking');
      const before = await topology.metrics(tt);

      const tickets = topology.one('tickets');
      const logTimeWorks = async () => (await s.logTime(ticket, 7, '2025-08-03')).status === 201;
      await using down = await takeDown(topology, tickets, 'SIGKILL', {
        what: 'logging time to work again',
        check: logTimeWorks,
        timeoutMs: RESTORE_MS,
      });
      expect(down.exit.signal).toBe('SIGKILL');
      const statuses = new Set<string>();
      const failingCall = async (): Promise<number> => {
        const t = performance.now();
        const r = await s.logTime(ticket, 5, '2025-08-02');
        statuses.add(`${r.status} ${r.body?.error?.status}`);
        return performance.now() - t;
      };
      // Time tracking calls tickets only, so a breaker it opens is one of tickets'.
      const openedSince = (m: string): number =>
        metricSum(m, 'refront_resilience_breaker_transitions_total', { state: 'open' }) -
        metricSum(before, 'refront_resilience_breaker_transitions_total', { state: 'open' });

      // A breaker opens once failures are over half of at least 20 calls in its rolling window.
      // The previous test's successes can still be in that window; they leave it `rollingWindowMs`
      // after they happened, and failing calls fill it in a few seconds more.
      const untilOpen: number[] = [];
      await until(
        "time tracking's breaker on tickets to open",
        async () => {
          untilOpen.push(await failingCall());
          return openedSince(await topology.metrics(tt)) >= 1;
        },
        breaker.rollingWindowMs + 10_000,
      );
      // Failing fast is what the seed promises here, so it is asserted, with a bound that is the
      // promise's and not a speed measurement: once the breaker is open a failing call waits on
      // nothing (1-5 ms through the gateway even on a loaded 2-core machine), where a call that
      // still goes to a dead instance pays a connect attempt and retries with backoff (hundreds
      // of ms). A median of 50 ms or more means calls stopped failing fast.
      const afterOpen: number[] = [];
      for (let i = 0; i < 30; i++) afterOpen.push(await failingCall());
      expect([...statuses]).toEqual(['503 UNAVAILABLE']);
      expect(median(afterOpen)).toBeLessThan(50);
      const during = await topology.metrics(tt);
      const rejected =
        metricSum(during, 'refront_resilience_rejections_total') -
        metricSum(before, 'refront_resilience_rejections_total');

      // The same call over gRPC, straight to time tracking's port as the gateway (a declared
      // caller, with its certificate): a typed UNAVAILABLE, from tickets being down.
      const certs = await topology.certificates();
      const grpc = createGrpcClient(TimeTrackingServiceDefinition, {
        target: `127.0.0.1:${tt.grpcPort}`,
        policy: false,
        caller: 'system-test',
        ...(certs ? { tls: mutualTls(certs.files('gateway')).client('time-tracking') } : {}),
      });
      const direct = await grpc
        .logTime(
          { ticketId: ticket, minutes: 5, workDate: '2025-08-02', description: 'direct' },
          { metadata: { 'x-refront-tenant': s.tenant } },
        )
        .then(
          () => 'OK',
          (e: { status?: string }) => e.status,
        );
      await grpc.close();
      expect(direct).toBe('UNAVAILABLE');

      // Recovery on its own, as promised: an open breaker lets a probe through `resetTimeoutMs`
      // after it last opened, and a channel redials a restarted instance within its reconnect
      // backoff, so once tickets is ready calls succeed again within the reset timeout + 5 s.
      topology.start(tickets);
      await topology.waitReady(tickets);
      const t0 = performance.now();
      let attempts = 0;
      await until(
        'logging time to succeed again',
        async () => {
          attempts++;
          return logTimeWorks();
        },
        breaker.resetTimeoutMs + 5_000,
      );
      const recoveredMs = Math.round(performance.now() - t0);
      const again = await inParallel(20, 4, () => s.logTime(ticket, 3, '2025-08-04'));
      report(3, {
        callsUntilBreakerOpened: untilOpen.length,
        medianFailMsUntilOpen: ms(median(untilOpen)),
        maxFailMsUntilOpen: ms(Math.max(...untilOpen)),
        callsAfterOpen: afterOpen.length,
        medianFailMsAfterOpen: ms(median(afterOpen)),
        maxFailMsAfterOpen: ms(Math.max(...afterOpen)),
        breakerOpened: openedSince(during),
        rejectedByBreaker: rejected,
        grpcStatus: direct,
        breakerResetMs: breaker.resetTimeoutMs,
        recoveredMs,
        attemptsUntilRecovered: attempts,
      });
      expect(again.map((r) => r.status)).toEqual(Array(20).fill(201));
    });

    it('5. independent deploy: notifications stops, is upgraded and started while the rest runs, and works off its backlog', {
      timeout: 300_000,
    }, async () => {
      const s = await session('deploy');
      const notifications = topology.one('notifications');
      const oldVersion = (await topology.readiness(notifications)).version;
      await using stopped = await takeDown(topology, notifications, 'SIGTERM', {
        what: 'the gateway to reach notifications again',
        check: async () => (await s.call('GET', '/v1/notifications')).status === 200,
        timeoutMs: RESTORE_MS,
      });
      expect(stopped.exit.code).toBe(0);

      const customer = await s.customer('Soylent', 9_900);
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(await s.ticket(customer, `Recipe question ${i}`, 'low'));
      for (const id of ids) expect((await s.logTime(id, 15, '2025-07-07')).status).toBe(201);
      for (const id of ids) await s.ok('POST', `/v1/tickets/${id}/resolve`, { resolution: 'answered' });
      await until(
        '20 entries billable',
        async () =>
          (await count('invoicing', 'select count(*)::int as n from billable_entries where tenant_id = $1', [
            s.tenant,
          ])) === 20,
      );
      const invoice = (await s.ok('POST', '/v1/billing-runs', { customerId: customer, period: '2025-07' }))
        .invoice;
      await topology.settle({ except: ['notifications'] });
      const backlog = await topology.queueMessages(topology.queueOf('notifications'));
      expect(backlog).toBeGreaterThanOrEqual(21);
      const down = await s.call('GET', '/v1/notifications');
      expect(down.status).toBe(503);

      const t0 = performance.now();
      topology.start(notifications, { SERVICE_VERSION: '0.2.0' });
      await topology.waitReady(notifications);
      const newVersion = (await topology.readiness(notifications)).version;
      const kinds = async () => {
        const { rows } = await (await system.db('notifications')).query<{ kind: string; n: number }>(
          'select kind, count(*)::int as n from notifications where tenant_id = $1 group by kind',
          [s.tenant],
        );
        return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
      };
      await until('the backlog to be handled', async () => {
        const k = await kinds();
        return k.ticket_resolved === 20 && k.invoice_issued === 1;
      });
      const caughtUpMs = Math.round(performance.now() - t0);
      await topology.settle();
      const final = await kinds();
      // The gateway dials notifications again on its own (reconnect backoff capped at 5 s).
      let listed: Reply['body'];
      await until('the gateway to list notifications again', async () => {
        const r = await s.call('GET', '/v1/notifications?kind=ticket_resolved&pageSize=100');
        listed = r.body;
        return r.status === 200;
      });
      const listedMs = Math.round(performance.now() - t0);
      report(5, {
        oldVersion,
        newVersion,
        backlogWhileDown: backlog,
        caughtUpMs,
        gatewayListsAfterMs: listedMs,
        notifications: final,
        invoice: invoice.number,
      });
      expect(newVersion).toBe('0.2.0');
      expect(newVersion).not.toBe(oldVersion);
      expect(final.ticket_resolved).toBe(20);
      expect(final.invoice_issued).toBe(1);
      expect(listed.notifications.map((n: { subjectId: string }) => n.subjectId).sort()).toEqual(
        [...ids].sort(),
      );
    });
  });
