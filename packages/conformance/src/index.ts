export {
  CONFORMANCE_CALLER,
  describeTransportConformance,
  GOOD_TOKEN,
} from './describeTransportConformance.js';
export type { SleepObservation } from './echoProbe.js';
export { ALL_STATUSES, createEchoProbe, failDetails } from './echoProbe.js';
export type { FaultProxy } from './faultProxy.js';
export { refusingAddress, startFaultProxy } from './faultProxy.js';
export type { NetworkLane } from './networkLane.js';
export { networkLane } from './networkLane.js';
export type { SilentServer } from './silentServer.js';
export { startSilentServer } from './silentServer.js';
export type {
  ConformanceAuth,
  ConformanceChannel,
  ConformanceChannelOptions,
  ConformanceClientTls,
  ConformanceDiscoveryChannelOptions,
  ConformancePrincipal,
  ConformanceServer,
  ConformanceServerOptions,
  ConformanceServerTls,
  ServedContract,
  TransportCapabilities,
  TransportFactory,
} from './TransportFactory.js';
