import type { ServiceInstance } from '@refront/core';

/** Consumes a watch in the background, recording each set, so tests can wait for one. */
export interface WatchRecorder extends AsyncDisposable {
  /** Every set received, oldest first. */
  readonly sets: (readonly ServiceInstance[])[];
  /** Resolves once the watch ended (its signal aborted or the registry closed). */
  readonly ended: Promise<void>;
  /** The error the watch threw, if any. */
  readonly error: () => unknown;
  /** The ids in the latest set, sorted. */
  latestIds(): string[];
  /** Stops the watch and waits for it to end. */
  stop(): Promise<void>;
}

/** Starts consuming `watch(signal)` at once. */
export function recordWatch(
  watch: (signal: AbortSignal) => AsyncIterable<readonly ServiceInstance[]>,
): WatchRecorder {
  const controller = new AbortController();
  const sets: (readonly ServiceInstance[])[] = [];
  let error: unknown;
  const ended = (async () => {
    try {
      for await (const set of watch(controller.signal)) sets.push(set);
    } catch (e: unknown) {
      error = e;
    }
  })();
  const stop = async () => {
    controller.abort();
    await ended;
  };
  return {
    sets,
    ended,
    error: () => error,
    latestIds: () => (sets.at(-1) ?? []).map((i) => i.id).sort(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
