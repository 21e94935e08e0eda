export type { TestCertName } from './certs.js';
export { TEST_CLIENT_IDENTITY, testCert } from './certs.js';
export type { CountingRegistry } from './countingRegistry.js';
export { countingRegistry } from './countingRegistry.js';
export type { SleepObservation } from './echo.js';
export { echoImplementation } from './echo.js';
export type { EchoServable, EchoServer, EchoServerBase } from './echoServer.js';
export { capturingLogger, logger, rejection, startEchoServerOn } from './echoServer.js';
