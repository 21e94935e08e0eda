/**
 * `refront new service` on a copy of the demo and its deploy/ (issue 22): the new service's
 * contract is generated, the deploy files derived from the registry are written (the workspace's
 * `refront:services` script) and pass the deploy validation, everything typechecks, the monolith
 * starts it beside the others (ready, answering through the in-process transport), the local
 * distributed topology plans a process for it, and `serve.ts` runs it as its own process on
 * PostgreSQL and RabbitMQ, where `refront call` reaches it over gRPC. No file but what the command
 * wrote is edited.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '@refront/cli';
import { connect } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePortBlock } from './ports.js';
import { AMQP_URL, infrastructure, isolatedInfrastructure, type TestInfrastructure } from './topology.js';

const DEMO = fileURLToPath(new URL('..', import.meta.url));
const REPO = resolve(DEMO, '../..');
const SUFFIX = Math.floor(Math.random() * 36 ** 5).toString(36);
/** A name of its own per run (letters only in the first word), so runs never share a schema or queue. */
const NAME = `notes-x${SUFFIX}`;
const PKG = `notes_x${SUFFIX}`;
const FOLDER = `notesx${SUFFIX}`;

let root: string;
let copy: string;

/** Runs the CLI in-process in the copy and returns its exit code and what it printed. */
async function refront(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { log: (l) => out.push(l), error: (l) => err.push(l) }, { cwd: copy });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function node(args: readonly string[], env: Record<string, string> = {}): string {
  return execFileSync(process.execPath, ['--conditions=@refront/source', '--import', 'tsx', ...args], {
    cwd: copy,
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** tsc on the copy; its diagnostics are the failure's message. */
function typecheck(): void {
  try {
    execFileSync(
      process.execPath,
      [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.check.json'],
      {
        cwd: copy,
        encoding: 'utf8',
        stdio: 'pipe',
      },
    );
  } catch (e: unknown) {
    throw new Error(`tsc failed:\n${(e as { stdout?: string }).stdout ?? ''}`);
  }
}

beforeAll(() => {
  // A workspace laid out like this repository: the demo, the protovalidate module its contracts
  // import, a buf.yaml naming both, the base tsconfig, and the installed packages.
  root = mkdtempSync(join(tmpdir(), 'refront-new-service-'));
  copy = join(root, 'examples', 'refront-demo');
  mkdirSync(join(root, 'packages', 'validate'), { recursive: true });
  cpSync(join(REPO, 'packages', 'validate', 'proto'), join(root, 'packages', 'validate', 'proto'), {
    recursive: true,
  });
  cpSync(DEMO, copy, {
    recursive: true,
    filter: (src) => !/[/\\](node_modules|\.tsbuild)$/.test(src),
  });
  cpSync(join(REPO, 'tsconfig.base.json'), join(root, 'tsconfig.base.json'));
  // The repository's Biome settings, outside git: the command formats what it writes with them.
  const biome = JSON.parse(readFileSync(join(REPO, 'biome.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(root, 'biome.json'), JSON.stringify({ ...biome, vcs: { enabled: false } }));
  // The installed packages, except that @refront/demo is the copy (deploy/ imports its registry).
  linkPackages(join(REPO, 'node_modules'), join(root, 'node_modules'), { '@refront/demo': copy });
  // deploy/ beside the copy, the package sources its checks read (ENV_SOURCES of
  // deploy/test/sourceFacts.ts), and the hook that derives its files from the registry.
  const facts = readFileSync(join(REPO, 'deploy/test/sourceFacts.ts'), 'utf8');
  for (const [, file] of facts.matchAll(/'(packages\/[^']+\.ts)'/g)) {
    if (file === undefined) continue;
    mkdirSync(join(root, file, '..'), { recursive: true });
    cpSync(join(REPO, file), join(root, file));
  }
  cpSync(join(REPO, 'deploy'), join(root, 'deploy'), {
    recursive: true,
    filter: (src) => !/[/\\](node_modules|\.tsbuild)$/.test(src),
  });
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({
      private: true,
      type: 'module',
      scripts: {
        'refront:services': 'node --conditions=@refront/source --import tsx deploy/derived/generate.ts',
      },
    }),
  );
  // Out of the repository the demo's project references point nowhere: the packages resolve
  // through node_modules (their @refront/source condition) instead.
  const tsconfig = JSON.parse(readFileSync(join(copy, 'tsconfig.json'), 'utf8')) as Record<string, unknown>;
  delete tsconfig.references;
  writeFileSync(join(copy, 'tsconfig.json'), JSON.stringify(tsconfig));
  // The repository's Vitest resolution, for the new service's own test.
  writeFileSync(
    join(root, 'vitest.config.ts'),
    `import { defineConfig } from 'vitest/config';
const conditions = ['@refront/source', 'node', 'import', 'default'];
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions: conditions.filter((c) => c !== 'import'), externalConditions: ['@refront/source'] } },
  test: { include: ['examples/refront-demo/src/${FOLDER}/*.test.ts'], testTimeout: 60000, hookTimeout: 120000 },
});
`,
  );
  writeFileSync(
    join(root, 'vitest.deploy.config.ts'),
    `import { defineConfig } from 'vitest/config';
const conditions = ['@refront/source', 'node', 'import', 'default'];
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions: conditions.filter((c) => c !== 'import'), externalConditions: ['@refront/source'] } },
  test: {
    include: ['deploy/test/{derived,rabbitmq,manifests,networkPolicies,identity,lanes}.test.ts'],
    testTimeout: 60000,
  },
});
`,
  );
  writeFileSync(
    join(root, 'buf.yaml'),
    [
      'version: v2',
      'modules:',
      '  - path: examples/refront-demo/proto',
      '  - path: packages/validate/proto',
      '    lint:',
      '      ignore:',
      '        - packages/validate/proto/buf/validate',
      'lint:',
      '  use:',
      '    - STANDARD',
      '',
    ].join('\n'),
  );
}, 60_000);
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('refront new service', () => {
  it('adds a service (formatted, registered) whose contract generates', async () => {
    const registry = readFileSync(join(copy, 'src/platform/services.ts'), 'utf8');
    const added = await refront('new', 'service', NAME);
    expect(added.err).toBe('');
    expect(added.code).toBe(0);
    expect(added.out).not.toContain('not formatted');
    expect(added.out).toContain(`ran npm run refront:services in ${root}`);
    for (const file of [
      `proto/refront/${PKG}/v1/${PKG}.proto`,
      `src/${FOLDER}/module.ts`,
      `src/${FOLDER}/migrations.ts`,
      `src/${FOLDER}/${FOLDER}.test.ts`,
    ])
      expect(existsSync(join(copy, file)), file).toBe(true);
    const updated = readFileSync(join(copy, 'src/platform/services.ts'), 'utf8');
    const camel = `notesX${SUFFIX}Module`;
    // The registry gained exactly the import and the entry.
    expect(updated.split('\n').length - registry.split('\n').length).toBe(2);
    expect(updated).toContain(`import { ${camel} } from '../${FOLDER}/module.js';`);
    expect(updated).toMatch(new RegExp(`  ${camel},\\n  // refront:services`));

    // What it wrote passes the workspace's lint and format checks as written.
    execFileSync(
      process.execPath,
      [
        join(REPO, 'node_modules/@biomejs/biome/bin/biome'),
        'check',
        `examples/refront-demo/src/${FOLDER}`,
        'examples/refront-demo/src/platform/services.ts',
      ],
      { cwd: root, stdio: 'pipe' },
    );

    const again = await refront('new', 'service', NAME);
    expect(again.code).toBe(1);
    expect(again.err).toContain('already registered');

    // The deploy files derived from the registry name it, and still pass their validation.
    expect(existsSync(join(root, `deploy/k8s/${NAME}.yaml`))).toBe(true);
    expect(readFileSync(join(root, 'deploy/compose.yaml'), 'utf8')).toContain(`  ${NAME}:\n`);
    expect(readFileSync(join(root, 'deploy/k8s/kustomization.yaml'), 'utf8')).toContain(`  - ${NAME}.yaml\n`);

    // The command generated the contracts before the workspace's hook (its modules import them).
    expect(existsSync(join(copy, `src/gen/refront/${PKG}/v1/${PKG}.ts`))).toBe(true);
    const check = await refront('generate', '--check');
    expect([check.code, check.err]).toEqual([0, '']);
  }, 120_000);

  it('joins the deployment: the deploy files derived from the registry pass their validation', () => {
    const deploy = execFileSync(
      process.execPath,
      [
        join(REPO, 'node_modules/vitest/vitest.mjs'),
        'run',
        '--root',
        root,
        '--config',
        'vitest.deploy.config.ts',
      ],
      { cwd: root, encoding: 'utf8', env: { ...process.env, CI: '1', NO_COLOR: '1' }, stdio: 'pipe' },
    );
    expect(deploy).toMatch(/Test Files\s+6 passed \(6\)/);
    // Six test files on a copy (schemas of every manifest): about 30 s on an idle machine.
  }, 300_000);

  it('typechecks the hosts with the new module, and its test', () => {
    // Typechecks the hosts (monolith, serve.ts, the local topology) with the new module, and its test.
    writeFileSync(
      join(copy, 'tsconfig.check.json'),
      JSON.stringify({
        extends: '../../tsconfig.base.json',
        compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false },
        include: [
          'src/platform/services.ts',
          'src/platform/startPlatform.ts',
          'src/platform/localTopology.ts',
          'src/serve.ts',
          `src/${FOLDER}`,
          'src/**/*.d.ts',
          'probe.ts',
        ],
      }),
    );
    writeFileSync(join(copy, 'probe.ts'), probeSource());
    typecheck();
    // tsc reads the packages' sources too (their @refront/source condition): minutes on a loaded runner.
  }, 420_000);

  it("passes the new service's own test", () => {
    const run = execFileSync(
      process.execPath,
      [join(REPO, 'node_modules/vitest/vitest.mjs'), 'run', '--root', root],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, CI: '1', NO_COLOR: '1' },
        stdio: 'pipe',
      },
    );
    expect(run).toMatch(/Tests\s+2 passed \(2\)/);
  }, 240_000);

  it('runs in the monolith: ready, answering, publishing, and in the distributed plan', () => {
    const probe = JSON.parse(node(['probe.ts'])) as {
      modules: string[];
      ready: { status: number; body: string };
      created: { item: { id: string; name: string } };
      read: { item: { id: string; name: string } };
      events: number;
      topology: string[];
    };
    expect(probe.modules).toContain(NAME);
    expect(probe.ready.status).toBe(200);
    expect(probe.ready.body).toContain(`${NAME}-db`);
    expect(probe.created.item.name).toBe('from the monolith');
    expect(probe.read.item).toEqual(probe.created.item);
    expect(probe.events).toBe(1);
    expect(probe.topology).toContain(NAME);
    // The whole monolith starts here (the AI model, every migration on PGlite): under a second on
    // an idle machine, close to a minute on a loaded CI runner.
  }, 300_000);

  describe('as its own process (serve.ts, the distributed topology)', () => {
    let up = false;
    let infra: TestInfrastructure | undefined;
    let child: ChildProcess | undefined;
    let grpcPort = 0;

    beforeAll(async () => {
      up = await infrastructure('refront new service, distributed');
      if (!up) return;
      infra = await isolatedInfrastructure('refront_new_service');
      grpcPort = await freePortBlock(1);
      child = spawn(process.execPath, ['--conditions=@refront/source', '--import', 'tsx', 'src/serve.ts'], {
        cwd: copy,
        env: {
          ...process.env,
          SERVICE: NAME,
          DATABASE_URL: infra.databaseUrl,
          AMQP_URL,
          AMQP_NAMESPACE: infra.namespace,
          AMQP_OWNERSHIP: 'off',
          MTLS: 'off',
          GRPC_HOST: '127.0.0.1',
          GRPC_PORT: String(grpcPort),
          MUX_PORT: 'off',
          OPS_PORT: '0',
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      await new Promise<void>((resolveReady, reject) => {
        const seen = (d: Buffer) => {
          output += d.toString();
          if (/"msg":"ready"/.test(output)) resolveReady();
        };
        child?.stdout?.on('data', seen);
        child?.stderr?.on('data', seen);
        child?.once('exit', (code) => reject(new Error(`serve.ts exited ${code} before ready:\n${output}`)));
      });
    }, 180_000);

    afterAll(async () => {
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child?.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (infra) {
        const conn = await connect(AMQP_URL);
        conn.on('error', () => {});
        const ch = await conn.createChannel();
        ch.on('error', () => {});
        await ch.deleteExchange(`${infra.namespace}.refront.${PKG}.v1`).catch(() => {});
        await conn.close().catch(() => {});
        await infra[Symbol.asyncDispose]();
      }
    }, 60_000);

    it('answers refront call over gRPC, per tenant, with the contract from proto/', async (ctx) => {
      if (!up) return ctx.skip();
      const address = `127.0.0.1:${grpcPort}`;
      const created = await refront(
        'call',
        `${NAME}/CreateItem`,
        '{"name":"over grpc"}',
        '--address',
        address,
        '--tenant',
        'acme',
      );
      expect(created.err).toBe('');
      expect(created.code).toBe(0);
      const item = (JSON.parse(created.out) as { item: { id: string; name: string } }).item;
      expect(item.name).toBe('over grpc');

      const read = await refront(
        'call',
        `${NAME}/GetItem`,
        JSON.stringify({ id: item.id }),
        '--address',
        address,
        '--tenant',
        'acme',
      );
      expect((JSON.parse(read.out) as { item: { id: string } }).item.id).toBe(item.id);

      const other = await refront(
        'call',
        `${NAME}/getItem`,
        JSON.stringify({ id: item.id }),
        '--address',
        address,
        '--tenant',
        'globex',
      );
      expect(other.code).toBe(1);
      expect(other.err).toContain(
        `NOT_FOUND NOTES_X${SUFFIX.toUpperCase()}_ITEM_NOT_FOUND: item ${item.id} does not exist`,
      );
    }, 60_000);
  });
});

/** The probe the test runs in the copy: the monolith with every registered module, and the topology's plan. */
function probeSource(): string {
  return `import { createClient, createRequestContext, on, runWithContext } from '@refront/core';
import { ItemCreated, NotesX${SUFFIX}ServiceDefinition } from './src/gen/refront/${PKG}/v1/${PKG}.js';
import { LocalTopology } from './src/platform/localTopology.js';
import { PLATFORM_MODULES } from './src/platform/services.js';
import { startPlatform } from './src/platform/startPlatform.js';

const platform = await startPlatform({ gatewayPort: 0, opsPort: 0 });
const events: unknown[] = [];
await platform.bus.as('probe').subscribe('probe', [on(ItemCreated, async (e) => void events.push(e))]);
const res = await fetch(\`\${platform.opsUrl}/readyz\`);
const ready = { status: res.status, body: await res.text() };
const gateway = platform.network.channel({ caller: 'gateway' });
const client = createClient(NotesX${SUFFIX}ServiceDefinition, gateway, { caller: 'gateway' });
const ctx = createRequestContext({ service: 'probe', logger: platform.service.logger, tenant: 'acme' });
const created = await runWithContext(ctx, () => client.createItem({ name: 'from the monolith' }));
const read = await runWithContext(ctx, () => client.getItem({ id: created.item?.id ?? '' }));
for (let i = 0; i < 100 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
const topology = new LocalTopology({ databaseUrl: 'postgres://unused', amqpUrl: 'amqp://unused' });
await platform.stop();
console.log(JSON.stringify({
  modules: PLATFORM_MODULES.map((m) => m.name),
  ready,
  created,
  read,
  events: events.length,
  topology: topology.processes.map((p) => p.service),
}));
process.exit(0);
`;
}

/**
 * `to` as a node_modules folder of links to each package of `from`, scoped ones one by one, with
 * the packages of `replace` linked to other folders instead.
 */
function linkPackages(from: string, to: string, replace: Readonly<Record<string, string>>): void {
  mkdirSync(to);
  for (const entry of readdirSync(from)) {
    if (!entry.startsWith('@')) {
      symlinkSync(join(from, entry), join(to, entry), 'dir');
      continue;
    }
    mkdirSync(join(to, entry));
    for (const pkg of readdirSync(join(from, entry))) {
      const name = `${entry}/${pkg}`;
      symlinkSync(replace[name] ?? join(from, name), join(to, name), 'dir');
    }
  }
}
