export type {
  Database,
  Migration,
  OpenDatabaseOptions,
  Queryable,
  QueryResult,
  Transaction,
} from './Database.js';
export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_POOL_SIZE, isValidSchemaName, SCHEMA_NAME } from './Database.js';
export type { EmbeddedPostgres, EmbeddedPostgresOptions } from './EmbeddedPostgres.js';
export { createEmbeddedPostgres, DEFAULT_NESTED_CALL_TIMEOUT_MS } from './EmbeddedPostgres.js';
export type { DataReasonCode } from './errors.js';
export { DataErrors, DataReason } from './errors.js';
export type {
  IdempotencyContext,
  IdempotentRequests,
  IdempotentRequestsOptions,
} from './IdempotentRequests.js';
export {
  createIdempotentRequests,
  DEFAULT_IDEMPOTENCY_PRUNE_INTERVAL_MS,
  DEFAULT_IDEMPOTENCY_RETENTION_MS,
} from './IdempotentRequests.js';
export type { Inbox, InboxOptions } from './Inbox.js';
export { createInbox } from './Inbox.js';
export { migrationChecksum } from './internal/migrate.js';
export type { Outbox, OutboxOptions } from './Outbox.js';
export {
  createOutbox,
  DEFAULT_OUTBOX_BATCH_SIZE,
  DEFAULT_OUTBOX_MAX_BACKOFF_MS,
  DEFAULT_OUTBOX_MIN_BACKOFF_MS,
  DEFAULT_OUTBOX_POLL_INTERVAL_MS,
  DEFAULT_OUTBOX_PUBLISH_TIMEOUT_MS,
} from './Outbox.js';
export { openDatabase } from './openDatabase.js';
export type { PageRequest } from './paging.js';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageOf, pageRequest } from './paging.js';
export type { ModuleEvents, ModuleRuntime, ServiceModule } from './ServiceModule.js';
