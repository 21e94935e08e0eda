/**
 * `npm run demo`: the whole platform as a modular monolith on embedded defaults (in-process
 * transport and event bus, one embedded PostgreSQL, no servers needed), a scripted walk through
 * its main flow over the public HTTP API, then it keeps serving until Ctrl-C.
 * `npm run demo -- --once` exits 0 after the walk.
 */

import { PLATFORM_MODULES } from './platform/services.js';
import { settle } from './platform/settle.js';
import { startPlatform } from './platform/startPlatform.js';
import { walk } from './walk.js';

const once = process.argv.includes('--once');

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const port = Number(raw ?? fallback);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`${name} must be a port number (0-65535), got "${raw}"`);
    process.exit(1);
  }
  return port;
}

const platform = await startPlatform({
  gatewayPort: portFromEnv('GATEWAY_PORT', 8080),
  opsPort: portFromEnv('OPS_PORT', 9464),
  databaseUrl: process.env.DATABASE_URL || undefined,
  dataDir: process.env.DATA_DIR || undefined,
  handleSignals: true,
  console:
    process.env.REFRONT_CONSOLE === '0'
      ? undefined
      : {
          port: portFromEnv('CONSOLE_PORT', 4318),
          token: process.env.REFRONT_CONSOLE_TOKEN || undefined,
          development: process.env.NODE_ENV !== 'production',
        },
}).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`The demo could not start: ${message}`);
  if (/EADDRINUSE/.test(message))
    console.error('A port is taken: set GATEWAY_PORT, OPS_PORT and CONSOLE_PORT to free ones.');
  process.exit(1);
});

console.log(
  `Refront demo: modular monolith ready in ${platform.readyMs.toFixed(0)} ms ` +
    `(gateway, ${PLATFORM_MODULES.map((m) => m.name).join(', ')}; in-process transport, embedded PostgreSQL)`,
);
const consoleUrl = platform.console?.url;
if (consoleUrl) console.log(`Console: ${consoleUrl}  (traces, services, API explorer, flow, dead letters)`);
console.log('');
const result = await walk({
  baseUrl: platform.gatewayUrl,
  print: (line) => console.log(line),
  settle: () => settle(platform),
  ...(consoleUrl ? { traceUrl: (traceId: string) => `${consoleUrl}/#/traces/${traceId}` } : {}),
});
await platform.flushTraces();
console.log(
  `\nWalk done: ${result.ticketIds.length} tickets, invoice total ${(result.totalMinor / 100).toFixed(2)}.`,
);
const ops = platform.opsUrl;
console.log(
  `API:  ${platform.gatewayUrl}/v1   docs: ${platform.gatewayUrl}/docs   OpenAPI: ${platform.gatewayUrl}/openapi.json`,
);
if (ops) console.log(`Ops:  ${ops}/healthz  ${ops}/readyz  ${ops}/metrics`);
if (once) {
  await platform.stop();
  process.exit(0);
} else {
  console.log('Serving until Ctrl-C.');
}
