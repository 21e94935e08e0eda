import type { Client, Logger, ServiceDefinition } from '@refront/core';
import { type ContractCatalog, createContractCatalog } from '@refront/validate';
import type { FastifyInstance } from 'fastify';
import { ConsoleErrors } from './consoleErrors.js';
import { type ConsoleContractsOptions, contractViews } from './contracts.js';
import { callMethod, callRoute, type ExplorerIdentity } from './explorerCall.js';
import { flowOf } from './flow.js';
import { flowLayouter } from './flowLayout.js';
import { type GatewayRoute, gatewayRoutes } from './gatewayRoutes.js';
import type { TraceSpan, TraceStore } from './TraceStore.js';

/** The body of `POST /api/explorer/call`. */
interface CallBody {
  /** `rpc`: a contract's method; `http`: a gateway route. */
  readonly kind?: 'rpc' | 'http';
  /** rpc: `<service>/<method>`. */
  readonly target?: string;
  /** http: `POST`, and the path with its parameters filled in. */
  readonly method?: string;
  readonly path?: string;
  /** The request as JSON text, sent as typed. */
  readonly body?: string;
  readonly tenant?: string;
  readonly user?: string;
  /** Space- or comma-separated. */
  readonly roles?: string;
}

function identityOf(b: CallBody): ExplorerIdentity {
  const tenant = (b.tenant ?? '').trim();
  if (!tenant) throw ConsoleErrors.BAD_REQUEST('choose a tenant');
  return {
    tenant,
    user: (b.user ?? '').trim() || `console@${tenant}.example`,
    roles: (b.roles ?? '').split(/[\s,]+/).filter(Boolean),
  };
}

/**
 * The console's contract routes: `GET /api/contracts` (each service's methods, events and
 * callers), `GET /api/explorer/targets` (every unary method and gateway route with a JSON
 * skeleton of its body), `POST /api/explorer/call` (calls one, answers its outcome and trace id;
 * 403 `CONSOLE_EXPLORER_OFF` with `contracts.explorer: false`) and `GET /api/flow` (who calls whom
 * and who publishes what to whom, declared and observed, with its drawing: `layout`, see
 * {@link flowLayouter}).
 */
export function registerContractRoutes(
  app: FastifyInstance,
  options: ConsoleContractsOptions | undefined,
  store: TraceStore,
  logger: Logger,
): void {
  let catalog: ContractCatalog | undefined;
  const contracts = () => {
    if (!options) throw ConsoleErrors.NO_CONTRACTS();
    catalog ??= createContractCatalog({ descriptors: options.descriptors });
    return { options, catalog };
  };
  const clients = new Map<string, Client<ServiceDefinition>>();
  let routes: Promise<GatewayRoute[]> | undefined;
  const loadRoutes = () => {
    const gateway = options?.gateway;
    const base = typeof gateway?.url === 'function' ? gateway.url() : gateway?.url;
    if (!base) return Promise.resolve([]);
    routes ??= fetch(new URL('/openapi.json', base), { signal: AbortSignal.timeout(5_000) })
      .then((r) => (r.ok ? r.json() : {}))
      .then((doc) => gatewayRoutes(doc as never))
      .catch((e: unknown) => {
        routes = undefined;
        throw ConsoleErrors.BAD_REQUEST(`the gateway's /openapi.json could not be read: ${String(e)}`);
      });
    return routes;
  };

  app.get('/api/contracts', async () => {
    const { options, catalog } = contracts();
    return { services: contractViews(catalog, options.services ?? []) };
  });

  app.get('/api/explorer/targets', async () => {
    const { options, catalog } = contracts();
    const methods = catalog.services.flatMap((s) =>
      s.methods
        .filter((m) => !m.streaming)
        .map((m) => ({
          service: s.fullName,
          owner: s.owner,
          name: m.name,
          target: `${s.fullName}/${m.name}`,
          requestType: m.requestType,
          body: catalog.skeleton(m.requestType),
        })),
    );
    const calls = options.explorer !== false;
    return {
      explorer: calls,
      callable: calls && options.channel !== undefined,
      methods,
      routes: await loadRoutes(),
    };
  });

  app.post('/api/explorer/call', async (request) => {
    const { options, catalog } = contracts();
    // Before the body is read: a read-only console sends nothing, whatever it is asked.
    if (options.explorer === false) throw ConsoleErrors.EXPLORER_OFF();
    let body: CallBody;
    try {
      body = JSON.parse(String(request.body ?? '{}')) as CallBody;
    } catch (e: unknown) {
      throw ConsoleErrors.BAD_REQUEST(`the call is not JSON: ${String(e)}`);
    }
    const who = identityOf(body);
    if (body.kind === 'http') {
      if (!options.gateway) throw ConsoleErrors.BAD_REQUEST('this console has no gateway');
      return callRoute(options.gateway, {
        method: (body.method ?? 'GET').toUpperCase(),
        path: body.path ?? '',
        body: body.body ?? '',
        who,
      });
    }
    if (!options.channel) throw ConsoleErrors.BAD_REQUEST('this console has no channel to call through');
    return callMethod(catalog, options.channel, clients, {
      target: body.target ?? '',
      body: body.body ?? '{}',
      who,
      logger,
    });
  });

  const layout = flowLayouter();
  app.get('/api/flow', async () => {
    const declared = options?.services ?? [];
    const traces = function* (): Iterable<readonly TraceSpan[]> {
      for (const t of store.search({ limit: Number.MAX_SAFE_INTEGER })) {
        const trace = store.trace(t.traceId);
        if (trace) yield trace.spans;
      }
    };
    const flow = flowOf(declared, traces());
    return { ...flow, layout: layout(flow) };
  });
}
