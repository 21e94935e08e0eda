import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The shape of the repository, checked from the imports: every workspace declares what it
 * imports and imports what it declares, reads no file of another workspace, and has no import
 * cycle. Read as text (no bundler, no install), so it runs in a second.
 */
const ROOT = normalize(join(dirname(new URL(import.meta.url).pathname), '..', '..'));

interface Manifest {
  name: string;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const readJson = (path: string): Manifest => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as Manifest;
const rootManifest = readJson('package.json');
const tracked = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], {
  cwd: ROOT,
  encoding: 'utf8',
})
  .split('\n')
  .filter(Boolean);

/** The workspace folders (`packages/*` expanded), from the root manifest. */
const workspaces = (rootManifest.workspaces ?? []).flatMap((glob) =>
  glob.endsWith('/*')
    ? [
        ...new Set(
          tracked.filter((f) => f.startsWith(glob.slice(0, -1)) && f.endsWith('/package.json')).map(dirname),
        ),
      ].filter((d) => dirname(d) === glob.slice(0, -2))
    : [glob],
);

const SOURCE = /\.(c|m)?(t|j)sx?$/;
// create-refront's template is the source of a new app, not of the package: its imports are the
// app's dependencies, which create-refront writes into the app's package.json.
const IGNORED = /(^|\/)(node_modules|dist|\.tsbuild)\/|^packages\/create-refront\/template\//;
/** Workspaces that are tools as a whole (benchmarks compare against peers kept in devDependencies). */
const DEV_WORKSPACES = new Set(['bench']);
/** Files that only build, test or benchmark (by their path inside the workspace, so a workspace named `testing` is not all dev): they may use devDependencies. */
const DEV_FILE = /(\.test\.|(^|\/)(test|testing|scripts)\/|tsup\.config\.|vitest\.)/;
const IMPORT =
  /(?:^|[\s;])(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]|(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g;

interface Import {
  readonly file: string;
  readonly specifier: string;
  readonly typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
  const out: Import[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const specifier = m[2] ?? m[3];
    if (specifier) out.push({ file, specifier, typeOnly: m[1] !== undefined });
  }
  return out;
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

const isBuiltin = (s: string): boolean => s.startsWith('node:') || builtinModules.includes(packageOf(s));
const isRelative = (s: string): boolean => s.startsWith('.');

/**
 * Declared dependencies no source file imports, by design: each names where it is used.
 * A dependency that is neither imported nor listed here is unused.
 */
const USED_WITHOUT_IMPORT: Readonly<Record<string, string>> = {
  '@refront/deploy:kubernetes-models':
    'deploy/test/k8sSchema.ts imports the model of each kind by a computed path',
  '@refront/deploy:@kubernetes-models/cert-manager':
    'deploy/test/k8sSchema.ts imports the model of each kind by a computed path',
  '@refront/demo:@opentelemetry/sdk-trace-node':
    "@refront/core's setupTracing loads it (the demo exports its spans to the console): an optional peer of core (decision 0107)",
  '@refront/demo:@opentelemetry/resources':
    "@refront/core's setupTracing loads it (the demo exports its spans to the console): an optional peer of core (decision 0107)",
  '@refront/demo:@electric-sql/pglite':
    "@refront/data's createEmbeddedPostgres loads it: an optional peer dependency the demo installs (decision 0107)",
  '@refront/testing:@opentelemetry/sdk-trace-node':
    "@refront/core's setupTracing loads it (every test app records its spans): an optional peer of core that the testing kit always needs (found by its README example)",
  '@refront/testing:@opentelemetry/resources':
    "@refront/core's setupTracing loads it (every test app records its spans): an optional peer of core that the testing kit always needs (found by its README example)",
  '@refront/cli:@bufbuild/buf': 'packages/cli/src/workspace.ts runs its bin (refront generate, call)',
  '@refront/cli:ts-proto': 'packages/cli/src/generate.ts runs its protoc plugin (refront generate)',
};

describe.each(workspaces)('workspace %s', (ws) => {
  const manifest = readJson(`${ws}/package.json`);
  const files = tracked.filter((f) => f.startsWith(`${ws}/`) && SOURCE.test(f) && !IGNORED.test(f));
  const imports = files.flatMap(importsOf);
  const own = new Set([
    manifest.name,
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
  ]);
  const dev = new Set([
    ...own,
    ...Object.keys(manifest.devDependencies ?? {}),
    ...Object.keys(rootManifest.devDependencies ?? {}),
  ]);

  it('declares every package it imports (runtime code in dependencies)', () => {
    const undeclared = imports
      .filter((i) => !isRelative(i.specifier) && !isBuiltin(i.specifier))
      .filter(
        (i) =>
          !(DEV_WORKSPACES.has(ws) || DEV_FILE.test(relative(ws, i.file)) ? dev : own).has(
            packageOf(i.specifier),
          ),
      )
      .map((i) => `${i.file}: ${i.specifier}`);
    expect(undeclared, undeclared.join('\n')).toEqual([]);
  });

  it('imports every dependency it declares', () => {
    const imported = new Set(imports.map((i) => packageOf(i.specifier)));
    const unused = Object.keys(manifest.dependencies ?? {}).filter(
      (d) =>
        !imported.has(d) &&
        !d.startsWith('@types/') &&
        USED_WITHOUT_IMPORT[`${manifest.name}:${d}`] === undefined,
    );
    expect(unused, unused.join('\n')).toEqual([]);
  });

  it('reads no file of another workspace', () => {
    const escaping = imports
      .filter((i) => isRelative(i.specifier))
      .filter((i) => relative(ws, normalize(join(dirname(i.file), i.specifier))).startsWith('..'))
      // The one shared build config (scripts/tsup.package.ts) is read by each package's tsup config at build time only.
      .filter((i) => !(i.file === `${ws}/tsup.config.ts` && i.specifier.endsWith('scripts/tsup.package.js')))
      // docs/config.md is generated from the config schema of the app create-refront writes: files the
      // package copies into a new app (its template), not a module the package exports.
      .filter(
        (i) => !(i.file === 'docs/config/sources.ts' && i.specifier.includes('create-refront/template/src/')),
      )
      .map((i) => `${i.file}: ${i.specifier}`);
    expect(escaping, escaping.join('\n')).toEqual([]);
  });

  it('has no import cycle', () => {
    const graph = new Map<string, string[]>();
    const known = new Set(files);
    const resolve = (from: string, spec: string): string | undefined => {
      const base = normalize(join(dirname(from), spec)).replace(/\.(c|m)?js$/, '');
      return ['.ts', '.tsx', '.mts', '/index.ts', '.js', '.mjs']
        .map((ext) => base + ext)
        .find((f) => known.has(f));
    };
    for (const i of imports) {
      if (i.typeOnly || !isRelative(i.specifier)) continue;
      const to = resolve(i.file, i.specifier);
      if (to) graph.set(i.file, [...(graph.get(i.file) ?? []), to]);
    }
    expect(cycles(graph)).toEqual([]);
  });
});

/** The strongly connected components of more than one file (Tarjan), each as a sorted list. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
    }
    if (low.get(v) === indexOf.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!indexOf.has(v)) visit(v);
  return out;
}
