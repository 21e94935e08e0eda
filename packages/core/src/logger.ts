import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';
import { currentContext } from './context.js';

/** The Refront logger: pino, JSON lines. */
export type Logger = PinoLogger;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Service name, on every line as `service`. */
  readonly service: string;
  /** Service version, on every line as `version`. */
  readonly version?: string;
  /** Minimum level (`trace`…`fatal`, or `silent`). @default process.env.LOG_LEVEL ?? 'info' */
  readonly level?: string;
  /** Where lines go. @default `host`'s destination, else standard output */
  readonly destination?: DestinationStream;
  /**
   * The logger of the process that hosts this service (a monolith hosting modules): the new logger
   * writes where it writes, at its level unless `level` is given, with `service` set once to this
   * service's name. A pino child of it would carry `service` twice, which JSON parsers that refuse
   * duplicate keys (Elasticsearch) reject. Its level is copied, not followed.
   */
  readonly host?: Logger;
}

/** The default log level when neither the option nor LOG_LEVEL sets one. */
export const DEFAULT_LOG_LEVEL = 'info';

/**
 * Creates a pino logger whose every line carries `service`, and `trace_id`, `span_id` and
 * `tenant` when written inside a request context.
 *
 * @example
 * const logger = createLogger({ service: 'tickets', version: '1.0.0' });
 * logger.info({ ticketId }, 'ticket created'); // {"service":"tickets","trace_id":"…",…}
 * // A module hosted in a monolith: its own `service`, the host's destination and level.
 * const tickets = createLogger({ service: 'tickets', host: service.logger });
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? options.host?.level ?? process.env.LOG_LEVEL ?? DEFAULT_LOG_LEVEL;
  const destination =
    options.destination ??
    (options.host as unknown as Record<symbol, DestinationStream | undefined> | undefined)?.[
      pino.symbols.streamSym
    ];
  return pino(
    {
      level,
      base: { service: options.service, ...(options.version ? { version: options.version } : {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const ctx = currentContext();
        if (!ctx) return {};
        const fields: Record<string, string> = { trace_id: ctx.traceId, span_id: ctx.spanId };
        if (ctx.tenant) fields.tenant = ctx.tenant;
        return fields;
      },
    },
    destination,
  );
}
