import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { createLogger, isRefrontError, type Logger, toRefrontError } from '@refront/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { ConsoleErrors } from './consoleErrors.js';
import { registerContractRoutes } from './contractRoutes.js';
import type { ConsoleContractsOptions } from './contracts.js';
import { type DeadLetterSource, viewOf } from './deadLetters.js';
import { decodeOtlpTraces } from './otlp.js';
import { packageDir } from './packageDir.js';
import { RedHistory } from './RedHistory.js';
import { type RedRow, redRows } from './red.js';
import { TraceStore, type TraceStoreOptions } from './TraceStore.js';
import { registerWorkflowRoutes, type WorkflowSources } from './workflowRoutes.js';

/** A process whose ops endpoints (`/readyz`, `/metrics`) the Services view reads. */
export interface ConsoleServiceTarget {
  /** What the view calls it (`refront-demo`, `tickets`). */
  readonly name: string;
  /** Base URL of its ops server (`http://127.0.0.1:9464`). */
  readonly opsUrl: string;
}

/** Options of {@link createConsole}. */
export interface ConsoleOptions {
  /** Serve the console. Off by default: an app turns it on (`REFRONT_CONSOLE=1`). @default false */
  readonly enabled?: boolean;
  /**
   * A laptop: the console may run without a token. Outside development a `token` is required.
   * @default process.env.NODE_ENV === 'development'
   */
  readonly development?: boolean;
  /** The bearer token every API and OTLP request must carry; required outside development. */
  readonly token?: string | undefined;
  /** Address to bind. @default '127.0.0.1' */
  readonly host?: string;
  /** Port; 0 picks a free one. @default 4318 (OTLP/HTTP's, so exporters find it without setup) */
  readonly port?: number;
  /** Bounds of the trace store. */
  readonly store?: TraceStoreOptions;
  /** Where dead letters are read, replayed and discarded. */
  readonly deadLetters?: DeadLetterSource;
  /** Decodes an event body for the Dead letters view (from the contract); JSON bodies need none. */
  readonly decodeBody?: (type: string, contentType: string, body: Uint8Array) => unknown;
  /**
   * Processes whose `/readyz` and `/metrics` the Services view reads, or a function that says
   * which at each look (their ops ports may be known only once they started; a distributed
   * topology asks its discovery).
   */
  readonly services?:
    | readonly ConsoleServiceTarget[]
    | (() => readonly ConsoleServiceTarget[] | Promise<readonly ConsoleServiceTarget[]>);
  /** The contracts: the Services view's methods and events, the API explorer and the Flow view. */
  readonly contracts?: ConsoleContractsOptions;
  /** How often each service's `/metrics` is sampled for the RED sparklines, in ms. @default 5000 */
  readonly sampleIntervalMs?: number;
  /** Samples kept per RED series (5 minutes at the default interval). @default 60 */
  readonly samplesKept?: number;
  /** Where the Workflows view reads each service's runs, by service name. */
  readonly workflows?: WorkflowSources;
  readonly logger?: Logger;
}

/** The running console: a `ServiceComponent` (`service.use(console)`). */
export interface RefrontConsole {
  readonly name: 'console';
  /** Whether it serves (the `enabled` option). */
  readonly enabled: boolean;
  /** Its base URL once started; undefined when disabled. */
  readonly url: string | undefined;
  /** Where OTLP exporters send traces: `<url>/v1/traces`. */
  readonly tracesUrl: string | undefined;
  /** The traces received. */
  readonly store: TraceStore;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Where the UI's libraries are served from: resolved from the package's dependencies, no CDN. */
function vendorFiles(): Record<string, string> {
  const dir = packageDir();
  const resolve = (spec: string) => require_(dir).resolve(spec);
  // htm's "require" entry is dist/htm.js; its ES module sits beside it.
  const htmDir = join(resolve('htm'), '..');
  return {
    'preact.mjs': resolve('preact'),
    'preact-hooks.mjs': resolve('preact/hooks'),
    'htm.mjs': join(htmDir, 'htm.mjs'),
  };
}

function require_(dir: string): NodeJS.Require {
  return createRequire(join(dir, 'package.json'));
}

/**
 * Creates the Refront console: an HTTP server that receives OTLP/HTTP traces (`POST /v1/traces`,
 * protobuf or JSON) into a bounded in-memory store, and serves a JSON API (`/api/…`) and the web
 * page that reads it: Traces (search, waterfall), Services (readiness, RED per method from
 * `/metrics`) and Dead letters (replay, discard). Off unless `enabled`; outside development it
 * requires `token` and answers 401 `CONSOLE_UNAUTHORIZED` without it.
 *
 * @throws RefrontError FAILED_PRECONDITION `CONSOLE_TOKEN_REQUIRED` when enabled outside development without a token.
 * @example
 * const console = createConsole({ enabled: true, development: true, port: 0, deadLetters: inProcessDeadLetters(bus) });
 * service.use(console);
 */
export function createConsole(options: ConsoleOptions = {}): RefrontConsole {
  const enabled = options.enabled ?? false;
  const development = options.development ?? process.env.NODE_ENV === 'development';
  const token = options.token === '' ? undefined : options.token;
  if (enabled && !development && token === undefined) throw ConsoleErrors.TOKEN_REQUIRED();
  const store = new TraceStore(options.store);
  const history = new RedHistory({ capacity: options.samplesKept ?? 60 });
  let app: FastifyInstance | undefined;
  let url: string | undefined;
  let sampler: NodeJS.Timeout | undefined;
  // The sparklines' samples: every target's /metrics at a steady pace, whoever looks.
  const sample = async (): Promise<void> => {
    for (const p of await Promise.all((await targetsOf(options)).map((t) => probe(t)))) {
      if (p.ready !== undefined) history.record(p.name, p.red, Date.now());
    }
  };

  const handle: RefrontConsole = {
    name: 'console',
    enabled,
    store,
    get url() {
      return url;
    },
    get tracesUrl() {
      return url === undefined ? undefined : `${url}/v1/traces`;
    },
    async start() {
      if (!enabled || app) return;
      app = buildApp(options, store, token, history);
      await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 4318 });
      const address = app.server.address() as AddressInfo;
      url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      options.logger?.info({ url }, 'Refront console listening');
      const tick = (): void => void sample().catch(() => undefined);
      tick();
      sampler = setInterval(tick, options.sampleIntervalMs ?? 5_000);
      sampler.unref();
    },
    async close() {
      clearInterval(sampler);
      await app?.close();
      app = undefined;
    },
  };
  return handle;
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function targetsOf(options: ConsoleOptions): Promise<readonly ConsoleServiceTarget[]> {
  return typeof options.services === 'function' ? await options.services() : (options.services ?? []);
}

function buildApp(
  options: ConsoleOptions,
  store: TraceStore,
  token: string | undefined,
  history: RedHistory,
): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
  const ui = join(packageDir(), 'ui');
  const vendor = vendorFiles();
  const indexHtml = readFileSync(join(ui, 'index.html'), 'utf8');

  app.addContentTypeParser(
    ['application/x-protobuf', 'application/protobuf', 'application/json'],
    { parseAs: 'buffer' },
    (_req, body, done) => done(null, body),
  );

  app.setErrorHandler((error: unknown, _request, reply) => {
    if (isRefrontError(error)) {
      return reply.status(error.httpStatus).send({ error: error.toJSON() });
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    const refront =
      status < 500 ? ConsoleErrors.BAD_REQUEST((error as Error).message) : toRefrontError(error);
    return reply.status(refront.httpStatus).send({ error: refront.toJSON() });
  });

  app.addHook('onRequest', async (request) => {
    if (token === undefined) return;
    const path = request.url.split('?')[0] ?? '/';
    // The page and its scripts hold no data; everything they show comes from the API.
    if (path === '/' || path.startsWith('/ui/') || path.startsWith('/vendor/')) return;
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!sameToken(given, token)) throw ConsoleErrors.UNAUTHORIZED();
  });

  app.post('/v1/traces', async (request, reply) => {
    const body = request.body;
    if (!(body instanceof Uint8Array)) throw ConsoleErrors.BAD_OTLP('no body');
    const contentType = request.headers['content-type'];
    store.add(decodeOtlpTraces(body, contentType));
    // ExportTraceServiceResponse with no partial_success: empty in protobuf, `{}` in JSON.
    if ((contentType ?? '').includes('protobuf'))
      return reply.type('application/x-protobuf').send(Buffer.alloc(0));
    return reply.type('application/json').send('{}');
  });

  app.get('/api/traces', async (request) => {
    const q = request.query as Record<string, string | undefined>;
    return {
      traces: store.search({
        tenant: q.tenant || undefined,
        text: q.q || undefined,
        error: q.error === 'true' || q.error === '1',
        limit: q.limit ? Math.min(500, Math.max(1, Number(q.limit) || 50)) : 50,
      }),
    };
  });

  app.get('/api/traces/:traceId', async (request) => {
    const { traceId } = request.params as { traceId: string };
    const trace = store.trace(traceId.toLowerCase());
    if (!trace) throw ConsoleErrors.TRACE_NOT_FOUND(traceId);
    return { traceId: traceId.toLowerCase(), ...trace };
  });

  app.get('/api/services', async () => {
    const probed = await Promise.all((await targetsOf(options)).map((t) => probe(t)));
    // Each RED row with its recent points (rate, errors, mean per sample interval) for a sparkline.
    return {
      services: probed.map((p) => ({
        ...p,
        red: p.red.map((r) => ({ ...r, history: history.points(p.name, r) })),
      })),
    };
  });

  const deadLetters = (): DeadLetterSource => {
    if (!options.deadLetters) throw ConsoleErrors.NO_DEAD_LETTERS();
    return options.deadLetters;
  };

  app.get('/api/dead-letters', async (request) => {
    const { group } = request.query as { group?: string };
    const list = await deadLetters().list(group || undefined);
    return {
      deadLetters: list.map((d) => {
        const view = viewOf(d);
        if (view.body.json !== undefined || !options.decodeBody) return view;
        try {
          return {
            ...view,
            body: { ...view.body, json: options.decodeBody(d.envelope.type, d.envelope.contentType, d.body) },
          };
        } catch {
          return view;
        }
      }),
    };
  });

  app.post('/api/dead-letters/:group/:eventId/replay', async (request) => {
    const { group, eventId } = request.params as { group: string; eventId: string };
    await deadLetters().replay(group, eventId);
    return { replayed: [eventId] };
  });

  app.post('/api/dead-letters/:group/:eventId/discard', async (request) => {
    const { group, eventId } = request.params as { group: string; eventId: string };
    await deadLetters().discard(group, eventId);
    return { discarded: [eventId] };
  });

  app.post('/api/dead-letters/:group/replay-all', async (request) => {
    const { group } = request.params as { group: string };
    const source = deadLetters();
    if (source.replayAll) return { replayed: await source.replayAll(group) };
    const replayed: string[] = [];
    for (const d of await source.list(group)) {
      await source.replay(group, d.envelope.id);
      replayed.push(d.envelope.id);
    }
    return { replayed };
  });

  registerContractRoutes(
    app,
    options.contracts,
    store,
    options.logger ?? createLogger({ service: 'console', level: 'silent' }),
  );
  registerWorkflowRoutes(app, options.workflows);

  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(indexHtml));
  app.register(fastifyStatic, { root: ui, prefix: '/ui/' });
  app.get('/vendor/:file', async (request, reply) => {
    const { file } = request.params as { file: string };
    const path = vendor[file];
    if (!path) throw ConsoleErrors.BAD_REQUEST(`no file /vendor/${file}`);
    return reply.type('text/javascript; charset=utf-8').send(readFileSync(path));
  });
  return app;
}

/** Readiness and RED rows of one process, read from its ops server. */
async function probe(
  target: ConsoleServiceTarget,
): Promise<{ name: string; opsUrl: string; ready: boolean | undefined; red: RedRow[]; error?: string }> {
  const get = (path: string) => fetch(`${target.opsUrl}${path}`, { signal: AbortSignal.timeout(3_000) });
  try {
    const [ready, metrics] = await Promise.all([get('/readyz'), get('/metrics')]);
    await ready.arrayBuffer();
    return {
      name: target.name,
      opsUrl: target.opsUrl,
      ready: ready.status === 200,
      red: redRows(await metrics.text()),
    };
  } catch (error) {
    return { name: target.name, opsUrl: target.opsUrl, ready: undefined, red: [], error: String(error) };
  }
}
