import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { counterOf, histogramOf } from './metrics.js';
import { createService, type Service } from './Service.js';

/** Debian's `prometheus` package installs it (`.ci/run` does). */
const PROMTOOL = '/usr/bin/promtool';

function promtoolAvailable(): boolean {
  if (existsSync(PROMTOOL)) return true;
  const hint = `${PROMTOOL} is missing: install it with \`apt-get install -y prometheus\``;
  if (process.env.REFRONT_REQUIRE_INFRA === '1') throw new Error(`${hint} (REFRONT_REQUIRE_INFRA=1)`);
  console.warn(`skipping: ${hint}`);
  return false;
}

/** Runs `promtool check metrics` on `text`; resolves with its exit code and what it printed. */
function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(PROMTOOL, ['check', 'metrics'], (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      if (error && code === -1) reject(error);
      else resolve({ code, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(text);
  });
}

const hasPromtool = promtoolAvailable();

describe.skipIf(!hasPromtool)('/metrics under promtool check metrics (issue 24)', () => {
  let service: Service | undefined;
  afterEach(async () => {
    await service?.stop('test done');
    service = undefined;
  });

  it("passes for a service's /metrics: process metrics, RED histograms and counters", async () => {
    service = createService({
      name: `promtool-${process.pid}`,
      version: '1.2.3',
      opsPort: 0,
      opsHost: '127.0.0.1',
      logger: createLogger({ service: 'promtool', level: 'silent' }),
    });
    const h = histogramOf(service.metrics, 'refront_rpc_server_duration_seconds', 'RPC server latency', [
      'rpc_service',
      'rpc_method',
      'status',
    ]);
    h.observe(
      { rpc_service: 'refront.tickets.v1.TicketsService', rpc_method: 'CreateTicket', status: 'OK' },
      0.004,
    );
    counterOf(service.metrics, 'refront_things_total', 'Things done', ['kind']).inc({ kind: 'x' });
    await service.start();
    const port = service.opsAddress?.port;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('refront_rpc_server_duration_seconds_bucket');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    const checked = await promtoolCheck(text);
    expect(checked.output).toBe('');
    expect(checked.code).toBe(0);
  });

  it("fails for prom-client's own defaults, so the check above can fail", async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const checked = await promtoolCheck(await registry.metrics());
    expect(checked.code).not.toBe(0);
    expect(checked.output).toContain(
      'nodejs_active_handles_total non-counter metrics should not have "_total" suffix',
    );
  });
});
