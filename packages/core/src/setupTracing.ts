import type { Sampler, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { importOptional } from './importOptional.js';

/** The SDK packages `setupTracing` loads: optional peer dependencies of `@refront/core`. */
const SDK = ['@opentelemetry/sdk-trace-node', '@opentelemetry/sdk-trace-base', '@opentelemetry/resources'];
/** The exporter it loads when `OTEL_EXPORTER_OTLP_ENDPOINT` is set and no `exporter` is given. */
const OTLP = ['@opentelemetry/exporter-trace-otlp-http'];

/** Options of {@link setupTracing}. */
export interface TracingOptions {
  /** `service.name` of the resource. */
  readonly serviceName: string;
  /** `service.version` of the resource. */
  readonly serviceVersion?: string;
  /** Where spans go. @default an OTLP/HTTP exporter when OTEL_EXPORTER_OTLP_ENDPOINT is set, else none */
  readonly exporter?: SpanExporter;
  /**
   * Which traces are recorded: it decides every root, an entry point's too (a context made without
   * a parent). @default the SDK's: `OTEL_TRACES_SAMPLER`/`OTEL_TRACES_SAMPLER_ARG` of process.env,
   * else parent-based always-on
   */
  readonly sampler?: Sampler;
  /**
   * More exporters that get every span as well, each behind a processor of its own (an in-process
   * sink such as the console's `createConsoleSpanExporter`): the OTLP/HTTP one of
   * OTEL_EXPORTER_OTLP_ENDPOINT, or `exporter`, still gets them. @default none
   */
  readonly extraExporters?: readonly SpanExporter[];
  /** Export each span at once instead of in batches (tests). @default false */
  readonly simple?: boolean;
  /** The environment (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A running OpenTelemetry SDK set up by {@link setupTracing}. */
export interface TracingHandle {
  /** Whether an SDK was registered (false when there is nowhere to export to). */
  readonly enabled: boolean;
  /** Flushes pending spans. */
  flush(): Promise<void>;
  /** Flushes and unregisters the SDK. */
  shutdown(): Promise<void>;
}

/**
 * Opt-in: registers the OpenTelemetry Node SDK (AsyncLocalStorage context, W3C propagation)
 * with an OTLP/HTTP exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, or with `exporter`, and
 * with each of `extraExporters` beside it; each exporter has its own batch processor.
 * Refront never forces an SDK on you: without this call, spans are no-ops but trace ids still
 * cross every hop and appear in logs. The SDK packages are optional peer dependencies, loaded
 * here only: install `@opentelemetry/sdk-trace-node`, `@opentelemetry/sdk-trace-base` and
 * `@opentelemetry/resources` (and `@opentelemetry/exporter-trace-otlp-http` for OTLP).
 *
 * @throws RefrontError FAILED_PRECONDITION `CORE_OPTIONAL_DEPENDENCY_MISSING` naming the packages
 *   to install when one is missing.
 * @example
 * const tracing = await setupTracing({ serviceName: 'tickets' });
 * // … on shutdown
 * await tracing.shutdown();
 */
export async function setupTracing(options: TracingOptions): Promise<TracingHandle> {
  const env = options.env ?? process.env;
  let exporter = options.exporter;
  if (!exporter && env.OTEL_EXPORTER_OTLP_ENDPOINT) {
    const { OTLPTraceExporter } = await importOptional(
      'setupTracing with OTEL_EXPORTER_OTLP_ENDPOINT',
      OTLP,
      () => import('@opentelemetry/exporter-trace-otlp-http'),
    );
    // The exporter reads process.env itself; an `env` of the caller's says where, as the spec
    // does: the traces endpoint as is, else the base endpoint + /v1/traces.
    exporter =
      env === process.env
        ? new OTLPTraceExporter()
        : new OTLPTraceExporter({
            url:
              env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
              `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`,
          });
  }
  const exporters = [...(exporter ? [exporter] : []), ...(options.extraExporters ?? [])];
  if (exporters.length === 0) {
    return { enabled: false, flush: async () => {}, shutdown: async () => {} };
  }
  const [{ NodeTracerProvider }, { BatchSpanProcessor, SimpleSpanProcessor }, { resourceFromAttributes }] =
    await importOptional('setupTracing', SDK, () =>
      Promise.all([
        import('@opentelemetry/sdk-trace-node'),
        import('@opentelemetry/sdk-trace-base'),
        import('@opentelemetry/resources'),
      ]),
    );
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}),
    }),
    ...(options.sampler ? { sampler: options.sampler } : {}),
    spanProcessors: exporters.map((e) =>
      options.simple ? new SimpleSpanProcessor(e) : new BatchSpanProcessor(e),
    ),
  });
  provider.register();
  return {
    enabled: true,
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown();
      const api = await import('@opentelemetry/api');
      api.trace.disable();
      api.context.disable();
      api.propagation.disable();
    },
  };
}
