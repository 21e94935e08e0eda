export type { AmqpConnectionState } from './AmqpEventBus.js';
export { AmqpEventBus, createAmqpEventBus } from './AmqpEventBus.js';
export type { AmqpDeadLetters, AmqpDeadLettersOptions } from './amqpDeadLetters.js';
export { amqpDeadLetters } from './amqpDeadLetters.js';
export type { CliOutput } from './cli.js';
export { runCli } from './cli.js';
export type {
  DeadLetterQueueOptions,
  DeadLetterResult,
  DeadLetterSelection,
  ReplayDeadLettersOptions,
} from './deadLetterQueue.js';
export { discardDeadLetters, listDeadLetters, replayDeadLetters } from './deadLetterQueue.js';
export type { BrokerUsers, EventOwners, EventOwnership } from './EventOwners.js';
export { eventOwnership } from './EventOwners.js';
export type { AmqpReasonCode } from './errors.js';
export { AmqpErrors, AmqpReason } from './errors.js';
export { HEADERS as AMQP_HEADERS } from './internal/amqpEnvelope.js';
export type { AlternateExchangeMode } from './internal/topology.js';
export { listUnrouted } from './listUnrouted.js';
export type { TopologyNames } from './names.js';
export { domainOf, topologyNames } from './names.js';
export type { AmqpEventBusOptions } from './options.js';

export type { ReplayUnroutedOptions, ReplayUnroutedResult } from './replayUnrouted.js';
export { replayUnrouted } from './replayUnrouted.js';
export type {
  BrokerPermissions,
  DeadLetterOperatorOptions,
  ServiceBrokerUserOptions,
} from './serviceBrokerUser.js';
export {
  createDeadLetterOperator,
  createServiceBrokerUser,
  deadLetterOperatorPermissions,
  deleteBrokerUser,
  servicePermissions,
} from './serviceBrokerUser.js';
export type { UnroutedMessage, UnroutedQueueOptions } from './UnroutedMessage.js';
