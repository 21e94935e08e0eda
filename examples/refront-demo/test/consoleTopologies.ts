/**
 * The platform with its console on either topology, behind one shape the browser test drives:
 * the monolith (one process, the console beside the gateway) or the distributed topology (one
 * process per service, the console a process of its own that receives every process's OTLP).
 */
import { createLocalProvider } from '../src/ai/localProvider.js';
import type { AiProvider } from '../src/ai/provider.js';
import { settle } from '../src/platform/settle.js';
import { startPlatform } from '../src/platform/startPlatform.js';
import { startSystem } from './fixtures.js';
import { devToken, http } from './http.js';
import { freePortBlock } from './ports.js';

/** One topology with its console, as the browser test sees it. */
export interface ConsoleTopology extends AsyncDisposable {
  readonly gatewayUrl: string;
  /** The console's base URL. */
  readonly consoleUrl: string;
  /** The console page at `hash` (`#/traces`), with the token in the query when the console has one. */
  page(hash: string): string;
  /** Processes the Services view lists. */
  readonly processes: number;
  /** Waits until the events in flight are handled. */
  settle(): Promise<void>;
  /** Waits until the console holds the spans of `traceId` of at least these services. */
  traced(traceId: string, services: readonly string[]): Promise<void>;
  /** Takes the AI provider down (true) or brings it back (false). */
  aiDown(down: boolean): Promise<void>;
  /** What a classification fails with while the provider is down. */
  readonly downError: string;
  /** The ai group's dead letters, read from the bus itself (not the console). */
  aiDeadLetters(): Promise<number>;
}

/** The local provider, made to fail while `down` (an outage of a remote AI provider). */
async function switchableProvider(): Promise<{ provider: AiProvider; setDown(down: boolean): void }> {
  const local = await createLocalProvider();
  let down = false;
  const check = () => {
    if (down) throw new Error('AI provider unreachable (connect ECONNREFUSED)');
  };
  return {
    setDown: (d) => {
      down = d;
    },
    provider: {
      name: local.name,
      classify: async (ticket, options) => {
        check();
        return local.classify(ticket, options);
      },
      summarize: async (text, options) => {
        check();
        return local.summarize(text, options);
      },
      close: () => local.close?.() ?? Promise.resolve(),
    },
  };
}

/** Waits until the spans the console holds of `traceId` cover `services` (asked through its API), or fails after 30 s. */
export async function waitTraced(
  consoleUrl: string,
  token: string | undefined,
  traceId: string,
  services: readonly string[],
) {
  const until = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${consoleUrl}/api/traces/${traceId}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    const body = (await res.json()) as { spans?: { service: string }[] };
    const seen = new Set((body.spans ?? []).map((s) => s.service));
    if (services.every((s) => seen.has(s))) return;
    if (Date.now() > until)
      throw new Error(
        `trace ${traceId} has spans of ${[...seen].join(', ')}, not all of ${services.join(', ')}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The modular monolith with its console (no token: development). */
export async function monolithWithConsole(): Promise<ConsoleTopology> {
  const ai = await switchableProvider();
  const platform = await startPlatform({
    gatewayPort: 0,
    opsPort: 0,
    aiProvider: ai.provider,
    console: { port: 0, development: true },
  });
  const consoleUrl = platform.console?.url as string;
  return {
    gatewayUrl: platform.gatewayUrl,
    consoleUrl,
    page: (hash) => `${consoleUrl}/${hash}`,
    processes: 1,
    settle: () => settle(platform),
    traced: async (traceId, services) => {
      await platform.flushTraces();
      await waitTraced(consoleUrl, undefined, traceId, services);
    },
    aiDown: async (down) => ai.setDown(down),
    downError: 'AI provider unreachable',
    aiDeadLetters: async () => platform.bus.deadLetters('ai').length,
    [Symbol.asyncDispose]: () => platform.stop(),
  };
}

/**
 * The distributed topology (one process per service, invoicing ×1 to keep it small) with the
 * console as its own process, on a token; the AI provider goes down by restarting the ai process
 * against an OpenAI-compatible endpoint nobody serves.
 */
export async function distributedWithConsole(): Promise<ConsoleTopology> {
  const consolePort = await freePortBlock(1);
  const system = await startSystem('refront_console', {
    instances: { invoicing: 1 },
    consolePort,
    output: 'capture',
  });
  const { topology } = system;
  const consoleUrl = topology.consoleUrl as string;
  const token = topology.consoleToken;
  const ai = topology.one('ai');
  const deadPort = await freePortBlock(1);
  return {
    gatewayUrl: topology.gatewayUrl,
    consoleUrl,
    page: (hash) => `${consoleUrl}/?token=${token}${hash}`,
    processes: topology.processes.filter((p) => p.service !== 'console').length,
    settle: () => topology.settle(),
    traced: (traceId, services) => waitTraced(consoleUrl, token, traceId, services),
    aiDown: async (down) => {
      await topology.stop(ai);
      topology.start(ai, down ? { AI_BASE_URL: `http://127.0.0.1:${deadPort}/v1`, AI_MODEL: 'down' } : {});
      await topology.waitReady(ai);
    },
    downError: 'cannot reach',
    aiDeadLetters: async () => topology.queueMessages(`${topology.queueOf('ai')}.dlq`),
    [Symbol.asyncDispose]: () => system[Symbol.asyncDispose](),
  };
}

/** What the browser tests act as: an admin of tenant `acme` (a dev token) and one of its customers. */
export interface AcmeAdmin {
  readonly token: string;
  readonly customerId: string;
}

/** Signs in as an admin of `acme` at `platform`'s gateway and creates a customer named `name`. */
export async function acmeAdmin(platform: ConsoleTopology, name: string): Promise<AcmeAdmin> {
  const token = await devToken(platform.gatewayUrl, 'acme', ['admin']);
  const customer = await http(platform.gatewayUrl, 'POST', '/v1/customers', {
    token,
    body: { name, hourlyRateMinor: 9_500, currency: 'EUR' },
  });
  if (customer.status !== 201) throw new Error(`customer ${name}: HTTP ${customer.status}`);
  return { token, customerId: customer.body.id };
}
