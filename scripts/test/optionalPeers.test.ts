import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, readManifest } from './publishable.js';

/**
 * The heavy dependencies are optional peers (decision 0107): installing `@refront/core` does
 * not pull the OpenTelemetry SDK and its OTLP exporter, installing `@refront/data` does not pull
 * PGlite, and using the feature without them fails with a typed error naming what to install.
 * Checked for real: a folder outside the repository whose node_modules links every installed
 * package except the ones left out, run with --preserve-symlinks so that resolution stays in it.
 */
const SDK = ['@opentelemetry/sdk-trace-node', '@opentelemetry/sdk-trace-base', '@opentelemetry/resources'];
const OTLP = '@opentelemetry/exporter-trace-otlp-http';
const PGLITE = '@electric-sql/pglite';

describe('what installing @refront/core and @refront/data pulls', () => {
  it('core: the OpenTelemetry API only; the SDK and the OTLP exporter are optional peers', () => {
    const core = readManifest('packages/core') as ReturnType<typeof readManifest> & Deps;
    expect(Object.keys(core.dependencies ?? {})).toContain('@opentelemetry/api');
    for (const p of [...SDK, OTLP]) {
      expect(core.dependencies?.[p]).toBeUndefined();
      expect(core.peerDependencies?.[p]).toBeDefined();
      expect(core.peerDependenciesMeta?.[p]).toEqual({ optional: true });
    }
  });

  it('data: PGlite is an optional peer', () => {
    const data = readManifest('packages/data') as ReturnType<typeof readManifest> & Deps;
    expect(data.dependencies?.[PGLITE]).toBeUndefined();
    expect(data.peerDependencies?.[PGLITE]).toBeDefined();
    expect(data.peerDependenciesMeta?.[PGLITE]).toEqual({ optional: true });
  });
});

interface Deps {
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const folders: string[] = [];
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

/** A folder outside the repository with node_modules linking every installed package but `without`. */
function installWithout(without: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'refront-peers-'));
  folders.push(dir);
  const modules = join(ROOT, 'node_modules');
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    const names = entry.startsWith('@')
      ? readdirSync(join(modules, entry)).map((n) => `${entry}/${n}`)
      : [entry];
    for (const name of names) {
      if (without.includes(name)) continue;
      mkdirSync(join(dir, 'node_modules', entry.startsWith('@') ? entry : ''), { recursive: true });
      symlinkSync(join(modules, name), join(dir, 'node_modules', name));
    }
  }
  return dir;
}

/**
 * Runs `createEmbeddedPostgres()` and `setupTracing()` (with an exporter) in `dir`; what each
 * gave. With `resolveOnly`, PGlite is resolved instead of started (starting it takes seconds).
 */
function probe(dir: string, resolveOnly = false): Record<string, unknown>[] {
  writeFileSync(
    join(dir, 'probe.mts'),
    `import { setupTracing } from '@refront/core';
     import { createEmbeddedPostgres } from '@refront/data';
     const exporter = { export: (_s: unknown, done: (r: { code: number }) => void) => done({ code: 0 }), shutdown: async () => {} };
     const runs = {
       ${
         resolveOnly
           ? `'resolve ${PGLITE}': async () => void import.meta.resolve('${PGLITE}')`
           : 'createEmbeddedPostgres: async () => (await createEmbeddedPostgres()).close()'
       },
       setupTracing: async () => (await setupTracing({ serviceName: 'probe', exporter: exporter as never })).shutdown(),
     };
     for (const [name, run] of Object.entries(runs)) {
       try { await run(); console.log(JSON.stringify({ name, loaded: true })); }
       catch (e: any) { console.log(JSON.stringify({ name, reason: e.reason, status: e.status, message: e.message })); }
     }`,
  );
  const out = execFileSync(
    process.execPath,
    [
      '--preserve-symlinks',
      '--preserve-symlinks-main',
      '--conditions=@refront/source',
      '--import',
      'tsx',
      'probe.mts',
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('using a feature whose optional peer is not installed', () => {
  it('fails with CORE_OPTIONAL_DEPENDENCY_MISSING naming the package to install', () => {
    const results = probe(installWithout([PGLITE, '@opentelemetry/sdk-trace-node']));
    expect(results).toEqual([
      {
        name: 'createEmbeddedPostgres',
        reason: 'CORE_OPTIONAL_DEPENDENCY_MISSING',
        status: 'FAILED_PRECONDITION',
        message: `createEmbeddedPostgres needs ${PGLITE}; ${PGLITE} is not installed: npm install ${PGLITE}`,
      },
      {
        name: 'setupTracing',
        reason: 'CORE_OPTIONAL_DEPENDENCY_MISSING',
        status: 'FAILED_PRECONDITION',
        message: `setupTracing needs ${SDK.join(', ')}; @opentelemetry/sdk-trace-node is not installed: npm install ${SDK.join(' ')}`,
      },
    ]);
  });

  it('finds them once they are installed (the same folder, nothing left out)', () => {
    expect(probe(installWithout([]), true)).toEqual([
      { name: `resolve ${PGLITE}`, loaded: true },
      { name: 'setupTracing', loaded: true },
    ]);
  });
});
