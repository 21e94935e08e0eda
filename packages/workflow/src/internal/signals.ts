/** Control flow of a run that is not an error of the workflow: it stops this runner, not the run. */
export class Suspend {
  constructor(
    /** When to resume (ms since the epoch; Infinity: only a signal wakes it). */
    readonly wakeAt: number,
    /** The signal it waits for, if any (a signal already sent wakes it at once). */
    readonly waitingFor: string | undefined,
  ) {}
}

/** The runner must stop without touching the run again (lease lost, closing, journal unreachable). */
export class Interrupt {
  constructor(
    readonly why: 'lease-lost' | 'closing' | 'database',
    readonly cause?: unknown,
  ) {}
}

/** An error thrown by a step's function (as opposed to the engine's own journal writes). */
export class StepFailure {
  constructor(readonly error: unknown) {}
}

/** An operator cancelled the run: it stops before its next step and compensates. */
export class Cancel {
  constructor(
    /** The reason the operator gave, if any. */
    readonly reason: string | null,
  ) {}
}
