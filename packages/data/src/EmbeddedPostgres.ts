import { AsyncLocalStorage } from 'node:async_hooks';
import type { PGlite } from '@electric-sql/pglite';
import { CoreErrors } from '@refront/core';
import { importOptional, invalidOption } from '@refront/core/transport';
import { DataErrors } from './errors.js';
import {
  defaultTemplatePath,
  discardTemplate,
  readTemplate,
  writeTemplate,
} from './internal/pgliteTemplate.js';
import { SCALAR_PARSERS } from './internal/typeParsers.js';

/** One embedded PostgreSQL (PGlite, WASM) shared by many services of a monolith, one schema each. */
export interface EmbeddedPostgres {
  /** Where data lives: 'memory' or a directory. */
  readonly dataDir: string;
  /** Closes the engine; databases opened on it fail afterwards. Idempotent. */
  close(): Promise<void>;
  /** Same as {@link EmbeddedPostgres.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@link createEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** A directory to keep data in across restarts, or 'memory'. @default 'memory' */
  readonly dataDir?: string;
  /**
   * How long a call made from inside a transaction of this engine waits for that transaction to end
   * before failing with `DATA_NESTED_EMBEDDED_CALL` (awaiting it there would deadlock), in ms.
   * @default 5000
   */
  readonly nestedCallTimeoutMs?: number;
  /**
   * In memory: a file holding a fresh cluster to start from instead of running initdb (most of
   * PGlite's start-up), written on the first start (decision 0144); false runs initdb every time.
   * Unused with a `dataDir`. @default one per installed PGlite in `~/.cache/refront`
   * (`$XDG_CACHE_HOME/refront`)
   */
  readonly template?: string | false;
}

/** Default wait of a call issued from inside a transaction of the same engine, in ms. */
export const DEFAULT_NESTED_CALL_TIMEOUT_MS = 5_000;

interface Section {
  open: boolean;
  readonly done: Promise<void>;
}

/**
 * The engine behind an {@link EmbeddedPostgres}. PGlite is one connection, so every statement
 * and transaction of every schema runs one at a time here, each after pinning its schema's
 * search_path on the session (set only when the schema changes).
 */
export class EmbeddedEngine implements EmbeddedPostgres {
  private tail: Promise<void> = Promise.resolve();
  private sessionSchema: string | undefined;
  private readonly sections = new AsyncLocalStorage<Section>();
  private closing: Promise<void> | undefined;

  constructor(
    readonly dataDir: string,
    private readonly pg: PGlite,
    private readonly nestedCallTimeoutMs: number,
  ) {}

  /** Runs `fn` alone on the engine with `schema` as the session's search_path. */
  async run<T>(
    schema: string,
    fn: (pg: PGlite) => Promise<T>,
    touchedSearchPath?: () => boolean,
  ): Promise<T> {
    if (this.closing) throw CoreErrors.CLOSED('the embedded database');
    const outer = this.sections.getStore();
    if (outer?.open) await this.waitForOuter(outer);
    let release!: () => void;
    const section: Section = { open: true, done: new Promise<void>((r) => (release = r)) };
    const previous = this.tail;
    this.tail = previous.then(() => section.done);
    await previous;
    try {
      if (this.closing) throw CoreErrors.CLOSED('the embedded database');
      return await this.sections.run(section, async () => {
        if (this.sessionSchema !== schema) {
          this.sessionSchema = undefined;
          await this.pg.exec(`SET search_path TO "${schema}"`);
          this.sessionSchema = schema;
        }
        return await fn(this.pg);
      });
    } finally {
      // A statement that may have changed search_path makes the next one set it again.
      if (touchedSearchPath?.()) this.sessionSchema = undefined;
      section.open = false;
      release();
    }
  }

  private async waitForOuter(outer: Section): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.nestedCallTimeoutMs);
    });
    try {
      const expired = await Promise.race([outer.done.then(() => false), timedOut]);
      if (expired) {
        throw DataErrors.NESTED_EMBEDDED_CALL();
      }
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.tail.then(() => this.pg.close());
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Opens PGlite (PostgreSQL in WASM, no native code), in memory by default or in a directory.
 * Takes 1-4 s: open ONE per process and pass it to every service's {@link openDatabase}. In
 * memory it starts from a template of a fresh cluster kept on disk (`template`), about three
 * times faster than initdb, which only the first start runs.
 * The session runs with TimeZone=UTC, as PostgreSQL connections of `openDatabase` do.
 *
 * PGlite (`@electric-sql/pglite`, 27 MB) is an optional peer dependency: install it to use this.
 *
 * @throws RefrontError INVALID_ARGUMENT for a bad option.
 * @throws RefrontError FAILED_PRECONDITION `CORE_OPTIONAL_DEPENDENCY_MISSING` when
 *   `@electric-sql/pglite` is not installed.
 * @example
 * await using embedded = await createEmbeddedPostgres();
 * const tickets = await openDatabase({ schema: 'tickets', embedded });
 * const billing = await openDatabase({ schema: 'billing', embedded });
 */
export async function createEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgres> {
  const dataDir = options.dataDir ?? 'memory';
  if (typeof dataDir !== 'string' || dataDir === '')
    throw invalidOption('dataDir must be "memory" or a directory');
  const nested = options.nestedCallTimeoutMs ?? DEFAULT_NESTED_CALL_TIMEOUT_MS;
  if (!Number.isFinite(nested) || nested < 0) throw invalidOption('nestedCallTimeoutMs must be a number ≥ 0');
  // Loaded on demand (an optional peer dependency): a service on PostgreSQL never installs or
  // loads the WASM engine.
  const { PGlite } = await importOptional(
    'createEmbeddedPostgres',
    ['@electric-sql/pglite'],
    () => import('@electric-sql/pglite'),
  );
  const parsers = { ...SCALAR_PARSERS };
  let pg: PGlite | undefined;
  const template =
    dataDir !== 'memory' || options.template === false
      ? undefined
      : (options.template ?? defaultTemplatePath());
  if (template !== undefined) {
    const dump = await readTemplate(template);
    if (dump) {
      pg = await PGlite.create({ loadDataDir: dump, parsers }).catch(async () => {
        await discardTemplate(template); // written by another PGlite, or damaged: made again below
        return undefined;
      });
    }
  }
  if (!pg) {
    pg = await PGlite.create({ ...(dataDir === 'memory' ? {} : { dataDir }), parsers });
    // The fresh cluster, before anything is written to it, is the next start's template.
    if (template !== undefined) await writeTemplate(template, await pg.dumpDataDir('none'));
  }
  await pg.exec(`SET TimeZone TO 'UTC'`);
  return new EmbeddedEngine(dataDir, pg, nested);
}
