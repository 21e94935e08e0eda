import { connect as tcp } from 'node:net';

/** Test helpers (not exported from the package). */
export const AMQP_URL = process.env.REFRONT_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const PG_URL = process.env.REFRONT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function reachable(url: string, fallbackPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = tcp({ host: u.hostname, port: Number(u.port || fallbackPort) });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1_000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Whether the server a suite needs answers. When it does not: with REFRONT_REQUIRE_INFRA=1 (CI)
 * this throws; otherwise it prints how to start it and the suite skips.
 */
export async function infraAvailable(what: 'rabbitmq' | 'postgres'): Promise<boolean> {
  const ok = what === 'rabbitmq' ? await reachable(AMQP_URL, 5672) : await reachable(PG_URL, 5432);
  if (ok) return true;
  const hint =
    what === 'rabbitmq'
      ? `RabbitMQ is not reachable at ${AMQP_URL}: start it with \`rabbitmq-server -detached\``
      : `PostgreSQL is not reachable at ${PG_URL}: start it with \`pg_ctlcluster <version> main start\``;
  if (process.env.REFRONT_REQUIRE_INFRA === '1') throw new Error(`${hint} (REFRONT_REQUIRE_INFRA=1)`);
  console.warn(`skipping: ${hint}`);
  return false;
}

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
