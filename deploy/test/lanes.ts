import { muxServiceName, parseDns, parseEndpoints, RPC_LANES, type RpcLane } from '@refront/demo/deploy';

/** One process of a deployment as discovery sees it: the SERVICE it runs and its environment. */
export interface LaneProcess {
  readonly service: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The registry backend a process gets: registryFromEnv's order (Consul, else DNS, else static). */
export type Backend = 'consul' | 'dns' | 'static' | 'memory';

/** The backend `registryFor` (platform/distributed.ts) picks for an environment. */
export function backendOf(env: LaneProcess['env']): Backend {
  if (env.CONSUL_HTTP_ADDR) return 'consul';
  if (env.REFRONT_DNS) return 'dns';
  if (env.REFRONT_ENDPOINTS) return 'static';
  return 'memory';
}

/**
 * The names a process registers in Consul (runDistributed): a platform service registers its own
 * name (gRPC) and `<service>-mux` (on MUX_PORT, a free port when unset), unless `MUX_PORT=off`;
 * the gateway serves no lane.
 */
export function consulNamesOf(p: LaneProcess): string[] {
  if (p.service === 'gateway') return [];
  return p.env.MUX_PORT?.trim() === 'off' ? [p.service] : [p.service, muxServiceName(p.service)];
}

/** The discovery names a caller can resolve, given every process of its deployment. */
export function resolvableNames(caller: LaneProcess, all: readonly LaneProcess[]): Set<string> {
  switch (backendOf(caller.env)) {
    case 'consul':
      return new Set(
        all.filter((p) => p.env.CONSUL_HTTP_ADDR === caller.env.CONSUL_HTTP_ADDR).flatMap(consulNamesOf),
      );
    case 'dns':
      return new Set(Object.keys(parseDns(caller.env.REFRONT_DNS ?? '')));
    case 'static':
      return new Set(Object.keys(parseEndpoints(caller.env.REFRONT_ENDPOINTS ?? '')));
    case 'memory':
      return new Set();
  }
}

/**
 * The lane a process calls on: `REFRONT_RPC`, else (unset or empty, as serve.ts reads it) serve.ts's
 * default.
 * @throws Error when the value is not a lane serve.ts accepts (it would not start).
 */
export function laneOf(env: LaneProcess['env'], fallback: string): RpcLane {
  const value = env.REFRONT_RPC?.trim() || fallback;
  const lane = RPC_LANES.find((l) => l === value);
  if (!lane) throw new Error(`REFRONT_RPC=${value} is not one of ${RPC_LANES.join(', ')}`);
  return lane;
}

/** The discovery name a call to `callee` looks up on `lane` (openLane). */
export function lookupName(lane: RpcLane, callee: string): string {
  return lane === 'mux' ? muxServiceName(callee) : callee;
}

/**
 * The calls of `graph` (caller → callees, from the source) that some process of a deployment
 * could not make on its lane, as `caller → name (backend)`: empty when every caller finds every
 * service it calls. A caller the deployment does not run is not checked here.
 */
export function unresolvedCalls(
  all: readonly LaneProcess[],
  graph: ReadonlyMap<string, ReadonlySet<string>>,
  defaultLane: string,
): string[] {
  const missing: string[] = [];
  for (const p of all) {
    const lane = laneOf(p.env, defaultLane);
    const names = resolvableNames(p, all);
    for (const callee of graph.get(p.service) ?? []) {
      const name = lookupName(lane, callee);
      if (!names.has(name)) missing.push(`${p.service} → ${name} (${backendOf(p.env)})`);
    }
  }
  return [...new Set(missing)].sort();
}

/**
 * The services some process can reach on gRPC but not on mux (`caller: service`): the mux lane
 * must be able to carry every call the gRPC lane can.
 */
export function grpcOnly(all: readonly LaneProcess[], services: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of all) {
    const names = resolvableNames(p, all);
    for (const s of services)
      if (names.has(s) && !names.has(muxServiceName(s))) out.push(`${p.service}: ${s}`);
  }
  return [...new Set(out)].sort();
}
