import { type Clock, install } from '@sinonjs/fake-timers';
import { TestingErrors } from './errors.js';

/** The timer functions a {@link TestClock} replaces once installed. */
export const FAKED_TIMERS = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] as const;

/** Options of {@link TestClock.install}. */
export interface ClockInstallOptions {
  /** The time the clock starts at, in ms since the epoch. @default the real time now */
  readonly now?: number | Date;
}

/**
 * A clock the test moves by hand: once installed, `setTimeout`, `setInterval` and `Date` are
 * @sinonjs/fake-timers' (decision 0120), so retry delays, retry ladders, circuit breaker
 * windows, deadlines and delay faults wait for {@link TestClock.advance} instead of real time.
 * Promises, I/O and `setImmediate` stay real: databases and sockets keep working. Waits of the
 * kit itself (`waitFor`, `eventually`) keep real time, so a test never hangs on a frozen clock.
 *
 * @example
 * app.clock.install();
 * const pending = client.getTicket({ id }); // fails once, the retry waits its backoff
 * await app.clock.advance(1_000);          // the retry runs now
 * await pending;
 */
export interface TestClock {
  /** Whether the fake clock is in place. */
  readonly installed: boolean;
  /**
   * Replaces the timer globals ({@link FAKED_TIMERS}) with fake ones.
   * @throws RefrontError FAILED_PRECONDITION `TESTING_INVALID_STATE` when already installed.
   */
  install(options?: ClockInstallOptions): void;
  /** The clock's time, in ms since the epoch (the real time while not installed). */
  now(): number;
  /**
   * Moves the clock on by `ms`, running every timer that falls due, in order, and letting the
   * promises each one starts settle before the next.
   * @throws RefrontError FAILED_PRECONDITION `TESTING_INVALID_STATE` when not installed.
   */
  advance(ms: number): Promise<void>;
  /**
   * Runs the timers already scheduled (not the ones they schedule), moving the clock to the last.
   * @throws RefrontError FAILED_PRECONDITION `TESTING_INVALID_STATE` when not installed.
   */
  runPending(): Promise<void>;
  /** Timers scheduled and not run yet (0 while not installed). */
  pendingTimers(): number;
  /** Puts the real timers back; pending fake timers are dropped. Idempotent. */
  uninstall(): void;
}

/** Creates a {@link TestClock}, not installed. */
export function createTestClock(): TestClock {
  let clock: Clock | undefined;
  const need = (): Clock => {
    if (!clock) throw TestingErrors.INVALID_STATE('the test clock is not installed (call clock.install())');
    return clock;
  };
  return {
    get installed() {
      return clock !== undefined;
    },
    install(options = {}) {
      if (clock) throw TestingErrors.INVALID_STATE('the test clock is installed already');
      clock = install({
        toFake: [...FAKED_TIMERS],
        now: options.now ?? Date.now(),
        shouldClearNativeTimers: true,
      });
    },
    now: () => (clock ? clock.now : Date.now()),
    async advance(ms) {
      await need().tickAsync(ms);
    },
    async runPending() {
      await need().runToLastAsync();
    },
    pendingTimers: () => (clock ? clock.countTimers() : 0),
    uninstall() {
      clock?.uninstall();
      clock = undefined;
    },
  };
}
