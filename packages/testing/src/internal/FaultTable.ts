import { invalidOption } from '@refront/core/transport';
import type { CallMatch, EventMatch, Fault, FaultHandle, FaultSchedule, Faults } from '../Faults.js';

/** One call as the faulty channel sees it. */
export interface CallFacts {
  readonly service: string;
  readonly method: string;
  readonly caller: string;
}

/** One publish (group undefined) or delivery as the faulty bus sees it. */
export interface EventFacts {
  readonly type: string;
  readonly source: string;
  readonly group: string | undefined;
}

interface Rule<F> {
  readonly test: (facts: F) => boolean;
  readonly fault: Fault;
  readonly nth: number | undefined;
  readonly times: number;
  hits: number;
  matches: number;
}

function checkFault(fault: Fault, schedule: FaultSchedule): void {
  if (fault.kind === 'delay' && !(fault.ms >= 0))
    throw invalidOption(`delay ms must be >= 0, got ${fault.ms}`);
  if (schedule.nth !== undefined && !(Number.isInteger(schedule.nth) && schedule.nth >= 1))
    throw invalidOption(`nth must be an integer >= 1, got ${schedule.nth}`);
  if (schedule.times !== undefined && !(schedule.times >= 0))
    throw invalidOption(`times must be >= 0, got ${schedule.times}`);
}

function callTest(match: CallMatch): (c: CallFacts) => boolean {
  const service = typeof match.service === 'object' ? match.service.fullName : match.service;
  return (c) =>
    (service === undefined || c.service === service || c.service.endsWith(`.${service}`)) &&
    (match.method === undefined || c.method === match.method) &&
    (match.caller === undefined || c.caller === match.caller);
}

function eventTest(match: EventMatch): (e: EventFacts) => boolean {
  const type = typeof match.type === 'object' ? match.type.$type : match.type;
  return (e) =>
    (type === undefined || e.type === type) &&
    (match.source === undefined || e.source === match.source) &&
    match.group === e.group;
}

/** The faults of one app and the lookup its lanes make for each call, publish and delivery. */
export class FaultTable implements Faults {
  private readonly calls: Rule<CallFacts>[] = [];
  private readonly events: Rule<EventFacts>[] = [];

  call(match: CallMatch, fault: Fault, schedule: FaultSchedule = {}): FaultHandle {
    return this.add(this.calls, callTest(match), fault, schedule);
  }

  event(match: EventMatch, fault: Fault, schedule: FaultSchedule = {}): FaultHandle {
    return this.add(this.events, eventTest(match), fault, schedule);
  }

  clear(): void {
    this.calls.length = 0;
    this.events.length = 0;
  }

  /** The fault that hits this call, if any (counting it). */
  forCall(facts: CallFacts): Fault | undefined {
    return pick(this.calls, facts);
  }

  /** The fault that hits this publish or delivery, if any (counting it). */
  forEvent(facts: EventFacts): Fault | undefined {
    return pick(this.events, facts);
  }

  private add<F>(
    list: Rule<F>[],
    test: (f: F) => boolean,
    fault: Fault,
    schedule: FaultSchedule,
  ): FaultHandle {
    checkFault(fault, schedule);
    const rule: Rule<F> = {
      test,
      fault,
      nth: schedule.nth,
      times: schedule.times ?? Number.POSITIVE_INFINITY,
      hits: 0,
      matches: 0,
    };
    list.push(rule);
    return {
      get hits() {
        return rule.hits;
      },
      get matches() {
        return rule.matches;
      },
      remove: () => {
        const i = list.indexOf(rule);
        if (i >= 0) list.splice(i, 1);
      },
    };
  }
}

function pick<F>(rules: readonly Rule<F>[], facts: F): Fault | undefined {
  let chosen: Fault | undefined;
  for (const rule of rules) {
    if (!rule.test(facts)) continue;
    rule.matches++;
    const hit = rule.nth !== undefined ? rule.matches === rule.nth : rule.hits < rule.times;
    if (hit && chosen === undefined) {
      rule.hits++;
      chosen = rule.fault;
    }
  }
  return chosen;
}
