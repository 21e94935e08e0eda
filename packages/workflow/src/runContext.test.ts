import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  createRequestContext,
  currentContext,
  runWithContext,
  setupTracing,
  startSpan,
  type TracingHandle,
} from '@refront/core';
import type { Database } from '@refront/data';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defineWorkflow } from './defineWorkflow.js';
import { describeEngines, silent } from './testing/engines.js';
import { createWorkflowEngine } from './WorkflowEngine.js';

/** Two steps, each recording the tenant and trace it ran in, and on which runner. */
function recording(runner: string, db: Database) {
  const seen = async (runId: string, step: string): Promise<void> => {
    const ctx = currentContext();
    await db.query('insert into invocations (run_id, step, runner) values ($1, $2, $3)', [
      runId,
      step,
      `${runner}:${ctx?.tenant ?? '-'}:${ctx?.traceId ?? '-'}`,
    ]);
  };
  return defineWorkflow({
    name: 'context',
    async run(ctx) {
      await ctx.step('a', () => seen(ctx.runId, 'a'));
      await ctx.step('b', () => seen(ctx.runId, 'b'));
      return 'done';
    },
  });
}

const exporter = new InMemorySpanExporter();
let tracing: TracingHandle | undefined;
beforeAll(async () => {
  tracing = await setupTracing({ serviceName: 'workflow-test', exporter, simple: true });
});
afterAll(async () => {
  await tracing?.shutdown();
});

function spansOf(runId: string, name: string): ReadableSpan[] {
  return exporter
    .getFinishedSpans()
    .filter((s) => s.name === name && s.attributes['workflow.run_id'] === runId);
}

describeEngines('run context', (fx) => {
  it('resumes a run on another engine in the tenant it was started for, in a new trace linked to the first', async () => {
    const dbA = await fx.open();
    const dbB = await fx.open(dbA.schema);
    // Runner A dies before step b: it reaches the fault point once and is closed there.
    let reached = (): void => undefined;
    const atFault = new Promise<void>((r) => {
      reached = r;
    });
    let crash = (): void => undefined;
    const crashed = new Promise<void>((r) => {
      crash = r;
    });
    const a = await createWorkflowEngine({
      db: dbA,
      workflows: [recording('A', dbA)],
      logger: silent,
      instanceId: 'A',
      pollIntervalMs: 20,
      faultPoint: async (p) => {
        if (p.step !== 'b' || p.when !== 'before') return;
        reached();
        await crashed;
        throw new Error('crash before b');
      },
    });
    const origin = startSpan('http POST /close', { kind: SpanKind.SERVER });
    const request = createRequestContext({
      service: 'gateway',
      logger: silent,
      tenant: 'tenant-a',
      parent: origin.spanContext(),
    });
    const run = await runWithContext(request, () => a.start(recording('A', dbA), {}));
    origin.end();
    const started = origin.spanContext();
    // The crash hits the run in flight: step a is journaled, b never ran on A.
    await atFault;
    const closing = a.close();
    crash();
    await closing;
    const journaled = await dbA.query<{ name: string }>(
      'select name from refront_workflow_steps where run_id = $1',
      [run.id],
    );
    expect(journaled.rows.map((r) => r.name)).toEqual(['a']);

    // Outside any request context: the engine restores the run's own.
    await using b = await createWorkflowEngine({
      db: dbB,
      workflows: [recording('B', dbB)],
      logger: silent,
      instanceId: 'B',
      pollIntervalMs: 20,
    });
    expect(currentContext()).toBeUndefined();
    expect(await b.result(run.id)).toBe('done');

    const resumed = spansOf(run.id, 'workflow.run context').find(
      (s) => s.attributes['workflow.runner'] === 'B',
    );
    expect(resumed?.attributes['workflow.resumed']).toBe(true);
    expect(resumed).toBeDefined();
    const resumedTrace = resumed?.spanContext().traceId;
    const { rows } = await dbB.query<{ step: string; runner: string }>(
      'select step, runner from invocations where run_id = $1 order by step',
      [run.id],
    );
    expect(rows).toEqual([
      { step: 'a', runner: `A:tenant-a:${started.traceId}` },
      { step: 'b', runner: `B:tenant-a:${resumedTrace}` },
    ]);
    // The resumed part is a trace root of its own with a link to the starting request's span.
    expect(resumedTrace).not.toBe(started.traceId);
    expect(resumed?.parentSpanContext).toBeUndefined();
    expect(resumed?.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([
      [started.traceId, started.spanId],
    ]);
    expect(resumed?.attributes['refront.tenant']).toBe('tenant-a');
    // The first execution ran under the starting request; each step span under its run span.
    const first = spansOf(run.id, 'workflow.run context').filter((s) => !s.attributes['workflow.resumed']);
    expect(first.map((s) => s.parentSpanContext?.spanId)).toContain(started.spanId);
    const [stepB] = spansOf(run.id, 'workflow.step context/b').filter(
      (s) => s.spanContext().traceId === resumedTrace,
    );
    expect(stepB?.parentSpanContext?.spanId).toBe(resumed?.spanContext().spanId);
  });
});
