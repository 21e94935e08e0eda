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
  /** Where lines go. @default standard output */
  readonly destination?: DestinationStream;
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
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? DEFAULT_LOG_LEVEL;
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
    options.destination,
  );
}
