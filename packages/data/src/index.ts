export type {
  Database,
  Migration,
  OpenDatabaseOptions,
  Queryable,
  QueryResult,
  Transaction,
} from './Database.js';
export { isValidSchemaName, SCHEMA_NAME } from './Database.js';
export type { EmbeddedPostgres, EmbeddedPostgresOptions } from './EmbeddedPostgres.js';
export { createEmbeddedPostgres } from './EmbeddedPostgres.js';
export type { DataReasonCode } from './errors.js';
export { DataErrors, DataReason } from './errors.js';
export type { HostedModule, ModuleLanes } from './hostModule.js';
export { hostModule } from './hostModule.js';
export type {
  IdempotencyContext,
  IdempotentRequests,
  IdempotentRequestsOptions,
} from './IdempotentRequests.js';
export { createIdempotentRequests } from './IdempotentRequests.js';
export type { Inbox, InboxOptions } from './Inbox.js';
export { createInbox } from './Inbox.js';
export { migrationChecksum } from './internal/migrate.js';
export type { Outbox, OutboxOptions } from './Outbox.js';
export { createOutbox } from './Outbox.js';
export { openDatabase } from './openDatabase.js';
export type { PageRequest } from './paging.js';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageOf, pageRequest } from './paging.js';
export type { ModuleEvents, ModuleRuntime, ServiceModule } from './ServiceModule.js';
