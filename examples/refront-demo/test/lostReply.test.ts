/**
 * A reply lost after the server committed, on mux and on gRPC, against PostgreSQL: LogTime runs
 * on one time-tracking instance, commits its entry, and that instance's connection is cut before
 * it answers (placed by the commit, not by time). The caller's retry lands on the other instance,
 * which answers with the stored entry: one row, one TimeLogged, the first response. A caller that
 * does not hold LogTime idempotent is not retried (CORE_LOST_IN_FLIGHT); and with the key
 * stripped before the handler the same fault logs the time twice, so the row count can fail.
 */
import type { ServiceDefinition } from '@refront/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TimeTrackingServiceDefinition } from '../src/gen/refront/timetracking/v1/timetracking.js';
import { eventually, rejection } from '../src/platform/testing/harness.js';
import { type Instance, startLostReplyFixture } from './lostReplyFixture.js';
import { freshInfrastructure, infrastructure } from './topology.js';

const infra = await infrastructure('the lost-reply fault test');
let url = '';
beforeAll(async () => {
  if (infra) url = await freshInfrastructure('refront_lost_reply', 'refront_lost_reply');
});

/** LogTime as a caller that does not declare it idempotent sees it (the same wire method). */
const NonIdempotentTimeTracking = {
  ...TimeTrackingServiceDefinition,
  methods: {
    ...TimeTrackingServiceDefinition.methods,
    logTime: { ...TimeTrackingServiceDefinition.methods.logTime, options: {} },
  },
} as const satisfies ServiceDefinition;

const request = (ticketId: string, description: string) => ({
  ticketId,
  minutes: 45,
  description,
  workDate: '2026-11-04',
});

/** The instance the fault cut, and the other one; fails unless exactly one was cut. */
function split(instances: readonly [Instance, Instance]): { cut: Instance; other: Instance } {
  const [a, b] = instances;
  expect([a.wasCut, b.wasCut].filter(Boolean)).toHaveLength(1);
  return a.wasCut ? { cut: a, other: b } : { cut: b, other: a };
}

describe.skipIf(!infra)('a reply lost after LogTime committed', () => {
  describe.each(['mux', 'grpc'] as const)('on %s', (lane) => {
    it('is retried on the other instance, which answers with the stored entry: one row, one TimeLogged', async () => {
      await using f = await startLostReplyFixture({ lane, url });
      const ticketId = await f.openTicket();
      f.cutAfterNextCommit();
      const { entry } = await f
        .client(TimeTrackingServiceDefinition)
        .logTime(request(ticketId, 'lost reply'));

      // The fault hit a call in flight: the instance that ran it committed, then lost its connection.
      const { cut, other } = split(f.instances);
      expect([cut.runs, cut.committedInserts, await cut.replays()]).toEqual([1, 1, 0]);
      // Exactly one row (its id is generated per handler run), and the caller got its id.
      const rows = await f.entries(ticketId);
      expect(rows.count).toBe(1);
      expect(rows.ids).toEqual([entry?.id]);
      // The retry went to the other instance, which replayed the stored response and wrote nothing.
      expect([other.runs, other.committedInserts, await other.replays()]).toEqual([1, 0, 1]);
      // One TimeLogged: the outbox both instances relay (either may publish it) published one
      // event in all, and the audit group received one for the ticket.
      await f.flushOutboxes();
      expect((await cut.published()) + (await other.published())).toBe(1);
      const event = await eventually(async () => f.logged.find((e) => e.entryId === entry?.id));
      expect(event).toMatchObject({ ticketId, minutes: 45 });
      expect(f.logged.filter((e) => e.ticketId === ticketId)).toHaveLength(1);
    });

    it('is not retried for a caller that does not hold LogTime idempotent: CORE_LOST_IN_FLIGHT, one run, one row', async () => {
      await using f = await startLostReplyFixture({ lane, url });
      const ticketId = await f.openTicket();
      f.cutAfterNextCommit();
      const error = await rejection(
        f.client(NonIdempotentTimeTracking).logTime(request(ticketId, 'lost, not retried')),
      );
      expect(error).toMatchObject({
        status: 'UNAVAILABLE',
        reason: 'CORE_LOST_IN_FLIGHT',
        unprocessed: false,
      });
      const { cut, other } = split(f.instances);
      expect([cut.runs, cut.committedInserts]).toEqual([1, 1]);
      expect(other.runs).toBe(0);
      expect((await f.entries(ticketId)).count).toBe(1);
    });

    it('control: with the idempotency key stripped before the handler, the retry logs the time twice', async () => {
      await using f = await startLostReplyFixture({ lane, url, stripIdempotencyKeys: true });
      const ticketId = await f.openTicket();
      f.cutAfterNextCommit();
      const { entry } = await f.client(TimeTrackingServiceDefinition).logTime(request(ticketId, 'twice'));
      const { cut, other } = split(f.instances);
      expect([cut.committedInserts, other.committedInserts]).toEqual([1, 1]);
      // What the key prevents: a second row, and the caller holds the id of the second only.
      const rows = await f.entries(ticketId);
      expect(rows.count).toBe(2);
      expect(rows.ids).toContain(entry?.id);
    });
  });
});
