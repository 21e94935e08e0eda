/**
 * The distributed topology end to end: `npm run demo:distributed -- --once` starts every service
 * as its own process on mux and gRPC, RabbitMQ and PostgreSQL (invoicing ×3), runs the walk through
 * the gateway with requests on the default lane (REFRONT_RPC unset: mux) and on gRPC
 * (REFRONT_RPC=grpc), and stops them all. Then how it stops when it is not told to by `--once`:
 * one Ctrl-C (SIGINT to its process group, as a terminal sends it) drains every process once and
 * exits 0, and its processes stop on their own when it is killed. Each run has its own database,
 * AMQP namespace and ports. Needs the local PostgreSQL and RabbitMQ.
 */
import { describe, expect, it } from 'vitest';
import { type DemoProcess, logLines, runsOn, startDemo } from './demoProcess.js';
import { infrastructure, until } from './topology.js';

const infra = await infrastructure('the distributed topology test');

/** The processes of the demo: one per service instance, and the gateway. */
const INSTANCES: Readonly<Record<string, number>> = {
  tickets: 1,
  'time-tracking': 1,
  invoicing: 3,
  ai: 1,
  notifications: 1,
  reporting: 1,
  gateway: 1,
  console: 1,
};

/** How many processes of each service logged that they drained on `reason`. */
function drained(demo: DemoProcess, reason: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const l of logLines(demo.output()))
    if (l.msg === `${l.service} draining` && l.reason === reason)
      counts[l.service] = (counts[l.service] ?? 0) + 1;
  return counts;
}

/** `text` as a literal in a regular expression. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe.skipIf(!infra)('distributed topology', () => {
  it.each([
    ['mux', 'unset (the default)'],
    ['grpc', 'grpc'],
  ])(
    'runs the walk across 10 processes with requests on %s (REFRONT_RPC %s), and stops them all cleanly',
    { timeout: 180_000 },
    async (lane, rpc) => {
      await using demo = await startDemo(['--once'], rpc === 'grpc' ? { REFRONT_RPC: rpc } : {});
      const { code } = await demo.exited;
      const out = demo.output();
      expect(out, out).toMatch(new RegExp(`10 processes ready \\(requests on ${lane}\\)`));
      expect(code, out).toBe(0);
      expect(out).toMatch(/run issued: lock done → price done → issue done → publish done/);
      const invoice = /total 290 min = EUR ([\d.]+)/.exec(out)?.[1];
      expect(invoice).toBe('459.17');
      expect(out).toMatch(/report total EUR 459\.17 = invoice INV-\d+ EUR 459\.17/);
      expect(out).toMatch(/Stopped 10 processes\./);
      expect(out).not.toMatch(/failed to (close|drain)/);
      // The console's address, and the walk's last line linking the first ticket's trace in it.
      const page = /Console: (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+) {2}\(traces/.exec(out)?.[1];
      expect(page, out).toBeDefined();
      const steps = out.split('\n').filter((l) => /^\d+\. /.test(l));
      expect(steps.at(-1)).toMatch(
        new RegExp(`^12\\. The first ticket's journey, traced: ${literal(page ?? '')}#/traces/[0-9a-f]{32}$`),
      );
    },
  );

  it('drains every process once and exits 0 on one Ctrl-C to its process group', {
    timeout: 180_000,
  }, async () => {
    await using demo = await startDemo(['--no-walk'], { LOG_LEVEL: 'info' });
    await demo.waitFor(/Serving until Ctrl-C\./, 120_000);
    const children = demo.children();
    expect(children).toHaveLength(10);
    const t0 = performance.now();
    // What a terminal does on Ctrl-C: SIGINT to every process of its foreground process group.
    process.kill(-(demo.child.pid as number), 'SIGINT');
    const { code, signal } = await demo.exited;
    const stopMs = Math.round(performance.now() - t0);
    const out = demo.output();
    console.log(`[ctrl-c] 10 processes drained and stopped in ${stopMs} ms`);
    expect({ code, signal }, out).toEqual({ code: 0, signal: null });
    expect(drained(demo, 'received SIGTERM'), out).toEqual(INSTANCES);
    expect(drained(demo, 'received SIGINT'), out).toEqual({});
    expect(out).not.toMatch(/second signal/);
    expect(out).not.toMatch(/failed to (close|drain)/);
    expect(out).toMatch(/Stopped 10 processes\./);
    expect(children.filter((pid) => runsOn(pid, demo.namespace))).toEqual([]);
  });

  it('stops every process, each draining, when the demo itself is killed', { timeout: 180_000 }, async () => {
    await using demo = await startDemo(['--no-walk'], { LOG_LEVEL: 'info' });
    await demo.waitFor(/Serving until Ctrl-C\./, 120_000);
    const children = demo.children();
    expect(children).toHaveLength(10);
    process.kill(demo.child.pid as number, 'SIGKILL');
    await demo.exited;
    await until(
      'every process of the killed demo to exit',
      async () => children.every((pid) => !runsOn(pid, demo.namespace)),
      60_000,
    );
    const out = demo.output();
    expect(drained(demo, 'received SIGTERM'), out).toEqual(INSTANCES);
    expect(out).not.toMatch(/second signal/);
  });
});
