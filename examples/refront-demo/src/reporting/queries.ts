import type { Queryable } from '@refront/data';
import type {
  CategoryCount,
  CustomerReport,
  GetTicketReportResponse,
  MonthReport,
  Revenue,
} from '../gen/refront/reporting/v1/reporting.js';

/** Which customers and months a customer report covers. */
export interface CustomerReportQuery {
  readonly customerId: string | undefined;
  readonly fromMonth: string | undefined;
  readonly toMonth: string | undefined;
  /** Customers strictly after this id (keyset page). */
  readonly after: string | undefined;
  readonly limit: number;
}

interface HoursRow {
  customer_id: string;
  month: string;
  logged_minutes: number;
}
interface RevenueRow {
  customer_id: string;
  month: string;
  currency: string;
  amount_minor: number;
  billed_minutes: number;
  invoice_count: number;
}

const RANGE = `($2::text is null or customer_id = $2) and ($3::text is null or month >= $3)
  and ($4::text is null or month <= $4)`;

/** Customer reports, ordered by customer id; fetches `limit + 1` customers to tell if more exist. */
export async function customerReports(
  db: Queryable,
  tenant: string,
  q: CustomerReportQuery,
): Promise<CustomerReport[]> {
  const params = [tenant, q.customerId ?? null, q.fromMonth ?? null, q.toMonth ?? null];
  const { rows: customers } = await db.query<{ customer_id: string }>(
    `select customer_id from (
       select customer_id from customer_hours where tenant_id = $1 and ${RANGE}
       union select customer_id from customer_revenue where tenant_id = $1 and ${RANGE}
     ) c where ($5::text is null or customer_id > $5) order by customer_id limit $6`,
    [...params, q.after ?? null, q.limit + 1],
  );
  if (customers.length === 0) return [];
  const ids = customers.map((c) => c.customer_id);
  const { rows: hours } = await db.query<HoursRow>(
    `select customer_id, month, logged_minutes from customer_hours
     where tenant_id = $1 and ${RANGE} and customer_id = any($5::text[]) order by month`,
    [...params, ids],
  );
  const { rows: revenue } = await db.query<RevenueRow>(
    `select customer_id, month, currency, amount_minor, billed_minutes, invoice_count from customer_revenue
     where tenant_id = $1 and ${RANGE} and customer_id = any($5::text[]) order by month, currency`,
    [...params, ids],
  );
  return ids.map((id) =>
    assemble(
      id,
      hours.filter((h) => h.customer_id === id),
      revenue.filter((r) => r.customer_id === id),
    ),
  );
}

function assemble(customerId: string, hours: HoursRow[], revenue: RevenueRow[]): CustomerReport {
  const months = new Map<string, MonthReport>();
  const monthOf = (m: string) => {
    let month = months.get(m);
    if (!month) {
      month = { month: m, loggedMinutes: 0, revenue: [] };
      months.set(m, month);
    }
    return month;
  };
  for (const h of hours) monthOf(h.month).loggedMinutes += h.logged_minutes;
  const totals = new Map<string, Revenue>();
  for (const r of revenue) {
    monthOf(r.month).revenue.push({
      currency: r.currency,
      amountMinor: r.amount_minor,
      billedMinutes: r.billed_minutes,
      invoiceCount: r.invoice_count,
    });
    const total = totals.get(r.currency) ?? {
      currency: r.currency,
      amountMinor: 0,
      billedMinutes: 0,
      invoiceCount: 0,
    };
    total.amountMinor += r.amount_minor;
    total.billedMinutes += r.billed_minutes;
    total.invoiceCount += r.invoice_count;
    totals.set(r.currency, total);
  }
  return {
    customerId,
    loggedMinutes: hours.reduce((sum, h) => sum + h.logged_minutes, 0),
    revenue: [...totals.values()].sort((a, b) => a.currency.localeCompare(b.currency)),
    months: [...months.values()].sort((a, b) => a.month.localeCompare(b.month)),
  };
}

/** Open tickets per category (most first), and the open and resolved totals. */
export async function ticketReport(db: Queryable, tenant: string): Promise<GetTicketReportResponse> {
  const { rows } = await db.query<{ category: string; open_tickets: number }>(
    `select case when category = '' then 'unclassified' else category end as category, count(*)::int as open_tickets
     from ticket_state where tenant_id = $1 and status = 'open'
     group by 1 order by 2 desc, 1`,
    [tenant],
  );
  const { rows: totals } = await db.query<{ status: string; n: number }>(
    `select status, count(*)::int as n from ticket_state where tenant_id = $1 group by status`,
    [tenant],
  );
  const count = (s: string) => totals.find((t) => t.status === s)?.n ?? 0;
  const categories: CategoryCount[] = rows.map((r) => ({
    category: r.category,
    openTickets: r.open_tickets,
  }));
  return { categories, openTickets: count('open'), resolvedTickets: count('resolved') };
}
