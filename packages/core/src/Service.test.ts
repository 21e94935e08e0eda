import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { get } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { createService, type ServiceState } from './Service.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const logger = createLogger({ service: 'test', level: 'silent' });

function startFixture(env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ['--conditions=@refront/source', '--import', 'tsx', path.join(here, 'testing/serviceFixture.ts')],
    {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
    },
  ) as ChildProcessWithoutNullStreams;
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<{ port: number; ops: number }>((resolve, reject) => {
    const onData = (): void => {
      const line = stdout.split('\n').find((l) => l.startsWith('{"ready":true'));
      if (line) {
        child.stdout.off('data', onData);
        resolve(JSON.parse(line) as { port: number; ops: number });
      }
    };
    child.stdout.on('data', onData);
    void exited.then((code) => reject(new Error(`fixture exited with ${code} before ready:\n${stderr}`)));
  });
  /** Resolves once a stdout line satisfies `match` (or rejects if the process exits first). */
  const line = (match: (l: string) => boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (stdout.split('\n').some(match)) {
          child.stdout.off('data', check);
          resolve();
        }
      };
      child.stdout.on('data', check);
      check();
      void exited.then(() => reject(new Error(`fixture exited before the line:\n${stdout}\n${stderr}`)));
    });
  return { child, ready, exited, line, output: () => ({ stdout, stderr }) };
}

function httpGet(port: number, pathname: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: pathname, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('service lifecycle in a real process', () => {
  it('on SIGTERM lets a slow request finish, refuses new ones, then exits 0', async () => {
    const f = startFixture({ FIXTURE_PORT: '0', FIXTURE_MODE: 'normal' });
    const { port, ops } = await f.ready;
    expect((await httpGet(ops, '/readyz')).status).toBe(200);
    // Signal only once the slow request is in the process, and ask again only once it drains:
    // fixed sleeps here made the test depend on the machine's load.
    const slow = httpGet(port, '/sleep?ms=1500');
    await f.line((l) => l === '{"accepted":1500}');
    f.child.kill('SIGTERM');
    await f.line((l) => l.includes('"state":"draining"'));
    const late = await httpGet(port, '/sleep?ms=0').then(
      (r) => r.status,
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect([503, 'ECONNREFUSED', 'ECONNRESET']).toContain(late);
    const readyDuringDrain = await httpGet(ops, '/readyz').then(
      (r) => r.status,
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(readyDuringDrain).toBe(503);
    const done = await slow;
    expect(done.status).toBe(200);
    expect(JSON.parse(done.body)).toEqual({ aborted: false });
    expect(await f.exited).toBe(0);
    const states = f
      .output()
      .stdout.split('\n')
      .filter((l) => l.includes('"state"'))
      .map((l) => (JSON.parse(l) as { state: string }).state);
    expect(states).toEqual(['starting', 'ready', 'draining', 'stopped']);
  });

  it('aborts a request still running when the grace period ends, and still exits', async () => {
    const f = startFixture({ FIXTURE_PORT: '0', FIXTURE_MODE: 'normal', FIXTURE_GRACE_MS: '200' });
    const { port } = await f.ready;
    const slow = httpGet(port, '/sleep?ms=30000');
    await f.line((l) => l === '{"accepted":30000}');
    f.child.kill('SIGTERM');
    const res = await slow.then(
      (r) => r.status,
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect([503, 'ECONNRESET']).toContain(res);
    expect(await f.exited).toBe(0);
  });

  it('reports every invalid or missing variable by name and exits 1 before binding a port', async () => {
    const f = startFixture({ FIXTURE_PORT: 'not-a-port', FIXTURE_GRACE_MS: '-5' });
    f.ready.catch(() => undefined);
    const code = await f.exited;
    expect(code).toBe(1);
    const { stdout, stderr } = f.output();
    expect(stderr).toContain('FIXTURE_PORT');
    expect(stderr).toContain('FIXTURE_MODE: missing');
    expect(stderr).toContain('FIXTURE_GRACE_MS');
    expect(stderr).toMatch(/3 problems/);
    expect(stdout).not.toContain('"ready":true');
    expect(stdout).not.toContain('"state":"starting"');
  });
});

describe('service lifecycle', () => {
  it('goes created → starting → ready → draining → stopped and closes components in reverse order', async () => {
    const order: string[] = [];
    const service = createService({
      name: 'unit',
      version: '1',
      logger,
      handleSignals: false,
      opsPort: false,
    });
    const states: ServiceState[] = [];
    service.onStateChange((s) => states.push(s));
    for (const name of ['db', 'server', 'consumer']) {
      service.use({
        name,
        start: async () => void order.push(`start ${name}`),
        drain: async () => void order.push(`drain ${name}`),
        close: async () => void order.push(`close ${name}`),
      });
    }
    await service.start();
    await service.stop();
    await service.stop();
    expect(states).toEqual(['starting', 'ready', 'draining', 'stopped']);
    expect(order.filter((o) => o.startsWith('start'))).toEqual([
      'start db',
      'start server',
      'start consumer',
    ]);
    expect(order.filter((o) => o.startsWith('close'))).toEqual([
      'close consumer',
      'close server',
      'close db',
    ]);
    expect(order.indexOf('drain db')).toBeLessThan(order.indexOf('close consumer'));
  });

  it('closes what started when a later component fails to start', async () => {
    const closed: string[] = [];
    const service = createService({
      name: 'unit',
      version: '1',
      logger,
      handleSignals: false,
      opsPort: false,
    });
    service.use({ name: 'db', close: async () => void closed.push('db') });
    service.use({
      name: 'broken',
      start: async () => {
        throw new Error('cannot bind');
      },
      close: async () => void closed.push('broken'),
    });
    await expect(service.start()).rejects.toThrow('cannot bind');
    expect(closed).toEqual(['db']);
    expect(service.state).toBe('stopped');
  });

  it('serves /healthz, /readyz with every dependency, and /metrics in Prometheus text format', async () => {
    let dbUp = true;
    const service = createService({
      name: 'ops',
      version: '2.0.0',
      logger,
      handleSignals: false,
      opsPort: 0,
      opsHost: '127.0.0.1',
    });
    service.readiness('database', () => dbUp);
    await service.start();
    const port = service.opsAddress!.port;
    const health = await httpGet(port, '/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({
      status: 'ok',
      service: 'ops',
      version: '2.0.0',
      state: 'ready',
    });
    expect((await httpGet(port, '/readyz')).status).toBe(200);
    dbUp = false;
    const notReady = await httpGet(port, '/readyz');
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body).checks).toEqual({ database: false });
    const metrics = await httpGet(port, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(metrics.body).toContain('service="ops"');
    expect((await httpGet(port, '/nope')).status).toBe(404);
    await service.stop();
  });

  it('refuses components once draining', async () => {
    const service = createService({
      name: 'unit',
      version: '1',
      logger,
      handleSignals: false,
      opsPort: false,
    });
    await service.start();
    await service.stop();
    expect(() => service.use({ name: 'late' })).toThrowError(
      expect.objectContaining({ status: 'FAILED_PRECONDITION' }),
    );
  });

  it('rejects an invalid grace period at construction', () => {
    expect(() => createService({ name: 'x', version: '1', gracePeriodMs: -1 })).toThrowError(
      expect.objectContaining({ reason: 'CORE_INVALID_OPTION' }),
    );
  });
});
