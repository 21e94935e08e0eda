export {
  CONFORMANCE_CALLER,
  describeTransportConformance,
  GOOD_TOKEN,
} from './describeTransportConformance.js';
export type { SleepObservation } from './echoProbe.js';
export { ALL_STATUSES, createEchoProbe, failDetails } from './echoProbe.js';
export type {
  ConformanceAuth,
  ConformanceChannel,
  ConformancePrincipal,
  ConformanceServer,
  ConformanceServerOptions,
  ServedContract,
  TransportCapabilities,
  TransportFactory,
} from './TransportFactory.js';
