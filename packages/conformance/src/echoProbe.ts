import {
  currentContext,
  type ErrorDetails,
  RefrontError,
  type ServiceImplementation,
  type Status,
} from '@refront/core';
import { isStatus, STATUS_CODES } from '@refront/core/transport';
import type { EchoServiceDefinition } from '@refront/test-contracts';

/** `Fail` with this status throws a plain Error whose message must not reach the caller. */
export const THROW_PLAIN = 'THROW_PLAIN';
/** The message of that plain Error: internals no caller may see. */
export const PLAIN_ERROR_MESSAGE = 'boom: password=hunter2 at /srv/internal.ts:42';
/** A `Fail` reason ending with this suffix flips the status's default `retryable`. */
export const FLIP_RETRYABLE = '_FLIP';

/** Every non-OK status. */
export const ALL_STATUSES: readonly Status[] = (
  Object.keys(STATUS_CODES) as (keyof typeof STATUS_CODES)[]
).filter((s): s is Status => s !== 'OK');

/** The details `Fail` attaches to every error it throws, for `status`. */
export function failDetails(status: Status): ErrorDetails {
  return {
    fieldViolations: [
      { field: 'message', description: 'must not be empty' },
      { field: 'lines.0.amount', description: 'must be ≥ 0 (ünïcødé)', reason: 'int64.gte' },
    ],
    metadata: { status, limit: '10/s' },
    retryDelayMs: 1_500,
  };
}

/** What a Sleep handler saw when it ended. */
export interface SleepObservation {
  /** Whether the handler's signal aborted before the sleep was over. */
  readonly aborted: boolean;
  /** The signal's reason, when aborted. */
  readonly reason: unknown;
}

/** The Echo contract's implementation for one server, and what its handlers saw. */
export interface EchoProbe {
  readonly implementation: ServiceImplementation<typeof EchoServiceDefinition>;
  /** How many Echo handlers have run. */
  readonly echoes: number;
  /** Resolves once `count` Sleep handlers have started in total. */
  sleepsStarted(count: number): Promise<void>;
  /** Resolves with the `index`-th (0-based) Sleep handler's end. */
  sleepEnded(index: number): Promise<SleepObservation>;
}

/** A list whose entries can be awaited before they arrive. */
class Awaitable<T> {
  private readonly items: T[] = [];
  private readonly waiters: { index: number; resolve: (v: T) => void }[] = [];

  push(item: T): void {
    this.items.push(item);
    for (const w of [...this.waiters]) {
      if (w.index < this.items.length) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(this.items[w.index] as T);
      }
    }
  }

  at(index: number): Promise<T> {
    if (index < this.items.length) return Promise.resolve(this.items[index] as T);
    return new Promise((resolve) => this.waiters.push({ index, resolve }));
  }
}

function sleepFor(durationMs: number, signal: AbortSignal): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    if (signal.aborted) return resolve(true);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }, durationMs);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Creates the Echo implementation the suite serves: Echo returns what it got with what the
 * handler saw (`caller`, `tenant`, `traceId`, `deadline`, each metadata entry as `md:<key>`);
 * Sleep waits for its duration or its signal; Fail throws the RefrontError it is asked for, with
 * {@link failDetails}, or a plain Error for {@link THROW_PLAIN}.
 */
export function createEchoProbe(): EchoProbe {
  const started = new Awaitable<true>();
  const ended = new Awaitable<SleepObservation>();
  let echoes = 0;
  const implementation: ServiceImplementation<typeof EchoServiceDefinition> = {
    async echo(request, ctx) {
      echoes++;
      return {
        message: request.message,
        payload: request.payload,
        seen: {
          caller: ctx.caller ?? '',
          tenant: ctx.tenant ?? '',
          traceId: currentContext()?.traceId ?? '',
          deadline: ctx.deadline === undefined ? '' : String(ctx.deadline),
          ...Object.fromEntries(Object.entries(ctx.metadata).map(([k, v]) => [`md:${k}`, v])),
        },
      };
    },
    async sleep(request, ctx) {
      started.push(true);
      const aborted = await sleepFor(request.durationMs, ctx.signal);
      ended.push({ aborted, reason: aborted ? ctx.signal.reason : undefined });
      return { aborted };
    },
    async fail(request) {
      if (request.status === THROW_PLAIN) throw new Error(PLAIN_ERROR_MESSAGE);
      if (!isStatus(request.status)) throw new TypeError(`not a status: ${request.status}`);
      const flip = request.reason.endsWith(FLIP_RETRYABLE);
      const byDefault = new RefrontError(request.status, request.reason, request.message).retryable;
      throw new RefrontError(request.status, request.reason, request.message, {
        details: failDetails(request.status),
        retryable: flip ? !byDefault : byDefault,
      });
    },
  };
  return {
    implementation,
    get echoes() {
      return echoes;
    },
    sleepsStarted: async (count) => {
      await started.at(count - 1);
    },
    sleepEnded: (index) => ended.at(index),
  };
}
