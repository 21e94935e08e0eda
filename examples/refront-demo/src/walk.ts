/**
 * The scripted walk through the platform's main flow, as a client outside the platform does it:
 * plain HTTP calls to the gateway's public API. Shared by `npm run demo` and the system tests.
 */

/** What the walk did, for tests. */
export interface WalkResult {
  readonly tenant: string;
  readonly customerId: string;
  readonly ticketIds: readonly string[];
  readonly invoiceId: string;
  readonly totalMinor: number;
  readonly totalMinutes: number;
  /** Trace ids the gateway returned, one per request, in order. */
  readonly traceIds: readonly string[];
  /** The trace id of the first ticket's creation (`POST /v1/tickets`), from the gateway's `traceparent`. */
  readonly firstTicketTraceId: string | undefined;
  /** What the AI service made of each ticket, in ticket order. */
  readonly classifications: readonly {
    readonly ticketId: string;
    readonly category: string;
    readonly urgency: string;
    readonly summary: string;
  }[];
  /** Notifications listed at the end of the walk, newest first. */
  readonly notifications: readonly { readonly kind: string; readonly subjectId: string }[];
  /**
   * What the SMTP receiver got (GET /v1/notifications/received-mail), oldest first; undefined when
   * mail goes to an outside SMTP server.
   */
  readonly receivedMail: readonly ReceivedMailJson[] | undefined;
  /** The customer's revenue in the invoice's currency, from the reporting read model. */
  readonly reportedRevenueMinor: number;
  /** The customer's logged minutes, from the reporting read model. */
  readonly reportedMinutes: number;
}

/** Options of {@link walk}. */
export interface WalkOptions {
  /** Base URL of the gateway. */
  readonly baseUrl: string;
  /** Prints one line of the walk. */
  readonly print: (line: string) => void;
  /**
   * Waits until the events published so far are handled (in the monolith: the event bus and the
   * outboxes are drained), so the billing run sees every logged entry.
   */
  readonly settle: () => Promise<void>;
  /** Tenant to act as. @default 'acme' */
  readonly tenant?: string;
  /**
   * Where a trace can be seen (the console's page of a trace id); when set, the walk ends with
   * the link to the trace of its first ticket's creation.
   */
  readonly traceUrl?: (traceId: string) => string;
}

/** A JSON HTTP response. */
interface Reply {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: the walk reads the public JSON API loosely, as a script would
  readonly body: any;
  readonly traceId: string | undefined;
}

/** The previous calendar month, YYYY-MM (UTC). */
export function previousMonth(now = new Date()): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
}

/** Formats minor units as money: 12345 EUR → "EUR 123.45". */
export function money(minor: number, currency: string): string {
  return `${currency} ${(minor / 100).toFixed(2)}`;
}

/** One message the notifications service's SMTP receiver got, as the public API writes it. */
export interface ReceivedMailJson {
  readonly messageId: string;
  readonly notificationId: string;
  readonly to: readonly string[];
  readonly subject: string;
}

/**
 * The mail the SMTP receiver got, once every notification of `ids` arrived there (sending may
 * still run when the events are settled); undefined when mail goes to an outside SMTP server.
 */
async function mailReceived(
  call: (method: string, path: string, body?: unknown, expect?: number[]) => Promise<Reply>,
  ids: readonly string[],
): Promise<ReceivedMailJson[] | undefined> {
  const until = Date.now() + 15_000;
  for (;;) {
    const res = await call('GET', '/v1/notifications/received-mail', undefined, [200, 409]);
    if (res.status === 409 && res.body.error.reason === 'NOTIFICATIONS_NO_RECEIVER') return undefined;
    if (res.status !== 200) throw new Error(`GET /v1/notifications/received-mail answered ${res.status}`);
    const mail = res.body.mail as ReceivedMailJson[];
    const missing = ids.filter((id) => !mail.some((m) => m.notificationId === id));
    if (missing.length === 0) return mail;
    if (Date.now() > until)
      throw new Error(`the SMTP receiver got no mail for notifications ${missing.join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the walk; throws when a step does not answer as expected. */
export async function walk(options: WalkOptions): Promise<WalkResult> {
  const { baseUrl, print } = options;
  const tenant = options.tenant ?? 'acme';
  const traceIds: string[] = [];
  let token = '';

  async function call(method: string, path: string, body?: unknown, expect = [200, 201]): Promise<Reply> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token === '' ? {} : { authorization: `Bearer ${token}` }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const traceId = res.headers.get('traceparent')?.split('-')[1];
    if (traceId) traceIds.push(traceId);
    const reply: Reply = { status: res.status, body: text === '' ? undefined : JSON.parse(text), traceId };
    if (!expect.includes(res.status)) {
      throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    }
    return reply;
  }

  print(
    `1. An admin of tenant "${tenant}" gets a token (dev auth; closing a billing period needs the admin role)`,
  );
  token = (await call('POST', '/v1/dev/tokens', { tenant, user: 'alice@acme.example', roles: ['admin'] }))
    .body.token;
  print(`   POST /v1/dev/tokens {roles: ["admin"]} → a signed JWT (${token.slice(0, 16)}…)`);

  print('2. She adds a customer billed at EUR 95.00 per hour');
  const customer = (
    await call('POST', '/v1/customers', {
      name: 'Globex Corporation',
      hourlyRateMinor: 9_500,
      currency: 'EUR',
    })
  ).body;
  print(`   POST /v1/customers → ${customer.id} "${customer.name}"`);

  print('3. The customer reports three problems');
  const titles: [string, string, string][] = [
    [
      'Invoice PDF shows the wrong VAT rate',
      'Since Monday every invoice PDF uses 19% instead of 20% VAT.',
      'normal',
    ],
    [
      'Production API returns 502 for every request',
      'Our whole checkout is down, customers cannot pay.',
      'urgent',
    ],
    ['Add single sign-on with Okta', 'We would like our staff to log in with Okta.', 'low'],
  ];
  const ticketIds: string[] = [];
  let firstTicketTraceId: string | undefined;
  for (const [title, description, priority] of titles) {
    const created = await call('POST', '/v1/tickets', {
      customerId: customer.id,
      title,
      description,
      priority,
    });
    const t = created.body;
    if (ticketIds.length === 0) firstTicketTraceId = created.traceId;
    ticketIds.push(t.id);
    print(`   POST /v1/tickets → ${t.id.slice(0, 8)} [${t.priority}] ${t.title}`);
  }

  const period = previousMonth();
  print(`4. Time is logged on the tickets (work done in ${period})`);
  const entries: [number, number, string, string][] = [
    [0, 95, `${period}-03`, 'Reproduced the VAT bug, fixed the rate table'],
    [1, 130, `${period}-10`, 'Rolled back the gateway release, root cause analysis'],
    [1, 45, `${period}-11`, 'Post-mortem with the customer'],
    [2, 20, `${period}-20`, 'Scoped the SSO integration'],
  ];
  let totalMinutes = 0;
  for (const [i, minutes, workDate, description] of entries) {
    const id = ticketIds[i] as string;
    await call('POST', `/v1/tickets/${id}/time-entries`, { minutes, workDate, description });
    totalMinutes += minutes;
    print(`   POST /v1/tickets/${id.slice(0, 8)}/time-entries → ${minutes} min on ${workDate}`);
  }

  print('5. The VAT ticket is resolved; logging more time on it is refused');
  await call('POST', `/v1/tickets/${ticketIds[0]}/resolve`, {
    resolution: 'VAT table corrected, PDFs re-issued',
  });
  const refused = await call(
    'POST',
    `/v1/tickets/${ticketIds[0]}/time-entries`,
    { minutes: 10, workDate: `${period}-04` },
    [409],
  );
  print(`   POST …/time-entries on the resolved ticket → ${refused.status} ${refused.body.error.reason}`);

  print('6. Bad input gets every field error at once');
  const bad = await call('POST', '/v1/tickets', { title: '', priority: 'whenever' }, [400]);
  const fields = (bad.body.error.fieldViolations as { field: string }[]).map((v) => v.field).join(', ');
  print(`   POST /v1/tickets {title:"", priority:"whenever"} → 400 (${fields})`);

  await options.settle();
  print(`7. The billing period ${period} is closed (saga: lock → price → issue → publish)`);
  const closed = (await call('POST', '/v1/billing-runs', { customerId: customer.id, period })).body;
  const steps = (closed.run.steps as { name: string; outcome: string }[]).map(
    (s) => `${s.name} ${s.outcome}`,
  );
  print(`   POST /v1/billing-runs → run ${closed.run.state}: ${steps.join(' → ')}`);
  const invoice = closed.invoice;
  print(`   Invoice ${invoice.number} for ${customer.name}, ${period}:`);
  for (const line of invoice.lines as {
    workDate: string;
    minutes: number;
    amountMinor: number;
    description: string;
  }[]) {
    print(
      `     ${line.workDate}  ${String(line.minutes).padStart(4)} min  ${money(line.amountMinor, invoice.currency).padStart(12)}  ${line.description}`,
    );
  }
  print(`     total ${invoice.totalMinutes} min = ${money(invoice.totalMinor, invoice.currency)}`);

  print('8. Another tenant cannot see any of it');
  const ownToken = token;
  token = (await call('POST', '/v1/dev/tokens', { tenant: 'initech', user: 'mallory@initech.example' })).body
    .token;
  const hidden = await call('GET', `/v1/invoices/${invoice.id}`, undefined, [404]);
  token = ownToken;
  print(`   GET /v1/invoices/${invoice.id.slice(0, 8)} as tenant "initech" → ${hidden.status}`);

  await options.settle();
  print('9. The AI service classified and summarised each new ticket (TicketCreated → TicketClassified)');
  const classifications: { ticketId: string; category: string; urgency: string; summary: string }[] = [];
  for (const id of ticketIds) {
    const c = (await call('GET', `/v1/tickets/${id}/classification`)).body;
    const ticket = (await call('GET', `/v1/tickets/${id}`)).body;
    if (ticket.category !== c.category) {
      throw new Error(`ticket ${id} shows category "${ticket.category}", the AI said "${c.category}"`);
    }
    classifications.push({ ticketId: id, category: c.category, urgency: c.urgency, summary: c.summary });
    print(
      `   ${id.slice(0, 8)} ${String(c.category).padEnd(8)} ${String(c.urgency).padEnd(7)} ` +
        `confidence ${Number(c.confidence).toFixed(2)} (${c.provider}, ${Number(c.latencyMs).toFixed(2)} ms): "${c.summary}"`,
    );
  }

  print('10. Notifications went out for the issued invoice, the urgent ticket and the resolved one');
  const sent = (await call('GET', '/v1/notifications')).body.notifications as {
    id: string;
    kind: string;
    subjectId: string;
    recipient: string;
    subject: string;
    status: string;
  }[];
  for (const [kind, subjectId] of [
    ['invoice_issued', invoice.id],
    ['ticket_urgent', ticketIds[1]],
  ]) {
    if (!sent.some((n) => n.kind === kind && n.subjectId === subjectId)) {
      throw new Error(`no ${kind} notification for ${subjectId}`);
    }
  }
  const receivedMail = await mailReceived(
    call,
    sent.map((n) => n.id),
  );
  if (receivedMail === undefined) {
    print('   (mail goes to the SMTP server at SMTP_HOST; its mailbox is not listed here)');
    for (const n of sent) print(`   [${n.status}] ${n.kind.padEnd(15)} to ${n.recipient}: ${n.subject}`);
  } else {
    print('   what the SMTP receiver got, per notification (one message per Message-ID):');
    for (const n of sent) {
      const got = receivedMail.filter((m) => m.notificationId === n.id);
      const to = got[0]?.to.join(', ') ?? n.recipient;
      print(`   [received ${got.length}x] ${n.kind.padEnd(15)} to ${to}: ${got[0]?.subject ?? n.subject}`);
      if (got[0]) print(`     Message-ID ${got[0].messageId}`);
    }
  }

  print(`11. The report for ${customer.name}, built only from events, matches the invoice`);
  const report = (await call('GET', `/v1/reports/customers?customerId=${customer.id}`)).body.customers[0];
  const revenue = (report?.revenue ?? []) as {
    currency: string;
    amountMinor: number;
    invoiceCount: number;
  }[];
  const reportedRevenueMinor = revenue.find((r) => r.currency === invoice.currency)?.amountMinor ?? 0;
  const reportedMinutes: number = report?.loggedMinutes ?? 0;
  for (const m of (report?.months ?? []) as {
    month: string;
    loggedMinutes: number;
    revenue: typeof revenue;
  }[]) {
    const billed = m.revenue.map((r) => money(r.amountMinor, r.currency)).join(', ') || '-';
    print(`   ${m.month}: ${(m.loggedMinutes / 60).toFixed(2)} h logged, invoiced ${billed}`);
  }
  if (reportedRevenueMinor !== invoice.totalMinor) {
    throw new Error(`the report says ${reportedRevenueMinor}, the invoice ${invoice.totalMinor}`);
  }
  print(
    `   report total ${money(reportedRevenueMinor, invoice.currency)} = invoice ${invoice.number} ` +
      `${money(invoice.totalMinor, invoice.currency)} (to the cent)`,
  );
  const tickets = (await call('GET', '/v1/reports/tickets')).body;
  print(
    `   open tickets per category: ${(tickets.categories as { category: string; openTickets: number }[])
      .map((c) => `${c.category} ${c.openTickets}`)
      .join(', ')}; resolved ${tickets.resolvedTickets}`,
  );

  if (options.traceUrl && firstTicketTraceId) {
    print(`12. The first ticket's journey, traced: ${options.traceUrl(firstTicketTraceId)}`);
  }

  return {
    tenant,
    customerId: customer.id,
    firstTicketTraceId,
    ticketIds,
    invoiceId: invoice.id,
    totalMinor: invoice.totalMinor,
    totalMinutes,
    traceIds,
    classifications,
    notifications: sent.map((n) => ({ kind: n.kind, subjectId: n.subjectId })),
    receivedMail,
    reportedRevenueMinor,
    reportedMinutes,
  };
}
