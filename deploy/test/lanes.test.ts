import { muxServiceName, PLATFORM_MODULES, parseDns } from '@refront/demo/deploy';
import { describe, expect, it } from 'vitest';
import { type ComposeFile, containerEnv, loadCompose } from './composeFile.js';
import { runtimeImage } from './imageFacts.js';
import { type ConfigMap, deploymentOf, envOf, literalEnv, loadK8s } from './k8sObjects.js';
import { consulNamesOf, grpcOnly, type LaneProcess, laneOf, unresolvedCalls } from './lanes.js';
import { readRepoFile } from './paths.js';
import { calleesIn, rpcCallGraph, serveDefault } from './sourceFacts.js';

const platform = PLATFORM_MODULES.map((m) => m.name);
const graph = rpcCallGraph(platform);
const defaultLane = serveDefault('REFRONT_RPC');
const image = runtimeImage();
const compose = loadCompose();
const k8s = loadK8s('deploy/k8s');
const MUX_PORT = Number(image.env.MUX_PORT);
const GRPC_PORT = Number(image.env.GRPC_PORT);

/** The processes Compose runs (image ENV under the service's environment), given the shell's variables. */
function composeProcesses(
  shell: Record<string, string> = {},
  file: ComposeFile = compose,
  imageEnv: Readonly<Record<string, string>> = image.env,
): LaneProcess[] {
  return (
    Object.values(file.services)
      // The console calls no service: it has no lane.
      .filter((s) => s.environment?.SERVICE !== undefined && s.environment.SERVICE !== 'console')
      .map((s) => {
        const env = { ...imageEnv, ...containerEnv(s, shell) };
        return { service: env.SERVICE as string, env };
      })
  );
}

/** The containers the Deployments run (image ENV under env + envFrom), with the given ConfigMaps. */
function k8sProcesses(configMaps: readonly ConfigMap[] = k8s.configMaps): LaneProcess[] {
  return k8s.deployments.flatMap((d) =>
    d.spec.template.spec.containers.map((c) => {
      const env = { ...image.env, ...literalEnv(c, configMaps) };
      return { service: env.SERVICE as string, env };
    }),
  );
}

/** The ConfigMaps with one variable changed wherever they set it. */
const withConfig = (name: string, value: string, maps: readonly ConfigMap[] = k8s.configMaps): ConfigMap[] =>
  maps.map((m) => (name in m.data ? { ...m, data: { ...m.data, [name]: value } } : m));

describe('the mux lane beside gRPC: derived from the code', () => {
  it('reads who calls whom from the demo’s sources', () => {
    // The gateway calls the services its HTTP API serves (every one of the demo's own; a service
    // `refront new service` just added has no route yet), each a service of the platform.
    const fromGateway = [...(graph.get('gateway') ?? [])];
    expect(fromGateway.length).toBeGreaterThanOrEqual(6);
    const between = [...graph].filter(([caller]) => caller !== 'gateway');
    expect(between.length).toBeGreaterThanOrEqual(1); // the services call each other too
    for (const [caller, callees] of graph) {
      for (const callee of callees) expect(platform, `${caller} → ${callee}`).toContain(callee);
    }
    expect(graph.get('time-tracking')).toContain('tickets');
  });

  it('maps a client of a generated contract to the service owning it, and refuses one it cannot place', () => {
    const source = [
      "import { TimeTrackingServiceDefinition } from '../gen/refront/timetracking/v1/timetracking.js';",
      'const c = client(TimeTrackingServiceDefinition);',
    ].join('\n');
    expect([...calleesIn(source)]).toEqual(['time-tracking']);
    expect(() => calleesIn('createClient(LocalDefinition, channel)')).toThrow(/not imported/);
  });

  it('serves mux on MUX_PORT unless it is off, registers it as <service>-mux, and calls <service>-mux on the mux lane', () => {
    const serve = readRepoFile('examples/refront-demo/src/serve.ts');
    expect(serve).toMatch(/muxPort: cfg\.MUX_PORT,/);
    expect(serve).toMatch(/rpc: cfg\.REFRONT_RPC,/);
    expect(serve).toMatch(/openPlatformChannel\(cfg\.REFRONT_RPC,/); // the gateway and the console
    const distributed = readRepoFile('examples/refront-demo/src/platform/distributed.ts');
    expect(distributed).toMatch(
      /config\.muxPort === 'off'\s*\?\s*undefined\s*:\s*createMuxServer\(\{[^}]*port: config\.muxPort \?\? 0,/,
    );
    expect(distributed).toMatch(
      /if \(muxServer\) \{\s*await registry\.register\(\{[\s\S]{0,200}?service: muxServiceName\(module\.name\),[\s\S]{0,200}?port: muxServer\.port,/,
    );
    expect(distributed).toMatch(/openPlatformChannel\(config\.rpc \?\? DEFAULT_RPC_LANE, registry,/);
    // One channel of every caller (a service, the gateway, the console): each service on the lane.
    const platformChannel = readRepoFile('examples/refront-demo/src/platform/platformChannel.ts');
    expect(platformChannel).toMatch(/openLane\(lane, registry, service,/);
    const lane = readRepoFile('examples/refront-demo/src/platform/rpcLane.ts');
    expect(lane).toMatch(/lane === 'mux'\s*\?\s*createMuxChannel\(\{[^}]*service: muxServiceName\(service\)/);
    expect(muxServiceName('tickets')).toBe('tickets-mux');
  });

  it('calls on mux by default and serves mux even when MUX_PORT is unset (on a free port, for Consul)', () => {
    expect(defaultLane).toBe('mux');
    expect(serveDefault('MUX_PORT')).toBe(0);
    expect(consulNamesOf({ service: 'tickets', env: {} })).toEqual(['tickets', 'tickets-mux']);
    expect(consulNamesOf({ service: 'tickets', env: { MUX_PORT: 'off' } })).toEqual(['tickets']);
  });
});

describe('the mux lane beside gRPC: one port everywhere', () => {
  it('the image serves mux on its own port and exposes every port it listens on', () => {
    expect(MUX_PORT).toBeGreaterThan(0);
    expect(MUX_PORT).not.toBe(GRPC_PORT);
    const listening = ['GRPC_PORT', 'MUX_PORT', 'OPS_PORT', 'GATEWAY_PORT'].map((v) => Number(image.env[v]));
    expect([...image.exposed].sort()).toEqual(listening.sort());
  });

  it('Compose: every service serves gRPC and mux on the image’s ports', () => {
    for (const p of composeProcesses().filter((x) => x.service !== 'gateway')) {
      expect(Number(p.env.GRPC_PORT), p.service).toBe(GRPC_PORT);
      expect(Number(p.env.MUX_PORT), p.service).toBe(MUX_PORT);
    }
  });

  it('Kubernetes: MUX_PORT, the container port "mux", the Service port "mux" and REFRONT_DNS agree', () => {
    for (const name of platform) {
      const [c] = deploymentOf(k8s, name).spec.template.spec.containers;
      if (!c) throw new Error(`${name} has no container`);
      expect(Number(envOf(c, 'MUX_PORT', k8s.configMaps)), name).toBe(MUX_PORT);
      expect(c.ports?.find((p) => p.name === 'mux')?.containerPort, name).toBe(MUX_PORT);
      const svc = k8s.services.find((s) => s.metadata.name === name);
      expect(
        svc?.spec.ports.find((p) => p.name === 'mux'),
        name,
      ).toMatchObject({
        port: MUX_PORT,
        targetPort: 'mux',
      });
      const dns = parseDns(envOf(c, 'REFRONT_DNS', k8s.configMaps) ?? '');
      expect(dns[muxServiceName(name)], name).toEqual({ name: dns[name]?.name, port: MUX_PORT });
    }
  });
});

describe('the mux lane beside gRPC: switching is REFRONT_RPC alone', () => {
  it('Compose: every process takes REFRONT_RPC from the shell, mux when unset or empty', () => {
    const byDefault = composeProcesses();
    const flipped = composeProcesses({ REFRONT_RPC: 'grpc' });
    expect(byDefault.map((p) => laneOf(p.env, defaultLane))).toEqual(byDefault.map(() => 'mux'));
    const empty = composeProcesses({ REFRONT_RPC: '' });
    expect(empty.map((p) => laneOf(p.env, defaultLane))).toEqual(empty.map(() => 'mux'));
    expect(flipped.map((p) => laneOf(p.env, defaultLane))).toEqual(flipped.map(() => 'grpc'));
    for (const caller of graph.keys()) expect(byDefault.map((p) => p.service)).toContain(caller);
  });

  it('Compose: every call resolves in Consul on mux by default, and on gRPC with REFRONT_RPC=grpc', () => {
    expect(unresolvedCalls(composeProcesses(), graph, defaultLane)).toEqual([]);
    expect(unresolvedCalls(composeProcesses({ REFRONT_RPC: 'grpc' }), graph, defaultLane)).toEqual([]);
    expect(grpcOnly(composeProcesses(), platform)).toEqual([]);
  });

  it('Kubernetes: one ConfigMap sets REFRONT_RPC=mux and no container overrides it', () => {
    expect(k8s.configMaps.filter((m) => 'REFRONT_RPC' in m.data).map((m) => m.data.REFRONT_RPC)).toEqual([
      'mux',
    ]);
    const own = k8s.deployments.flatMap((d) =>
      d.spec.template.spec.containers.flatMap((c) => (c.env ?? []).filter((e) => e.name === 'REFRONT_RPC')),
    );
    expect(own).toEqual([]);
    const configured = k8sProcesses();
    expect(configured.map((p) => laneOf(p.env, defaultLane))).toEqual(configured.map(() => 'mux'));
    const flipped = k8sProcesses(withConfig('REFRONT_RPC', 'grpc'));
    expect(flipped.map((p) => laneOf(p.env, defaultLane))).toEqual(flipped.map(() => 'grpc'));
    for (const caller of graph.keys()) expect(flipped.map((p) => p.service)).toContain(caller);
  });

  it('Kubernetes: every call resolves in REFRONT_DNS on mux as configured, and on gRPC with REFRONT_RPC=grpc', () => {
    expect(unresolvedCalls(k8sProcesses(), graph, defaultLane)).toEqual([]);
    expect(unresolvedCalls(k8sProcesses(withConfig('REFRONT_RPC', 'grpc')), graph, defaultLane)).toEqual([]);
    expect(grpcOnly(k8sProcesses(), platform)).toEqual([]);
  });

  it('a service missing on mux is reported (the checks are not vacuous)', () => {
    const dns = k8s.configMaps.find((m) => 'REFRONT_DNS' in m.data)?.data.REFRONT_DNS ?? '';
    const withoutTicketsMux = dns
      .split(';')
      .filter((e) => !e.trim().startsWith('tickets-mux='))
      .join(';');
    const broken = withConfig('REFRONT_DNS', withoutTicketsMux);
    const callersOfTickets = [...graph].filter(([, callees]) => callees.has('tickets')).map(([c]) => c);
    expect(callersOfTickets.length).toBeGreaterThanOrEqual(2);
    expect(unresolvedCalls(k8sProcesses(broken), graph, defaultLane)).toEqual(
      callersOfTickets.map((c) => `${c} → tickets-mux (dns)`).sort(),
    );
    const flipped = withConfig('REFRONT_RPC', 'grpc', broken);
    expect(unresolvedCalls(k8sProcesses(flipped), graph, defaultLane)).toEqual([]);
    expect(grpcOnly(k8sProcesses(broken), platform)).toContain('gateway: tickets');

    // Compose: with MUX_PORT unset (neither the image's nor the file's) every service still serves
    // mux on a free port and registers <service>-mux; only MUX_PORT=off leaves the mux lane empty.
    const unset = structuredClone(compose);
    for (const s of Object.values(unset.services)) delete s.environment?.MUX_PORT;
    const { MUX_PORT: _, ...imageWithoutMux } = image.env;
    expect(unresolvedCalls(composeProcesses({}, unset, imageWithoutMux), graph, defaultLane)).toEqual([]);
    const off = structuredClone(compose);
    for (const s of Object.values(off.services))
      if (s.environment?.MUX_PORT !== undefined) s.environment.MUX_PORT = 'off';
    const missing = unresolvedCalls(composeProcesses({}, off), graph, defaultLane);
    const gatewayCallees = [...(graph.get('gateway') ?? [])];
    expect(missing).toEqual(expect.arrayContaining(gatewayCallees.map((s) => `gateway → ${s}-mux (consul)`)));
    expect(unresolvedCalls(composeProcesses({ REFRONT_RPC: 'grpc' }, off), graph, defaultLane)).toEqual([]);
  });
});
