/**
 * Loads `@refront/transport-mux` when it resolves, so the `rpc` scenario runs the mux lane where
 * the package exists and says the lane is missing where it does not (never a stand-in). The
 * shapes below are the parts of its API the bench uses, typed here so the bench compiles either way.
 */
import type { Channel, Logger, MetricsRegistry, Registry, RpcServer, ServerAuthOptions } from '@refront/core';
import type { ClientTls, ServerTls } from './tls-security.js';

/** The part of `createMuxServer`'s options the bench sets. */
export interface MuxServerOptionsUsed {
  readonly service: string;
  readonly logger: Logger;
  readonly metrics?: MetricsRegistry;
  readonly host?: string;
  readonly port?: number;
  readonly defaultInterceptors?: boolean;
  readonly tls?: ServerTls;
  readonly auth?: ServerAuthOptions;
}

/** The part of `createMuxChannel`'s options the bench sets. */
export interface MuxChannelOptionsUsed {
  readonly discovery?: Registry;
  readonly service?: string;
  readonly target?: string;
  readonly metrics?: MetricsRegistry;
  readonly logger?: Logger;
  readonly policy?: false;
  readonly tls?: ClientTls;
}

/** The mux module as the bench uses it. */
export interface MuxModule {
  createMuxServer(options: MuxServerOptionsUsed): RpcServer & { readonly port: number };
  createMuxChannel(options: MuxChannelOptionsUsed): Channel & { close(): Promise<void> };
}

/** The mux module, or why it cannot be used (the package does not resolve, or lacks the API). */
export async function loadMux(): Promise<MuxModule | { readonly missing: string }> {
  const specifier = '@refront/transport-mux';
  let mod: Partial<MuxModule>;
  try {
    mod = (await import(specifier)) as Partial<MuxModule>;
  } catch (e: unknown) {
    return {
      missing: `${specifier} does not load: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
    };
  }
  if (typeof mod.createMuxServer !== 'function' || typeof mod.createMuxChannel !== 'function') {
    return { missing: `${specifier} exports no createMuxServer/createMuxChannel yet` };
  }
  return mod as MuxModule;
}
