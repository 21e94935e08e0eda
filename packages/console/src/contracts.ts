import type { Channel } from '@refront/core';
import type { ContractCatalog, ContractMethod } from '@refront/validate';

/** What a Refront service declares besides its `.proto` contract (a service module's declarations). */
export interface ConsoleServiceContract {
  /** Its service name (`time-tracking`). */
  readonly name: string;
  /** Fully-qualified event types it publishes (`refront.tickets.v1.TicketCreated`). */
  readonly publishes: readonly string[];
  /** Fully-qualified event types its consumer group consumes. */
  readonly consumes: readonly string[];
  /** Who may call it: caller name → `'*'` or the fully-qualified methods (`pkg.Service/Method`). */
  readonly callers?: Readonly<Record<string, '*' | readonly string[]>>;
}

/** The gateway the API explorer calls HTTP routes of. */
export interface ConsoleGateway {
  /** Its base URL, or a function that says it once the gateway listens. */
  readonly url: string | (() => string | undefined);
  /** A bearer token of `user` of `tenant` holding `roles`, when the routes need one. */
  readonly token?: (who: { tenant: string; user: string; roles: readonly string[] }) => Promise<string>;
}

/** Options of the Services view's contracts, the API explorer and the Flow view. */
export interface ConsoleContractsOptions {
  /**
   * The contracts: google.protobuf.FileDescriptorSets, base64 (`FILE_DESCRIPTOR_SET` of
   * `gen/descriptors.ts`) or bytes (`buf build -o set.binpb`).
   */
  readonly descriptors: readonly (string | Uint8Array)[];
  /** Each service's events and callers (a service registry); services the contracts alone show otherwise. */
  readonly services?: readonly ConsoleServiceContract[];
  /**
   * The channel the explorer's calls go through: the platform's (in-process in a monolith, gRPC
   * or mux between processes). Without it the explorer lists methods but does not call them.
   */
  readonly channel?: Channel;
  /** The gateway whose HTTP routes the explorer lists (`/openapi.json`) and calls. */
  readonly gateway?: ConsoleGateway;
  /**
   * Whether the API explorer calls methods and routes. `false` makes a read-only console: it still
   * lists them with their bodies, and refuses every call with 403 `CONSOLE_EXPLORER_OFF`.
   * @default true
   */
  readonly explorer?: boolean;
}

/** One method of a service in the Services view. */
export interface MethodView {
  readonly service: string;
  readonly name: string;
  readonly path: string;
  readonly requestType: string;
  readonly responseType: string;
  readonly idempotent: boolean;
  readonly streaming: boolean;
}

/** One service's contract: its methods and the events it publishes and consumes. */
export interface ServiceContractView {
  readonly name: string;
  readonly methods: readonly MethodView[];
  readonly publishes: readonly string[];
  readonly consumes: readonly string[];
  readonly callers: Readonly<Record<string, '*' | readonly string[]>>;
}

const flat = (s: string) => s.replaceAll('-', '').replaceAll('_', '').toLowerCase();

function methodView(m: ContractMethod): MethodView {
  return {
    service: m.service,
    name: m.name,
    path: m.path,
    requestType: m.requestType,
    responseType: m.responseType,
    idempotent: m.idempotent,
    streaming: m.streaming,
  };
}

/**
 * Each Refront service with its contract: the methods of the gRPC services its package owns
 * (`refront.time_tracking.v1` belongs to `time-tracking`, dashes and underscores aside) and the
 * events and callers it declares. A package no declared service owns is a service of its own.
 */
export function contractViews(
  catalog: ContractCatalog,
  declared: readonly ConsoleServiceContract[],
): ServiceContractView[] {
  const views = new Map<string, ServiceContractView & { methods: MethodView[] }>();
  for (const d of declared) {
    views.set(flat(d.name), {
      name: d.name,
      methods: [],
      publishes: d.publishes,
      consumes: d.consumes,
      callers: d.callers ?? {},
    });
  }
  for (const s of catalog.services) {
    const key = flat(s.owner);
    let view = views.get(key);
    if (!view) {
      view = { name: s.owner, methods: [], publishes: [], consumes: [], callers: {} };
      views.set(key, view);
    }
    view.methods.push(...s.methods.map(methodView));
  }
  return [...views.values()];
}
