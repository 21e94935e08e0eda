import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createRequestContext, currentContext, runWithContext } from './context.js';
import { createLogger } from './logger.js';
import { formatTraceparent, parseTraceparent } from './trace.js';

const logger = createLogger({ service: 'test', level: 'silent' });

describe('request context', () => {
  it('survives awaits, timers, immediates and event handlers', async () => {
    const ctx = createRequestContext({ service: 's', logger, tenant: 't1', caller: 'c' });
    const seen = await runWithContext(ctx, async () => {
      const out: (string | undefined)[] = [];
      await Promise.resolve();
      out.push(currentContext()?.tenant);
      await new Promise<void>((r) =>
        setTimeout(() => {
          out.push(currentContext()?.tenant);
          r();
        }, 1),
      );
      await new Promise<void>((r) =>
        setImmediate(() => {
          out.push(currentContext()?.tenant);
          r();
        }),
      );
      const emitter = new EventEmitter();
      emitter.on('x', () => out.push(currentContext()?.tenant));
      emitter.emit('x');
      return out;
    });
    expect(seen).toEqual(['t1', 't1', 't1', 't1']);
    expect(currentContext()).toBeUndefined();
  });

  it('creates its signal lazily and aborts it with the first reason', () => {
    const ctx = createRequestContext({ service: 's', logger });
    ctx.abort('first');
    ctx.abort('second');
    expect(ctx.signal.aborted).toBe(true);
    expect(ctx.signal.reason).toBe('first');
  });

  it('follows the cancel signal of the transport', () => {
    const cancel = new AbortController();
    const ctx = createRequestContext({ service: 's', logger, cancel: cancel.signal });
    const signal = ctx.signal;
    expect(signal.aborted).toBe(false);
    cancel.abort('gone');
    expect(signal.reason).toBe('gone');
  });

  it('reports the time left before the deadline', () => {
    expect(createRequestContext({ service: 's', logger }).remainingMs()).toBe(Number.POSITIVE_INFINITY);
    const left = createRequestContext({ service: 's', logger, deadline: Date.now() + 1_000 }).remainingMs();
    expect(left).toBeGreaterThan(900);
    expect(createRequestContext({ service: 's', logger, deadline: Date.now() - 5 }).remainingMs()).toBe(0);
  });

  it('puts trace_id, span_id and tenant on every log line written inside it', () => {
    const lines: string[] = [];
    const log = createLogger({
      service: 'svc',
      level: 'info',
      destination: { write: (l: string) => void lines.push(l) },
    });
    const parent = parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    const ctx = createRequestContext({ service: 'svc', logger: log, tenant: 'acme', parent });
    runWithContext(ctx, () => log.info('inside'));
    log.info('outside');
    const [inside, outside] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(inside).toMatchObject({
      service: 'svc',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
      tenant: 'acme',
      msg: 'inside',
    });
    expect(outside).not.toHaveProperty('trace_id');
  });
});

describe('W3C traceparent', () => {
  it('parses a valid header and formats it back', () => {
    const h = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const sc = parseTraceparent(h);
    expect(sc).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
    });
    expect(formatTraceparent(sc!)).toBe(h);
  });

  it('ignores malformed headers instead of failing the request', () => {
    for (const bad of [
      undefined,
      '',
      'garbage',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
    ]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });
});
