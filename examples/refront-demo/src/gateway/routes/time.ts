import { nextPageToken, required, type TimeEntryJson, timeEntryJson } from '../json.js';
import { defineRoute, type Route } from '../route.js';
import { BODIES, FILTERS, ID_PARAMS, page, pagedQuery, ref } from '../schemas.js';

interface TimeEntryFilters {
  pageSize: number;
  pageToken?: string;
  ticketId?: string;
  customerId?: string;
}

/** Time entries: the time-tracking service. */
export const timeRoutes: readonly Route[] = [
  defineRoute<
    { minutes: number; description?: string; workDate?: string },
    undefined,
    { id: string },
    TimeEntryJson
  >({
    method: 'POST',
    url: '/tickets/:id/time-entries',
    operationId: 'logTime',
    summary: 'Log time on an open ticket (404 for an unknown ticket, 409 for a resolved one)',
    tag: 'time',
    status: 201,
    params: ID_PARAMS,
    body: BODIES.logTime,
    response: ref('TimeEntry'),
    async handler({ params, body, call }, { timeTracking }) {
      const { entry } = await timeTracking.logTime(
        {
          ticketId: params.id,
          minutes: body.minutes,
          description: body.description ?? '',
          workDate: body.workDate ?? '',
        },
        call,
      );
      return timeEntryJson(required(entry, 'time entry'));
    },
  }),
  defineRoute<undefined, TimeEntryFilters>({
    method: 'GET',
    url: '/time-entries',
    operationId: 'listTimeEntries',
    summary: 'Page through time entries, newest first, optionally by ticket or customer',
    tag: 'time',
    querystring: pagedQuery(FILTERS.timeEntries),
    response: page('timeEntries', 'TimeEntry'),
    async handler({ query, call }, { timeTracking }) {
      const res = await timeTracking.listTimeEntries(
        {
          pageSize: query.pageSize,
          pageToken: query.pageToken ?? '',
          ticketId: query.ticketId ?? '',
          customerId: query.customerId ?? '',
        },
        call,
      );
      return { timeEntries: res.entries.map(timeEntryJson), nextPageToken: nextPageToken(res.nextPageToken) };
    },
  }),
];
