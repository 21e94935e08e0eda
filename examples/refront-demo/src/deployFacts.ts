/**
 * What the deployment files of `deploy/` are generated from and checked against: the platform's
 * modules (services, callers, events), the `serve.ts` configuration, the RPC lanes and discovery
 * names, and the broker's users and permissions. `deploy` imports them as `@refront/demo/deploy`,
 * never by path.
 * @packageDocumentation
 */
export { brokerUserOf } from './platform/brokerUsers.js';
export { parseDns, parseEndpoints } from './platform/endpoints.js';
export type { ServiceModule } from './platform/module.js';
export { callersOf, OPERATOR_CALLERS } from './platform/operators.js';
export {
  developmentPassword,
  type RabbitmqDefinitions,
  rabbitmqDefinitions,
} from './platform/rabbitmqDefinitions.js';
export { demoServiceOf } from './platform/routingChannel.js';
export { muxServiceName, RPC_LANES, type RpcLane } from './platform/rpcLane.js';
export { PLATFORM_MODULES } from './platform/services.js';
export { loadServeConfig, type ServeConfig } from './serveConfig.js';
