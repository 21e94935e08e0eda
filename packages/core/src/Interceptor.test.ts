import { describe, expect, it } from 'vitest';
import { bindChain, type Call, compose, type Interceptor } from './Interceptor.js';

const call: Call<string> = {
  side: 'client',
  method: { service: 's', name: 'm', path: '/s/m', idempotent: false },
  request: 'req',
  metadata: {},
  deadline: undefined,
  signal: undefined,
  context: undefined,
  peer: undefined,
};

function tracer(name: string, log: string[]): Interceptor {
  return async (c, next) => {
    log.push(`>${name}`);
    const res = await next(c);
    log.push(`<${name}`);
    return res;
  };
}

describe('compose', () => {
  it('runs the first interceptor outermost', async () => {
    const log: string[] = [];
    const chain = compose(tracer('a', log), tracer('b', log), tracer('c', log));
    await chain(call, async () => void log.push('handler'));
    expect(log).toEqual(['>a', '>b', '>c', 'handler', '<c', '<b', '<a']);
  });

  it('binds the same order once with bindChain', async () => {
    const log: string[] = [];
    const run = bindChain([tracer('a', log), tracer('b', log)], async () => 'res');
    expect(await run(call)).toBe('res');
    expect(log).toEqual(['>a', '>b', '<b', '<a']);
  });

  it('lets an interceptor short-circuit or change the request', async () => {
    const upper: Interceptor = (c, next) => next({ ...c, request: String(c.request).toUpperCase() as never });
    const chain = compose(upper);
    expect(await chain(call, async (c) => c.request)).toBe('REQ');
    expect(await compose()(call, async (c) => c.request)).toBe('req');
  });
});
