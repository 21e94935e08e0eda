/** Test helpers (not exported from the package); the servers come from `findInfra` of @refront/testing. */

/** Runs the CLI in-process, collecting what it prints. */
export interface Collected {
  readonly out: string[];
  readonly err: string[];
  readonly log: (line: string) => void;
  readonly error: (line: string) => void;
}

/** An output that keeps every line, for assertions. */
export function collect(): Collected {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, log: (l) => void out.push(l), error: (l) => void err.push(l) };
}

/** Waits until `predicate` holds, or fails after `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
