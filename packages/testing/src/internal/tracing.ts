import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { setupTracing, type TracingHandle } from '@refront/core';

interface Shared {
  readonly exporter: InMemorySpanExporter;
  readonly handle: Promise<TracingHandle>;
  users: number;
}

// OpenTelemetry has one global tracer provider per process: apps open at once share it.
let shared: Shared | undefined;

/** The process's in-memory exporter, registered on first use; `release` shuts it down after the last user. */
export async function acquireTracing(): Promise<{
  exporter: InMemorySpanExporter;
  release(): Promise<void>;
}> {
  if (!shared) {
    const exporter = new InMemorySpanExporter();
    shared = {
      exporter,
      handle: setupTracing({ serviceName: 'refront-test', exporter, simple: true }),
      users: 0,
    };
  }
  const s = shared;
  s.users++;
  await s.handle;
  let released = false;
  return {
    exporter: s.exporter,
    async release() {
      if (released) return;
      released = true;
      if (--s.users > 0) return;
      if (shared === s) shared = undefined;
      await (await s.handle).shutdown();
    },
  };
}
