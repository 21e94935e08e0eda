/**
 * `npm run demo`: the platform as a modular monolith on embedded defaults (in-process transport
 * and event bus, no servers needed), a scripted walk through its main flow, then it keeps serving
 * until Ctrl-C. `npm run demo -- --once` exits 0 after the walk.
 */
import { createInProcessEventBus, createInProcessNetwork, createLogger, createService } from '@refront/core';
import { notificationsModule } from './notifications/service.js';
import { runMonolith } from './platform.js';
import { ticketsModule } from './tickets/service.js';
import { walk } from './walk.js';

const once = process.argv.includes('--once');

function opsPortFromEnv(): number {
  const port = Number(process.env.OPS_PORT ?? 9464);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`OPS_PORT must be a port number (0-65535), got "${process.env.OPS_PORT}"`);
    process.exit(1);
  }
  return port;
}
const started = performance.now();
const logger = createLogger({ service: 'refront-demo', level: process.env.LOG_LEVEL ?? 'warn' });
const host = createService({
  name: 'refront-demo',
  version: '0.1.0',
  logger,
  opsPort: opsPortFromEnv(),
  opsHost: '127.0.0.1',
});
const network = createInProcessNetwork();
const bus = createInProcessEventBus({ service: 'refront-demo', logger, metrics: host.metrics });
await runMonolith(host, network, bus, [ticketsModule, notificationsModule]);
await host.start();
console.log(
  `Refront demo: modular monolith ready in ${(performance.now() - started).toFixed(0)} ms (services: tickets, notifications)\n`,
);
const result = await walk(network.channel(), logger, (line) => console.log(line));
console.log(`\nWalk done: ticket ${result.ticketId}, ${result.notifications} notification(s).`);
const ops = `http://127.0.0.1:${host.opsAddress?.port}`;
console.log(`Ops endpoints: ${ops}/healthz  ${ops}/readyz  ${ops}/metrics`);
if (once) {
  await host.stop('--once');
} else {
  console.log('Serving until Ctrl-C.');
}
