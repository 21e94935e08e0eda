import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CheckStatus, httpProbe } from '../internal/httpProbe.js';
import { parseGoDuration } from './goDuration.js';

/**
 * A test double of a Consul agent's HTTP API, for the endpoints the Consul backend uses, shaped
 * as Consul documents them (developer.hashicorp.com/consul/api-docs): agent service register and
 * deregister, check pass/warn/fail/update, TTL expiry, HTTP checks, DeregisterCriticalServiceAfter
 * reaping, and `GET /v1/health/service/:service` with `passing` and blocking queries (`index`,
 * `wait`, `X-Consul-Index`). Test-only: never exported from the package index.
 *
 * Deliberate differences, for fast tests: HTTP checks run at once on registration (Consul
 * staggers the first run) and critical services are reaped every `reapIntervalMs` with no
 * one-minute minimum.
 */
export interface ConsulContractServerOptions {
  /** How often critical services are checked for reaping, in ms. @default 25 */
  readonly reapIntervalMs?: number;
}

/** A fault the server injects into the next health queries. */
export type ConsulFault = 'malformed-json' | 'wrong-shape' | 'no-index' | 'http-500' | 'http-403';

interface CheckState {
  readonly id: string;
  readonly name: string;
  readonly kind: 'ttl' | 'http' | 'none';
  status: CheckStatus;
  output: string;
  readonly ttlMs: number | undefined;
  readonly deregisterAfterMs: number | undefined;
  criticalSince: number | undefined;
  timer: NodeJS.Timeout | undefined;
  readonly createIndex: number;
  modifyIndex: number;
}

interface ServiceState {
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  readonly createIndex: number;
  readonly modifyIndex: number;
  readonly checks: CheckState[];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const NODE = 'refront-contract-node';
const META_KEY = /^[A-Za-z0-9_-]+$/;

export class ConsulContractServer implements AsyncDisposable {
  /** Every request as `METHOD /path?query`, for assertions. */
  readonly requests: string[] = [];
  private readonly services = new Map<string, ServiceState>();
  private readonly serviceIndex = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private readonly faults: ConsulFault[] = [];
  private index = 1;
  private server: Server | undefined;
  private reaper: NodeJS.Timeout | undefined;
  private portNumber = 0;

  private constructor(private readonly options: ConsulContractServerOptions) {}

  /** Starts a server on 127.0.0.1 (`port` 0 picks a free one). */
  static async start(port = 0, options: ConsulContractServerOptions = {}): Promise<ConsulContractServer> {
    const s = new ConsulContractServer(options);
    await s.listen(port);
    return s;
  }

  /** The port it listens on. */
  get port(): number {
    return this.portNumber;
  }

  /** `http://127.0.0.1:<port>`, as `CONSUL_HTTP_ADDR` would hold it. */
  get url(): string {
    return `http://127.0.0.1:${this.portNumber}`;
  }

  /** Injects `fault` into the next `count` health queries. */
  fault(fault: ConsulFault, count = 1): void {
    for (let i = 0; i < count; i++) this.faults.push(fault);
  }

  /** The agent's view of one service instance, or undefined. */
  service(id: string): { readonly status: CheckStatus | undefined; readonly port: number } | undefined {
    const s = this.services.get(id);
    return s && { status: s.checks[0]?.status, port: s.port };
  }

  /** Sets a check's status as `PUT /v1/agent/check/update` would, for any check kind. */
  setCheck(checkId: string, status: CheckStatus): void {
    const found = this.findCheck(checkId);
    if (found) this.setStatus(found[0], found[1], status, 'set by test');
  }

  /**
   * Stops and starts again on the same port, dropping every connection (in-flight blocking
   * queries fail). Without `keepState` it comes back empty, like an agent without a data dir;
   * either way the index restarts low, so clients see it go backwards.
   */
  async restart(options: { readonly keepState?: boolean } = {}): Promise<void> {
    await this.stopListening();
    if (!options.keepState) {
      for (const s of this.services.values()) for (const c of s.checks) clearTimeout(c.timer);
      this.services.clear();
      this.serviceIndex.clear();
    } else {
      for (const name of this.serviceIndex.keys()) this.serviceIndex.set(name, 2);
    }
    this.index = 2;
    await this.listen(this.portNumber);
  }

  /** Stops for good; idempotent. */
  async close(): Promise<void> {
    await this.stopListening();
    for (const s of this.services.values()) for (const c of s.checks) clearTimeout(c.timer);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        const status = e instanceof HttpError ? e.status : 500;
        if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(e instanceof Error ? e.message : String(e));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.portNumber = (server.address() as AddressInfo).port;
    this.reaper = setInterval(() => this.reap(), this.options.reapIntervalMs ?? 25);
  }

  private async stopListening(): Promise<void> {
    clearInterval(this.reaper);
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const w of [...this.waiters]) w();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://consul');
    const path = url.pathname;
    const match = (re: RegExp): RegExpMatchArray | null => path.match(re);
    let m: RegExpMatchArray | null = null;
    if (path === '/v1/agent/service/register') {
      requireMethod(req, 'PUT');
      this.register(parseJson(await readBody(req)));
      return ok(res);
    }
    m = match(/^\/v1\/agent\/service\/deregister\/(.+)$/);
    if (m) {
      requireMethod(req, 'PUT');
      const id = decodeURIComponent(m[1] as string);
      if (!this.services.has(id)) throw new HttpError(404, `Unknown service ID "${id}"`);
      this.deregister(id);
      return ok(res);
    }
    m = match(/^\/v1\/agent\/check\/(pass|warn|fail)\/(.+)$/);
    if (m) {
      requireMethod(req, 'PUT');
      const status = ({ pass: 'passing', warn: 'warning', fail: 'critical' } as const)[m[1] as 'pass'];
      this.updateTtl(decodeURIComponent(m[2] as string), status, url.searchParams.get('note') ?? '');
      return ok(res);
    }
    m = match(/^\/v1\/agent\/check\/update\/(.+)$/);
    if (m) {
      requireMethod(req, 'PUT');
      const body = parseJson(await readBody(req)) as { Status?: unknown; Output?: unknown };
      if (body.Status !== 'passing' && body.Status !== 'warning' && body.Status !== 'critical') {
        throw new HttpError(400, `Invalid check status: "${String(body.Status)}"`);
      }
      this.updateTtl(decodeURIComponent(m[1] as string), body.Status, String(body.Output ?? ''));
      return ok(res);
    }
    m = match(/^\/v1\/health\/service\/(.+)$/);
    if (m) {
      requireMethod(req, 'GET');
      return this.health(decodeURIComponent(m[1] as string), url.searchParams, req, res);
    }
    throw new HttpError(404, `no handler for ${path}`);
  }

  private register(body: unknown): void {
    if (typeof body !== 'object' || body === null)
      throw new HttpError(400, 'Request decode failed: not an object');
    const b = body as Record<string, unknown>;
    if (typeof b.Name !== 'string' || b.Name === '') throw new HttpError(400, 'Missing service name');
    const id = typeof b.ID === 'string' && b.ID !== '' ? b.ID : b.Name;
    const meta = (b.Meta ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(meta)) {
      if (!META_KEY.test(k) || k.startsWith('consul-') || typeof v !== 'string') {
        throw new HttpError(400, `Invalid Service Meta: Key "${k}" is invalid`);
      }
    }
    const old = this.services.get(id);
    for (const c of old?.checks ?? []) clearTimeout(c.timer);
    const defs = Array.isArray(b.Checks) ? b.Checks : b.Check ? [b.Check] : [];
    this.index += 1;
    const checks = defs.map((d: unknown, i) => this.makeCheck(id, d, defs.length > 1 ? `:${i + 1}` : ''));
    this.services.set(id, {
      id,
      name: b.Name,
      address: typeof b.Address === 'string' ? b.Address : '',
      port: typeof b.Port === 'number' ? b.Port : 0,
      tags: Array.isArray(b.Tags) ? b.Tags.map(String) : [],
      meta: meta as Record<string, string>,
      createIndex: this.index,
      modifyIndex: this.index,
      checks,
    });
    this.bump(b.Name);
    for (const c of checks) this.startCheck(id, c, defs[checks.indexOf(c)] as Record<string, unknown>);
  }

  private makeCheck(serviceId: string, def: unknown, suffix: string): CheckState {
    const d = (typeof def === 'object' && def !== null ? def : {}) as Record<string, unknown>;
    const dur = (v: unknown, field: string): number | undefined => {
      if (v === undefined) return undefined;
      const ms = typeof v === 'string' ? parseGoDuration(v) : undefined;
      if (ms === undefined)
        throw new HttpError(400, `Request decode failed: ${field}: invalid duration "${String(v)}"`);
      return ms;
    };
    const ttlMs = dur(d.TTL, 'TTL');
    const kind = ttlMs !== undefined ? 'ttl' : typeof d.HTTP === 'string' ? 'http' : 'none';
    if (kind === 'http') dur(d.Interval ?? 'x', 'Interval');
    const status = d.Status === 'passing' || d.Status === 'warning' ? d.Status : 'critical';
    return {
      id: typeof d.CheckID === 'string' && d.CheckID !== '' ? d.CheckID : `service:${serviceId}${suffix}`,
      name: typeof d.Name === 'string' ? d.Name : `Service '${serviceId}' check`,
      kind,
      status,
      output: '',
      ttlMs,
      deregisterAfterMs: dur(d.DeregisterCriticalServiceAfter, 'DeregisterCriticalServiceAfter'),
      criticalSince: status === 'critical' ? Date.now() : undefined,
      timer: undefined,
      createIndex: this.index,
      modifyIndex: this.index,
    };
  }

  private startCheck(serviceId: string, c: CheckState, def: Record<string, unknown>): void {
    if (c.kind === 'ttl') {
      this.armTtl(serviceId, c);
      return;
    }
    if (c.kind !== 'http') return;
    const intervalMs = parseGoDuration(String(def.Interval)) as number;
    const timeoutMs = parseGoDuration(String(def.Timeout ?? '10s')) ?? 10_000;
    const run = async (): Promise<void> => {
      const status = await httpProbe(String(def.HTTP), timeoutMs);
      if (!this.services.get(serviceId)?.checks.includes(c)) return;
      this.setStatus(serviceId, c, status, `HTTP GET ${String(def.HTTP)}: ${status}`);
      c.timer = setTimeout(() => void run(), intervalMs);
    };
    void run();
  }

  private armTtl(serviceId: string, c: CheckState): void {
    clearTimeout(c.timer);
    c.timer = setTimeout(() => this.setStatus(serviceId, c, 'critical', 'TTL expired'), c.ttlMs);
  }

  private findCheck(checkId: string): [string, CheckState] | undefined {
    for (const s of this.services.values()) {
      const c = s.checks.find((x) => x.id === checkId);
      if (c) return [s.id, c];
    }
    return undefined;
  }

  private updateTtl(checkId: string, status: CheckStatus, output: string): void {
    const found = this.findCheck(checkId);
    if (!found)
      throw new HttpError(
        404,
        `Unknown check ID "${checkId}". Ensure that the check ID is passed, not the check name.`,
      );
    const [serviceId, c] = found;
    if (c.kind !== 'ttl') throw new HttpError(500, `CheckID "${checkId}" does not have associated TTL`);
    this.setStatus(serviceId, c, status, output);
    this.armTtl(serviceId, c);
  }

  private setStatus(serviceId: string, c: CheckState, status: CheckStatus, output: string): void {
    c.output = output;
    if (c.status === status) return;
    c.status = status;
    c.criticalSince = status === 'critical' ? Date.now() : undefined;
    this.index += 1;
    c.modifyIndex = this.index;
    const s = this.services.get(serviceId);
    if (s) this.bump(s.name);
  }

  private deregister(id: string): void {
    const s = this.services.get(id);
    if (!s) return;
    for (const c of s.checks) clearTimeout(c.timer);
    this.services.delete(id);
    this.index += 1;
    this.bump(s.name);
  }

  private reap(): void {
    const now = Date.now();
    for (const s of [...this.services.values()]) {
      const due = s.checks.some(
        (c) =>
          c.deregisterAfterMs !== undefined &&
          c.criticalSince !== undefined &&
          now - c.criticalSince >= c.deregisterAfterMs,
      );
      if (due) this.deregister(s.id);
    }
  }

  private bump(name: string): void {
    this.serviceIndex.set(name, this.index);
    for (const w of [...this.waiters]) w();
  }

  private indexOf(name: string): number {
    return this.serviceIndex.get(name) ?? this.index;
  }

  private async health(
    name: string,
    q: URLSearchParams,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const waitMs = Math.min(600_000, q.has('wait') ? (parseGoDuration(q.get('wait') ?? '') ?? -1) : 300_000);
    if (waitMs < 0) throw new HttpError(400, `Invalid wait time: "${q.get('wait')}"`);
    const index = q.has('index') ? Number(q.get('index')) : 0;
    if (!Number.isFinite(index) || index < 0) throw new HttpError(400, `Invalid index: "${q.get('index')}"`);
    if (index > 0 && this.indexOf(name) <= index) await this.block(name, index, waitMs, req);
    if (res.destroyed || !this.server) return;
    const fault = this.faults.shift();
    const headers = {
      'content-type': 'application/json',
      'x-consul-knownleader': 'true',
      'x-consul-lastcontact': '0',
    };
    if (fault === 'http-500') throw new HttpError(500, 'rpc error: No cluster leader');
    if (fault === 'http-403')
      throw new HttpError(403, `Permission denied: token lacks permission 'service:read' on "${name}"`);
    const idx = fault === 'no-index' ? {} : { 'x-consul-index': String(this.indexOf(name)) };
    res.writeHead(200, { ...headers, ...idx });
    if (fault === 'malformed-json') return void res.end('[{"Node": {"Node": "x"');
    if (fault === 'wrong-shape') return void res.end(JSON.stringify({ Services: 'not a list' }));
    const passingOnly = q.has('passing') && q.get('passing') !== 'false';
    const entries = [...this.services.values()]
      .filter((s) => s.name === name)
      .filter((s) => !passingOnly || s.checks.every((c) => c.status === 'passing'))
      .map((s) => this.entry(s));
    res.end(JSON.stringify(entries));
  }

  private block(name: string, index: number, waitMs: number, req: IncomingMessage): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        req.off('close', done);
        resolve();
      };
      const check = () => {
        if (this.indexOf(name) > index || !this.server) done();
      };
      const timer = setTimeout(done, waitMs);
      this.waiters.add(check);
      req.on('close', done);
    });
  }

  private entry(s: ServiceState): unknown {
    const serf = {
      Node: NODE,
      CheckID: 'serfHealth',
      Name: 'Serf Health Status',
      Status: 'passing',
      Notes: '',
      Output: 'Agent alive and reachable',
      ServiceID: '',
      ServiceName: '',
      ServiceTags: [],
      Type: '',
      CreateIndex: 1,
      ModifyIndex: 1,
    };
    return {
      Node: {
        ID: '40e4a748-2192-161a-0510-9bf59fe950b5',
        Node: NODE,
        Address: '127.0.0.1',
        Datacenter: 'dc1',
        TaggedAddresses: { lan: '127.0.0.1', wan: '127.0.0.1' },
        Meta: {},
        CreateIndex: 1,
        ModifyIndex: 1,
      },
      Service: {
        ID: s.id,
        Service: s.name,
        Tags: s.tags,
        Address: s.address,
        Meta: s.meta,
        Port: s.port,
        Weights: { Passing: 1, Warning: 1 },
        EnableTagOverride: false,
        CreateIndex: s.createIndex,
        ModifyIndex: s.modifyIndex,
      },
      Checks: [
        serf,
        ...s.checks.map((c) => ({
          Node: NODE,
          CheckID: c.id,
          Name: c.name,
          Status: c.status,
          Notes: '',
          Output: c.output,
          ServiceID: s.id,
          ServiceName: s.name,
          ServiceTags: s.tags,
          Type: c.kind === 'none' ? '' : c.kind,
          CreateIndex: c.createIndex,
          ModifyIndex: c.modifyIndex,
        })),
      ],
    };
  }
}

function requireMethod(req: IncomingMessage, method: string): void {
  if (req.method !== method) throw new HttpError(405, `method ${req.method} not allowed`);
}

function ok(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': '0' });
  res.end();
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e: unknown) {
    throw new HttpError(400, `Request decode failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
