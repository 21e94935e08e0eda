import type { ServiceDefinition, ServiceImplementation } from './contracts.js';

/** What every transport's server offers: services in, graceful drain out. */
export interface RpcServer {
  /**
   * Serves a contract with its implementation. Call before `start()`.
   * @throws RefrontError INVALID_ARGUMENT when the service is already added or a handler is missing.
   */
  add<S extends ServiceDefinition>(definition: S, implementation: ServiceImplementation<S>): void;
  /** Starts accepting calls. */
  start(): Promise<void>;
  /**
   * Refuses new calls (UNAVAILABLE, retryable), lets in-flight ones finish, resolves when none
   * is left. When `signal` aborts (the grace period ended), in-flight handlers are aborted.
   */
  drain(signal?: AbortSignal): Promise<void>;
  /** Drains with no grace and releases everything; idempotent. */
  close(): Promise<void>;
}
