/**
 * `npm run dev` / `npm start`: every service of the app in one process, on the embedded database
 * unless DATABASE_URL is set, with the in-process event bus unless AMQP_URL is set. SIGTERM or
 * Ctrl-C drains in-flight calls and events, then exits 0.
 */
import { ConfigError } from '@refront/core';
import { startApp } from './app.js';
import { readConfig } from './config.js';
import { MODULES } from './modules.js';

try {
  const config = readConfig();
  const app = await startApp(config, { handleSignals: true });
  console.log(
    `ready: ${MODULES.map((m) => m.name).join(', ')} on gRPC ${config.GRPC_HOST}:${app.grpcPort}` +
      ` (${config.DATABASE_URL ? 'PostgreSQL' : 'embedded database'}, ${config.AMQP_URL ? 'RabbitMQ' : 'in-process events'})`,
  );
  if (app.opsUrl) console.log(`ops: ${app.opsUrl}/healthz ${app.opsUrl}/readyz ${app.opsUrl}/metrics`);
} catch (error: unknown) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}
