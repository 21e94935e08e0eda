import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVE_BUNDLE_DIR, serveBundle } from '../tsup.config.js';
import { readRepoFile, repoPath } from './paths.js';

/** The bundle of the image's entry point, built here into deploy/.build (git-ignored). */
const OUT = repoPath('deploy/.build/serve');
let bundle = '';

beforeAll(async () => {
  await build({ ...serveBundle, outDir: OUT, silent: true });
  bundle = readFileSync(`${OUT}/serve.mjs`, 'utf8');
}, 60_000);

describe('the production bundle of serve.ts', () => {
  it('imports only Node built-ins and the demo’s runtime dependencies (present after npm ci --omit=dev)', () => {
    const deps = Object.keys(
      (
        JSON.parse(readRepoFile('examples/refront-demo/package.json')) as {
          dependencies: Record<string, string>;
        }
      ).dependencies,
    );
    const specifiers = [...bundle.matchAll(/^import .*? from "([^"]+)";?$|^import "([^"]+)";?$/gm)].map(
      (m) => (m[1] ?? m[2]) as string,
    );
    expect(specifiers.length).toBeGreaterThan(10);
    const foreign = specifiers.filter((s) => {
      const pkg = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : (s.split('/')[0] as string);
      return !builtinModules.includes(s.replace(/^node:/, '')) && !deps.includes(pkg);
    });
    expect(foreign).toEqual([]);
    expect(specifiers).toContain('@refront/core');
  });

  it('finds the files it reads beside it in the image (the AI training set)', () => {
    const urls = [...bundle.matchAll(/new URL\("([^"]+)", import\.meta\.url\)/g)].map((m) => m[1] as string);
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

    it('as the gateway: live and ready on its ops port, exits 0 on SIGTERM', async () => {
      // The packages are not built in a checkout: they load from source (tsx); the bundle itself is what ships.
      child = spawn(
        process.execPath,
        ['--conditions=@refront/source', '--import', 'tsx', `${OUT}/serve.mjs`],
        {
          env: {
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
            LOG_LEVEL: 'info',
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
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
      const refused = spawn(
        process.execPath,
        ['--conditions=@refront/source', '--import', 'tsx', `${OUT}/serve.mjs`],
        {
          env: {
            ...process.env,
            NODE_ENV: 'production',
            SERVICE: 'gateway',
            GATEWAY_HOST: '127.0.0.1',
            GATEWAY_PORT: '0',
            OPS_PORT: '0',
            DEV_AUTH: 'true',
            JWT_SECRET: 'CHANGE-ME-to-at-least-32-random-characters',
            REFRONT_ENDPOINTS: 'tickets=127.0.0.1:1',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let said = '';
      refused.stdout?.on('data', (b: Buffer) => {
        said += b.toString();
      });
      refused.stderr?.on('data', (b: Buffer) => {
        said += b.toString();
      });
      // A gateway that starts instead of refusing would run until killed: stop it, and fail below.
      const stop = setTimeout(() => refused.kill('SIGKILL'), 30_000);
      const [code] = await once(refused, 'exit');
      clearTimeout(stop);
      expect(code).not.toBe(0);
      expect(said).toMatch(/DEV_AUTH: must be false with NODE_ENV=production/);
      expect(said).toMatch(/JWT_SECRET: is refused with NODE_ENV=production: it looks like a placeholder/);
      expect(said).toMatch(/JWT_ISSUER: missing \(required with NODE_ENV=production\)/);
      expect(said).not.toMatch(/"msg":"ready"/);
    }, 60_000);
  });
});
