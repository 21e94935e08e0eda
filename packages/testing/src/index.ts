/**
 * Refront service modules in-process for a test: one call starts them (`startTestApp`) with typed
 * clients, a clock the test moves, captured events, dead letters, spans and metrics, and fault
 * injection on the in-process lanes; the same test runs on PostgreSQL and RabbitMQ when asked.
 * @packageDocumentation
 */

export type { InfraServer } from '@refront/core/transport';
export { findInfra } from '@refront/core/transport';
export type { DeadLetterCapture, DeadLetterMatch } from './DeadLetterCapture.js';
export type { CapturedEvent, EventCapture, PublishedEvent, WaitOptions } from './EventCapture.js';
export { TestingErrors } from './errors.js';
export type { EventuallyOptions } from './eventually.js';
export { eventually } from './eventually.js';
export type { CallMatch, EventMatch, Fault, FaultHandle, FaultSchedule, Faults } from './Faults.js';
export type { LabelMatch, MetricsReader } from './MetricsReader.js';
export { rejection } from './rejection.js';
export type { SpanCapture } from './SpanCapture.js';
export type {
  BrokerChoice,
  DatabaseChoice,
  TestApp,
  TestAppOptions,
  TestClientOptions,
} from './startTestApp.js';
export { startTestApp, TEST_CALLER } from './startTestApp.js';
export type { ClockInstallOptions, TestClock } from './TestClock.js';
export { FAKED_TIMERS } from './TestClock.js';
