import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@refront/core';
import { loadServeConfig, PLATFORM_MODULES } from '@refront/demo/deploy';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { SERVE_BUNDLE_DIR } from '../tsup.config.js';
import { type ComposeService, containerEnv, interpolate, loadCompose } from './composeFile.js';
import { runtimeImage } from './imageFacts.js';
import { readRepoFile, repoPath } from './paths.js';
import { RUNTIME_ENV, serveEnvNames, serveNumberDefault } from './sourceFacts.js';

const compose = loadCompose();
const schema = JSON.parse(readRepoFile('deploy/schemas/compose-spec.json')) as Record<string, unknown>;
const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
const errorsOf = (data: unknown): string[] =>
  validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
const refront = Object.entries(compose.services).filter(([, s]) => s.environment?.SERVICE !== undefined);
/** The processes that serve or call the platform's API: every one but the console. */
const platformProcesses = refront.filter(([n]) => n !== 'console');
const seconds = (d: string): number => Number(/^(\d+)s$/.exec(d)?.[1] ?? Number.NaN);

describe('compose.yaml', () => {
  it('is valid against the Compose specification schema', () => {
    expect(errorsOf(compose)).toEqual([]);
  });

  it('the schema rejects a broken file (the check is not vacuous)', () => {
    const broken = structuredClone(compose);
    (broken.services.tickets as ComposeService).depends_on = { postgres: { condition: 'service_ready' } };
    (broken.services.gateway as Record<string, unknown>).helthcheck = {};
    const errors = errorsOf(broken).join('\n');
    expect(errors).toMatch(/depends_on\/postgres\/condition must be equal to one of the allowed values/);
    expect(errors).toMatch(/must NOT have additional properties/);
  });

  it('runs every service of PLATFORM_MODULES and the gateway, each under its own name', () => {
    const expected = [...PLATFORM_MODULES.map((m) => m.name), 'gateway', 'console'].sort();
    expect(refront.map(([name]) => name).sort()).toEqual(expected);
    for (const [name, s] of refront) {
      expect(s.environment?.SERVICE).toBe(name);
      expect(s.image).toBe(compose.services.tickets?.image);
    }
    for (const [name, s] of platformProcesses) {
      expect(s.environment?.CONSUL_HTTP_ADDR, name).toBe('http://consul:8500');
      // Every span to the console.
      expect(containerEnv(s).OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe('http://console:4318');
    }
    // The console's API explorer calls every service as they call each other: the same discovery
    // and lane, and the gateway's routes at the gateway's port.
    const console = compose.services.console as ComposeService;
    expect(console.environment?.CONSUL_HTTP_ADDR).toBe('http://consul:8500');
    expect(console.environment?.REFRONT_RPC).toBe(compose.services.tickets?.environment?.REFRONT_RPC);
    expect(console.environment?.GATEWAY_URL).toBe(
      `http://gateway:${compose.services.gateway?.environment?.GATEWAY_PORT}`,
    );
    expect(Object.keys(console.depends_on ?? {})).toContain('consul');
    for (const [name, s] of platformProcesses.filter(([n]) => n !== 'gateway')) {
      // Both lanes on fixed ports, set here rather than left to the image (lanes.test.ts ties them).
      expect(s.environment?.GRPC_PORT, name).toMatch(/^[1-9]\d*$/);
      expect(s.environment?.MUX_PORT, name).toMatch(/^[1-9]\d*$/);
    }
    expect(compose.services.invoicing?.deploy?.replicas).toBe(3);
    expect(compose.services.gateway?.ports).toEqual(['8080:8080']);
    expect(compose.services.gateway?.environment?.GATEWAY_PORT).toBe('8080');
  });

  it('sets only variables serve.ts reads; services get a database and a broker user that is not guest', () => {
    const known = new Set([...serveEnvNames(), ...RUNTIME_ENV]);
    const unknown = refront.flatMap(([name, s]) =>
      Object.keys(s.environment ?? {})
        .filter((k) => !known.has(k))
        .map((k) => `${name}: ${k}`),
    );
    expect(unknown).toEqual([]);
    for (const [name, s] of platformProcesses.filter(([n]) => n !== 'gateway')) {
      expect(s.environment?.DATABASE_URL, name).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
      // RabbitMQ lets "guest" connect from localhost only.
      expect(s.environment?.AMQP_URL, name).toMatch(/^amqp:\/\/(?!guest:)[^@]+@rabbitmq:5672$/);
    }
  });

  it('waits on healthy dependencies; health is /readyz on the ops port; the drain ends before SIGKILL', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(compose.services[dep], `${name} → ${dep}`).toBeDefined();
        if (condition === 'service_healthy') expect(compose.services[dep]?.healthcheck, dep).toBeDefined();
      }
    }
    for (const [name, s] of refront) {
      const ops = Number(s.environment?.OPS_PORT ?? serveNumberDefault('OPS_PORT'));
      expect(s.healthcheck?.test.join(' '), name).toContain(`127.0.0.1:${ops}/readyz`);
      const grace = Number(s.environment?.GRACE_PERIOD_MS ?? serveNumberDefault('GRACE_PERIOD_MS'));
      expect(seconds(s.stop_grace_period ?? '10s') * 1000, name).toBeGreaterThan(grace);
    }
    expect(Object.keys(compose.services.gateway?.depends_on ?? {})).toEqual(
      expect.arrayContaining(PLATFORM_MODULES.map((m) => m.name)),
    );
  });

  it('the gateway replicas share their limits through the redis service, which the gateway does not wait to be healthy for', () => {
    const gateway = compose.services.gateway;
    const url = new URL(gateway?.environment?.REDIS_URL ?? '');
    expect(url.protocol).toBe('redis:');
    expect(compose.services[url.hostname]?.image).toMatch(/^redis:\d/);
    expect(gateway?.depends_on?.[url.hostname]).toEqual({ condition: 'service_started' });
    // serve.ts reads it into the gateway's limit store.
    const cfg = loadServeConfig(containerEnv(gateway as ComposeService, { NODE_ENV: 'development' }));
    expect(cfg.REDIS_URL).toBe(url.href.replace(/\/$/, ''));
  });

  it('is a development profile: the gateway starts with dev tokens because NODE_ENV is not production', () => {
    expect(readRepoFile('deploy/compose.yaml').split('\n')[0]).toMatch(
      /^# DEVELOPMENT PROFILE\. Not for production/,
    );
    const gateway = compose.services.gateway as ComposeService;
    // The image sets NODE_ENV=production (dockerfile.test.ts); the service's environment wins.
    const env = { NODE_ENV: 'production', ...containerEnv(gateway) };
    expect(env).toMatchObject({ NODE_ENV: 'development', DEV_AUTH: 'true' });
    expect(loadServeConfig(env).DEV_AUTH).toBe(true);
    // With the image's NODE_ENV left in place, the same settings are refused by name.
    let refused: string[] = [];
    try {
      loadServeConfig({ ...env, NODE_ENV: 'production' });
    } catch (e: unknown) {
      if (!(e instanceof ConfigError)) throw e;
      refused = e.violations.map((v) => v.field).sort();
    }
    expect(refused).toEqual(['DEV_AUTH', 'JWT_SECRET']);
    // The production switch from the shell, with a real secret and no dev tokens, is accepted.
    const prod = containerEnv(gateway, {
      NODE_ENV: 'production',
      DEV_AUTH: 'false',
      JWT_SECRET: 'q7Vd3kP9zR2mW8xT5nB1cY6hJ4fL0sAeUgKiOoXvNbMtQpZr',
    });
    expect(loadServeConfig(prod)).toMatchObject({ NODE_ENV: 'production', DEV_AUTH: false });
  });

  it('mints a certificate for every service, the gateway and the console before they start; each mounts it read-only', () => {
    const certs = compose.services.certs as ComposeService;
    // The same image, running the bundled refront-dev-certs (tsup.config.ts) into its volume.
    expect(certs.image).toBe(compose.services.tickets?.image);
    const script = certs.entrypoint?.join('\n') ?? '';
    expect(script).toContain(
      `node --enable-source-maps /app/${SERVE_BUNDLE_DIR}/refront-dev-certs.mjs --dir /certs `,
    );
    const [volume, dir, mode] = (certs.volumes?.[0] ?? '').split(':');
    expect({ dir, mode }).toEqual({ dir: '/certs', mode: undefined });
    expect(compose.volumes).toHaveProperty(volume as string);
    // The mount point exists in the image, owned by its user, so the volume is writable there.
    expect(readRepoFile('deploy/Dockerfile')).toMatch(
      new RegExp(`^COPY --from=build --chown=${runtimeImage().user} \\S+ ${dir}/$`, 'm'),
    );
    const names = [...(certs.command ?? [])].sort();
    expect(names).toEqual(refront.map(([name]) => name).sort());
    for (const [name, s] of refront) {
      expect(s.volumes, name).toContain(`${volume}:${dir}:ro`);
      expect(s.depends_on?.certs, name).toEqual({ condition: 'service_completed_successfully' });
      expect(containerEnv(s), name).toMatchObject({
        TLS_CA_FILE: `${dir}/ca.crt`,
        TLS_CERT_FILE: `${dir}/${name}.crt`,
        TLS_KEY_FILE: `${dir}/${name}.key`,
      });
      // The image's ENV under the service's: what serve.ts parses at start (MTLS on, the default).
      const env = { ...runtimeImage().env, ...containerEnv(s) };
      expect(loadServeConfig(env).MTLS, name).toBe('on');
    }
  });

  it('the certs service makes a set once, keeps it across runs, and makes a new one when a key is missing', () => {
    const certs = compose.services.certs as ComposeService;
    const [shell, flag, script, name] = certs.entrypoint ?? [];
    const dir = mkdtempSync(join(tmpdir(), 'refront-compose-certs-'));
    try {
      // The script as the container's shell gets it ($$ is Compose's escape of $), with the bundle
      // replaced by the same command from source and /certs by a folder of this run.
      const local = (script ?? '')
        .replaceAll('$$', '$')
        .replace(
          `node --enable-source-maps /app/${SERVE_BUNDLE_DIR}/refront-dev-certs.mjs`,
          `"${process.execPath}" --conditions=@refront/source --import tsx "${repoPath('packages/identity/src/bin.ts')}"`,
        )
        .replaceAll('/certs', dir);
      const run = () =>
        execFileSync(shell as string, [flag as string, local, name as string, ...(certs.command ?? [])], {
          cwd: repoPath('.'),
          encoding: 'utf8',
        });
      const ca = () => readFileSync(join(dir, 'ca.crt'), 'utf8');
      run();
      const first = ca();
      expect(readdirSync(dir).sort()).toEqual(
        ['ca.crt', ...(certs.command ?? []).flatMap((n) => [`${n}.crt`, `${n}.key`])].sort(),
      );
      expect(run()).toMatch(/keeping the certificates/);
      expect(ca()).toBe(first);
      rmSync(join(dir, 'reporting.key'));
      run();
      expect(ca()).not.toBe(first);
      expect(readdirSync(dir)).toContain('reporting.key');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it(`reads \${NAME:-default} and \${NAME-default} as Compose does, and refuses forms it does not model`, () => {
    expect(interpolate(`\${REFRONT_RPC:-mux}`, {})).toBe('mux');
    expect(interpolate(`\${REFRONT_RPC:-mux}`, { REFRONT_RPC: '' })).toBe('mux');
    expect(interpolate(`\${REFRONT_RPC-mux}`, { REFRONT_RPC: '' })).toBe('');
    expect(interpolate(`v\${A}.\${B:-0}`, { A: '1', B: '2' })).toBe('v1.2');
    expect(() => interpolate(`\${SECRET:?required}`, {})).toThrow(/unsupported interpolation/);
  });
});
