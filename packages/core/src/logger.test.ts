import { describe, expect, it } from 'vitest';
import { createRequestContext, runWithContext } from './context.js';
import { createLogger } from './logger.js';

describe('createLogger({ host })', () => {
  const hosted = () => {
    const raw: string[] = [];
    const host = createLogger({
      service: 'refront-demo',
      version: '1.0.0',
      level: 'warn',
      destination: { write: (l: string) => void raw.push(l) },
    });
    return { raw, host, tickets: createLogger({ service: 'tickets', host }) };
  };

  it('writes where the host writes, with its own service named once', () => {
    const { raw, host, tickets } = hosted();
    host.warn('host line');
    tickets.warn({ ticketId: 't-1' }, 'ticket line');
    expect(raw).toHaveLength(2);
    // A pino child of the host would write `"service":"refront-demo","service":"tickets"`.
    expect(raw[1]?.match(/"service":/g)).toHaveLength(1);
    expect(JSON.parse(raw[0] as string)).toMatchObject({ service: 'refront-demo', msg: 'host line' });
    expect(JSON.parse(raw[1] as string)).toMatchObject({ service: 'tickets', ticketId: 't-1' });
  });

  it("takes the host's level unless given one, and keeps the request context's fields", () => {
    const { raw, tickets } = hosted();
    expect(tickets.level).toBe('warn');
    tickets.info('below the level');
    runWithContext(createRequestContext({ service: 'tickets', logger: tickets, tenant: 'acme' }), () =>
      tickets.error('in a request'),
    );
    expect(raw).toHaveLength(1);
    expect(JSON.parse(raw[0] as string)).toMatchObject({ tenant: 'acme', trace_id: expect.any(String) });
    const verbose = createLogger({ service: 'ai', host: tickets, level: 'debug' });
    expect(verbose.level).toBe('debug');
  });
});
