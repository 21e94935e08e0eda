import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BUNDLE_ENTRIES, SERVE_BUNDLE_DIR, serveBundle } from '../tsup.config.js';
import { readRepoFile, repoPath } from './paths.js';

/** The bundle of the image's entry points, built here into deploy/.build (git-ignored). */
const OUT = repoPath('deploy/.build/serve');
/** Where the bundled refront-dev-certs writes this run's certificates (removed after the tests). */
const CERTS = mkdtempSync(join(tmpdir(), 'refront-deploy-certs-'));

beforeAll(async () => {
  await build({ ...serveBundle, outDir: OUT, silent: true });
}, 60_000);
afterAll(() => rmSync(CERTS, { recursive: true, force: true }));

/** A bundle run as the image runs it; the packages load from source in a checkout (not built). */
const runBundle = (
  entry: keyof typeof BUNDLE_ENTRIES,
  args: string[],
  env: NodeJS.ProcessEnv,
): ChildProcess =>
  spawn(
    process.execPath,
    ['--conditions=@refront/source', '--import', 'tsx', `${OUT}/${entry}.mjs`, ...args],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );

/** Everything a process printed, once it exited, and its exit code. */
async function outcome(child: ChildProcess): Promise<{ code: number | null; said: string }> {
  let said = '';
  child.stdout?.on('data', (b: Buffer) => {
    said += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    said += b.toString();
  });
  // A process that starts instead of refusing would run until killed: stop it, and fail the test.
  const stop = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(stop);
  return { code, said };
}

let minted: Promise<void> | undefined;
/** Runs the bundled refront-dev-certs once into CERTS (gateway and tickets), as Compose's certs service does. */
function mintCertificates(): Promise<void> {
  minted ??= outcome(
    runBundle('refront-dev-certs', ['--dir', CERTS, 'gateway', 'tickets'], process.env),
  ).then(({ code, said }) => {
    if (code !== 0) throw new Error(`refront-dev-certs exited ${code}: ${said}`);
  });
  return minted;
}

/**
 * The packages `npm ci --omit=dev --workspace=@refront/demo` installs: the demo's runtime
 * dependencies and, through each @refront/* package among them, that package's own.
 */
function productionPackages(): Set<string> {
  const depsOf = (manifest: string): string[] =>
    Object.keys(
      (JSON.parse(readRepoFile(manifest)) as { dependencies?: Record<string, string> }).dependencies ?? {},
    );
  const out = new Set<string>();
  const visit = (manifest: string): void => {
    for (const dep of depsOf(manifest)) {
      if (out.has(dep)) continue;
      out.add(dep);
      if (dep.startsWith('@refront/')) visit(`packages/${dep.slice('@refront/'.length)}/package.json`);
    }
  };
  visit('examples/refront-demo/package.json');
  return out;
}

/** What a bundle file imports at its top (static), and through `import()` (dynamic). */
function importsOf(code: string): { static: string[]; dynamic: string[] } {
  return {
    // An import statement may span lines (import {\n  a,\n  b\n} from "x").
    static: [...code.matchAll(/^import\s[^;]*?\sfrom\s*"([^"]+)";?$|^import\s*"([^"]+)";?$/gm)].map(
      (m) => (m[1] ?? m[2]) as string,
    ),
    dynamic: [...code.matchAll(/\bimport\("([^"]+)"\)/g)].map((m) => m[1] as string),
  };
}

/**
 * The packages a file loads as soon as it is imported: its static imports, and those of the
 * bundle's own chunks it imports statically, in turn.
 */
function eagerPackages(file: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  if (seen.has(file)) return out;
  seen.add(file);
  for (const s of importsOf(readFileSync(join(OUT, file), 'utf8')).static) {
    if (s.startsWith('./')) for (const p of eagerPackages(s.slice(2), seen)) out.add(p);
    else out.add(s);
  }
  return out;
}

/** The packages a bundle imports that are neither Node built-ins nor installed in the image. */
function foreignImports(code: string): { specifiers: string[]; foreign: string[] } {
  const installed = productionPackages();
  const found = importsOf(code);
  const specifiers = [...found.static, ...found.dynamic].filter((s) => !s.startsWith('./'));
  const foreign = specifiers.filter((s) => {
    const pkg = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : (s.split('/')[0] as string);
    return !builtinModules.includes(s.replace(/^node:/, '')) && !installed.has(pkg);
  });
  return { specifiers, foreign };
}

describe('the production bundle of serve.ts', () => {
  it('imports only Node built-ins and what npm ci --omit=dev installs for the demo', () => {
    // serve.mjs and the chunks beside it (the gateway's, loaded by SERVICE=gateway only).
    const code = readdirSync(OUT)
      .filter((f) => f.endsWith('.mjs') && f !== 'refront-dev-certs.mjs')
      .map((f) => readFileSync(join(OUT, f), 'utf8'))
      .join('\n');
    const { specifiers, foreign } = foreignImports(code);
    expect(specifiers.length).toBeGreaterThan(10);
    expect(foreign).toEqual([]);
    expect(specifiers).toContain('@refront/core');
    expect(specifiers).toContain('fastify');
    const certs = foreignImports(readFileSync(`${OUT}/refront-dev-certs.mjs`, 'utf8'));
    expect(certs.foreign).toEqual([]);
    expect(certs.specifiers).toContain('node-forge');
    // What the check allows is what the image installs, not anything in the workspace.
    expect(productionPackages().has('vitest')).toBe(false);
  });

  it('loads the libraries of the gateway, the AI model, mail and Redis only in the processes that use them', () => {
    // Decision 0143: a service process (tickets…) starts without them; they are import()ed.
    const eager = eagerPackages('serve.mjs');
    expect(eager).toContain('@refront/core');
    const lazy = [
      'wink-nlp',
      'wink-eng-lite-web-model',
      'nodemailer',
      'smtp-server',
      'mailparser',
      'ioredis',
    ];
    for (const p of [
      ...lazy,
      '@refront/console',
      'fastify',
      '@fastify/swagger',
      '@fastify/rate-limit',
      'ajv',
      'jose',
    ])
      expect(eager, p).not.toContain(p);
    const dynamic = readdirSync(OUT)
      .filter((f) => f.endsWith('.mjs'))
      .flatMap((f) => importsOf(readFileSync(join(OUT, f), 'utf8')).dynamic);
    expect(dynamic).toEqual(expect.arrayContaining(lazy));
  });

  it('refront-dev-certs (the bundled command) writes a CA and certificates naming each service', async () => {
    await mintCertificates();
    const ca = new X509Certificate(readFileSync(join(CERTS, 'ca.crt')));
    for (const name of ['gateway', 'tickets']) {
      const cert = new X509Certificate(readFileSync(join(CERTS, `${name}.crt`)));
      expect(cert.subjectAltName).toBe(`URI:spiffe://refront.local/${name}, DNS:${name}`);
      expect(cert.verify(ca.publicKey)).toBe(true);
    }
  }, 60_000);

  it('finds the files it reads beside it in the image (the AI training set)', () => {
    // serve.mjs or a chunk beside it (same directory, so the same relative URLs).
    const code = readdirSync(OUT)
      .filter((f) => f.endsWith('.mjs'))
      .map((f) => readFileSync(join(OUT, f), 'utf8'))
      .join('\n');
    const urls = [...code.matchAll(/new URL\("([^"]+)", import\.meta\.url\)/g)].map((m) => m[1] as string);
    expect(urls).toContain('../../data/tickets.train.jsonl');
    for (const rel of urls) {
      const inImage = fileURLToPath(new URL(rel, `file:///app/${SERVE_BUNDLE_DIR}/serve.mjs`));
      expect(inImage.startsWith('/app/examples/refront-demo/data/'), inImage).toBe(true);
      expect(readFileSync(repoPath(inImage.slice('/app/'.length))).length).toBeGreaterThan(0);
    }
  });

  describe('runs', () => {
    let child: ChildProcess | undefined;
    afterAll(() => {
      if (child && child.exitCode === null) child.kill('SIGKILL');
    });

    it('as the gateway with its certificate: live and ready on its ops port, exits 0 on SIGTERM', async () => {
      await mintCertificates();
      child = runBundle('serve', [], {
        ...process.env,
        NODE_ENV: 'production',
        SERVICE: 'gateway',
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: '0',
        OPS_PORT: '0',
        JWT_SECRET: randomBytes(48).toString('base64'),
        JWT_ISSUER: 'https://id.refront.test/',
        JWT_AUDIENCE: 'refront-api',
        REFRONT_ENDPOINTS: 'tickets=127.0.0.1:1',
        TLS_CA_FILE: join(CERTS, 'ca.crt'),
        TLS_CERT_FILE: join(CERTS, 'gateway.crt'),
        TLS_KEY_FILE: join(CERTS, 'gateway.key'),
        LOG_LEVEL: 'info',
      });
      child.stderr?.pipe(process.stderr);
      const exited = once(child, 'exit');
      let ops = 0;
      for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
        const entry = JSON.parse(line) as { msg?: string; ops?: unknown };
        if (entry.msg === 'ready' && typeof entry.ops === 'number') {
          ops = entry.ops;
          break;
        }
      }
      expect(ops).toBeGreaterThan(0);
      expect((await fetch(`http://127.0.0.1:${ops}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${ops}/readyz`)).status).toBe(200);
      child.stdout?.resume();
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
    }, 60_000);

    it('as the gateway with NODE_ENV=production, refuses dev tokens and a placeholder secret by name', async () => {
      const { code, said } = await outcome(
        runBundle('serve', [], {
          ...process.env,
          NODE_ENV: 'production',
          SERVICE: 'gateway',
          GATEWAY_HOST: '127.0.0.1',
          GATEWAY_PORT: '0',
          OPS_PORT: '0',
          DEV_AUTH: 'true',
          JWT_SECRET: 'CHANGE-ME-to-at-least-32-random-characters',
          REFRONT_ENDPOINTS: 'tickets=127.0.0.1:1',
        }),
      );
      expect(code).not.toBe(0);
      expect(said).toMatch(/DEV_AUTH: must be false with NODE_ENV=production/);
      expect(said).toMatch(/JWT_SECRET: is refused with NODE_ENV=production: it looks like a placeholder/);
      expect(said).toMatch(/JWT_ISSUER: missing \(required with NODE_ENV=production\)/);
      expect(said).not.toMatch(/"msg":"ready"/);
    }, 60_000);

    it('as a service without certificate files: refuses to start, naming each TLS variable', async () => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        SERVICE: 'tickets',
        OPS_PORT: '0',
        GRPC_PORT: '0',
        MUX_PORT: '0',
      };
      for (const name of ['MTLS', 'TLS_CA_FILE', 'TLS_CERT_FILE', 'TLS_KEY_FILE']) delete env[name];
      const { code, said } = await outcome(runBundle('serve', [], env));
      expect(code).not.toBe(0);
      for (const name of ['TLS_CA_FILE', 'TLS_CERT_FILE', 'TLS_KEY_FILE']) {
        expect(said).toMatch(
          new RegExp(`${name}: missing \\(required: services call each other over mutual TLS`),
        );
      }
      expect(said).not.toMatch(/"msg":"ready"/);
    }, 60_000);
  });
});
