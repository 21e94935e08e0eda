/**
 * JSON Schemas of the public API. Shared resource schemas have an `$id` (they become OpenAPI
 * components and drive response serialization); request schemas are inline and strict
 * (`additionalProperties: false`), so a misspelled field is reported instead of ignored.
 */

import { TENANT_PATTERN } from './auth.js';
import { BILLING_RUN_STATES, TICKET_PRIORITIES, TICKET_STATUSES } from './json.js';
import { ROLES } from './roles.js';

/** A JSON Schema object (draft 2020-12 subset that Ajv, fast-json-stringify and OpenAPI 3.1 share). */
export type JsonSchema = Readonly<Record<string, unknown>>;

const str = (description: string, extra: JsonSchema = {}): JsonSchema => ({
  type: 'string',
  description,
  ...extra,
});
const nullableStr = (description: string): JsonSchema => ({ type: ['string', 'null'], description });
const int = (description: string, extra: JsonSchema = {}): JsonSchema => ({
  type: 'integer',
  description,
  ...extra,
});
const timestamp = (description: string): JsonSchema => str(description, { format: 'date-time' });
const nullableTimestamp = (description: string): JsonSchema => ({
  type: ['string', 'null'],
  format: 'date-time',
  description,
});
const ref = (id: string): JsonSchema => ({ $ref: `${id}#` });

const object = (
  properties: Record<string, JsonSchema>,
  required: readonly string[] = Object.keys(properties),
) => ({
  type: 'object',
  properties,
  required,
});

/** A UUID in its canonical text form (any case). */
const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
/**
 * Ids are UUIDs chosen by the services (the contracts' rules say so too): a request naming one that
 * is not is 400 here, with the field in the API's own spelling, before any service is called.
 */
export const ID: JsonSchema = str('a UUID, chosen by the service', { pattern: UUID_PATTERN });
/** A date as YYYY-MM-DD. */
const DATE_PATTERN = '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$';
/** A billing period as YYYY-MM. */
const PERIOD_PATTERN = '^\\d{4}-(0[1-9]|1[0-2])$';

/** The shared schemas, registered with `app.addSchema` (OpenAPI components by `$id`). */
export const SHARED_SCHEMAS: readonly JsonSchema[] = [
  {
    $id: 'Error',
    description: 'Every error answer has this shape.',
    ...object({
      error: object(
        {
          status: str('gRPC status name: INVALID_ARGUMENT, UNAUTHENTICATED, NOT_FOUND, FAILED_PRECONDITION…'),
          reason: str('A specific code with a package prefix, e.g. GATEWAY_TOKEN_EXPIRED.'),
          message: str('What went wrong, for a human.'),
          fieldViolations: {
            type: 'array',
            description: 'Every invalid field (INVALID_ARGUMENT only).',
            items: object({ field: str('Dotted path of the field.'), description: str('What is wrong.') }),
          },
          retryDelayMs: int('How long to wait before retrying, in ms.'),
          traceId: str('Trace id of the request (W3C, 32 hex characters).'),
        },
        ['status', 'reason', 'message', 'traceId'],
      ),
    }),
  },
  {
    $id: 'Customer',
    description: 'A client of the tenant, billed per hour.',
    ...object({
      id: ID,
      name: str('Display name.'),
      hourlyRateMinor: int('Hourly rate in minor units of the currency (cents).'),
      currency: str('ISO 4217 code.', { examples: ['EUR'] }),
      createdAt: timestamp('When the customer was created.'),
    }),
  },
  {
    $id: 'Ticket',
    description: 'A support request of a customer.',
    ...object({
      id: ID,
      customerId: ID,
      title: str('Short title.'),
      description: str('Details; may be empty.'),
      status: { type: 'string', enum: TICKET_STATUSES },
      priority: { type: 'string', enum: TICKET_PRIORITIES },
      category: nullableStr('Set once the AI service classified the ticket.'),
      summary: nullableStr('Set once the AI service summarised the ticket.'),
      resolution: nullableStr('Set once resolved, when a resolution was given.'),
      createdAt: timestamp('When the ticket was opened.'),
      updatedAt: timestamp('Last change.'),
      resolvedAt: nullableTimestamp('When the ticket was resolved.'),
      version: int('Incremented on every change.'),
    }),
  },
  {
    $id: 'TimeEntry',
    description: 'Time spent on one ticket on one day.',
    ...object({
      id: ID,
      ticketId: ID,
      customerId: ID,
      minutes: int('Minutes spent, 1 to 1440.'),
      description: str('What was done; may be empty.'),
      workDate: str('Day the work was done, YYYY-MM-DD.', { format: 'date' }),
      createdAt: timestamp('When the entry was logged.'),
    }),
  },
  {
    $id: 'BillingRun',
    description: 'One attempt to close a customer billing period (a saga).',
    ...object({
      id: ID,
      customerId: ID,
      period: str('YYYY-MM.'),
      state: { type: 'string', enum: BILLING_RUN_STATES },
      invoiceId: nullableStr('Set once issued.'),
      failureReason: nullableStr('Set once compensated.'),
      steps: {
        type: 'array',
        items: object({
          name: str('lock, price, issue, publish or compensate.'),
          outcome: str('done or failed.'),
          detail: nullableStr('Details of the step.'),
          at: nullableTimestamp('When the step finished.'),
        }),
      },
      createdAt: timestamp('When the run started.'),
      updatedAt: timestamp('Last state change.'),
    }),
  },
  {
    $id: 'InvoiceSummary',
    description: 'An invoice without its lines.',
    ...object({
      id: ID,
      number: str('Sequential per tenant, e.g. INV-000001.'),
      customerId: ID,
      period: str('YYYY-MM.'),
      currency: str('ISO 4217 code.'),
      totalMinor: int('Sum of the lines, in minor units.'),
      totalMinutes: int('Sum of the minutes of the lines.'),
      billingRunId: ID,
      issuedAt: timestamp('When the invoice was issued.'),
    }),
  },
  {
    $id: 'Invoice',
    description: 'What a customer owes for a period, line by line.',
    ...object({
      id: ID,
      number: str('Sequential per tenant, e.g. INV-000001.'),
      customerId: ID,
      period: str('YYYY-MM.'),
      currency: str('ISO 4217 code.'),
      totalMinor: int('Sum of the lines, in minor units.'),
      totalMinutes: int('Sum of the minutes of the lines.'),
      billingRunId: ID,
      issuedAt: timestamp('When the invoice was issued.'),
      lines: {
        type: 'array',
        items: object({
          entryId: ID,
          ticketId: ID,
          workDate: str('YYYY-MM-DD.'),
          minutes: int('Minutes billed.'),
          description: str('From the time entry.'),
          rateMinor: int('Hourly rate applied, in minor units.'),
          amountMinor: int('round(minutes × rate / 60), in minor units.'),
        }),
      },
    }),
  },
];

/** A list answer: the items under `key`, and the token of the next page (null on the last). */
export const page = (key: string, item: string): JsonSchema => ({
  ...object({
    [key]: { type: 'array', items: ref(item) },
    nextPageToken: nullableStr('Pass as pageToken to get the next page; null on the last page.'),
  }),
});

export { ref };

/** Path parameter `id`. */
export const ID_PARAMS: JsonSchema = {
  type: 'object',
  properties: { id: ID },
  required: ['id'],
  additionalProperties: false,
};

const PAGING = {
  pageSize: int('At most this many items, 1 to 100.', { minimum: 1, maximum: 100, default: 20 }),
  pageToken: str('nextPageToken of the previous page.', { minLength: 1, maxLength: 512 }),
};

/** A strict querystring schema with paging and the given filters. */
export const pagedQuery = (filters: Record<string, JsonSchema> = {}): JsonSchema => ({
  type: 'object',
  properties: { ...PAGING, ...filters },
  additionalProperties: false,
});

const CUSTOMER_NAME = str('Display name.', { minLength: 1, maxLength: 200 });
const TITLE = str('Short title.', { minLength: 1, maxLength: 200 });
const DESCRIPTION = str('Details.', { maxLength: 10_000 });
const PRIORITY = { type: 'string', enum: TICKET_PRIORITIES, description: 'low, normal, high or urgent.' };

const strictBody = (properties: Record<string, JsonSchema>, required: readonly string[]): JsonSchema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

/** Request bodies, by route. */
export const BODIES = {
  createCustomer: strictBody(
    {
      name: CUSTOMER_NAME,
      hourlyRateMinor: int('Hourly rate in minor units (cents).', { minimum: 0, maximum: 100_000_000 }),
      currency: str('an ISO 4217 code of three capital letters, e.g. EUR', {
        pattern: '^[A-Z]{3}$',
        examples: ['EUR'],
      }),
    },
    ['name', 'hourlyRateMinor', 'currency'],
  ),
  createTicket: strictBody({ customerId: ID, title: TITLE, description: DESCRIPTION, priority: PRIORITY }, [
    'customerId',
    'title',
  ]),
  updateTicket: {
    ...strictBody({ title: TITLE, description: DESCRIPTION, priority: PRIORITY }, []),
    minProperties: 1,
  },
  resolveTicket: strictBody({ resolution: str('How it was resolved.', { maxLength: 10_000 }) }, []),
  logTime: strictBody(
    {
      minutes: int('Minutes spent, 1 to 1440.', { minimum: 1, maximum: 1440 }),
      description: DESCRIPTION,
      workDate: str('a date as YYYY-MM-DD', { pattern: DATE_PATTERN, examples: ['2025-03-14'] }),
    },
    ['minutes'],
  ),
  closeBillingPeriod: strictBody(
    { customerId: ID, period: str('a month as YYYY-MM', { pattern: PERIOD_PATTERN, examples: ['2025-03'] }) },
    ['customerId', 'period'],
  ),
  devToken: strictBody(
    {
      tenant: str('a tenant id: letters, digits, ".", "_", ":" or "-", up to 64', {
        pattern: TENANT_PATTERN,
      }),
      user: str('The user (becomes the sub claim).', { minLength: 1, maxLength: 256 }),
      roles: {
        type: 'array',
        description: 'The roles claim: ["admin"] for an admin; absent or [] for a member.',
        items: { type: 'string', enum: [...ROLES] },
        uniqueItems: true,
        maxItems: ROLES.length,
      },
    },
    ['tenant', 'user'],
  ),
} as const satisfies Record<string, JsonSchema>;

/** Query filters, by route. */
export const FILTERS = {
  tickets: {
    status: { type: 'string', enum: TICKET_STATUSES, description: 'open or resolved.' },
    customerId: ID,
    category: str('Only tickets of this category.', { minLength: 1, maxLength: 100 }),
  },
  timeEntries: { ticketId: ID, customerId: ID },
  invoices: { customerId: ID },
} as const satisfies Record<string, Record<string, JsonSchema>>;
