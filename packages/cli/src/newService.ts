import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { CliErrors } from './errors.js';
import { generate } from './generate.js';
import { serviceNames } from './names.js';
import {
  migrationsTemplate,
  moduleTemplate,
  protoTemplate,
  type TemplateContext,
  testTemplate,
} from './serviceTemplates.js';

/** Where the service registry lives in a workspace laid out like the demo, from its package root. */
export const REGISTRY_FILE = join('src', 'platform', 'services.ts');
/** The line of the registry above which a new module's entry goes. */
export const REGISTRY_MARKER = '// refront:services';
/**
 * The npm script of the workspace (the nearest `package.json` from the registry's package up that
 * has it) that brings the files derived from the registry up to date, such as deployment files:
 * `refront new service` generates the contracts, then runs it.
 */
export const SERVICES_HOOK = 'refront:services';

/** Options of {@link newService}. */
export interface NewServiceOptions {
  /** The service name (`billing-alerts`). */
  readonly name: string;
  /** A directory inside the workspace package (the one holding `src/platform/services.ts`). */
  readonly cwd: string;
}

/** What {@link newService} did. */
export interface NewServiceResult {
  /** The workspace package it added the service to. */
  readonly root: string;
  /** The files it wrote, relative to `root`, the registry last. */
  readonly files: readonly string[];
  /** The module's exported name (`billingAlertsModule`). */
  readonly moduleName: string;
  /**
   * Whether the workspace's Biome formatted the written TypeScript (`biome check --write`); false
   * when the workspace has no Biome or it failed (the files are written either way).
   */
  readonly formatted: boolean;
  /** The directory where the workspace's {@link SERVICES_HOOK} script ran, if it has one. */
  readonly hook: string | undefined;
}

/**
 * Adds a service to a workspace laid out like `examples/refront-demo`: its `.proto` contract, its
 * module (handlers, outbox), its migration and its test, and registers the module in
 * `src/platform/services.ts`, the one list the monolith, `serve.ts`, the local distributed
 * topology and the deployment facts read. When the workspace declares a `refront:services` npm
 * script ({@link SERVICES_HOOK}: in this repository, the deploy files derived from the registry),
 * it generates the contracts and runs it; otherwise the contracts are generated next
 * (`refront generate`). Nothing else needs an edit.
 *
 * @throws RefrontError `CLI_USAGE` when the name is not a service name, `CLI_NOT_IN_WORKSPACE`
 *   when no registry is found from `cwd` up or it has no marker, `CLI_ALREADY_EXISTS` when the
 *   service is registered or its folder or contract exists (nothing is written then).
 * @example
 * await newService({ name: 'billing-alerts', cwd: process.cwd() });
 */
export function newService(options: NewServiceOptions): NewServiceResult {
  const names = serviceNames(options.name);
  if (typeof names === 'string') throw CliErrors.USAGE(names);
  const root = findRegistryRoot(resolve(options.cwd));
  const registryPath = join(root, REGISTRY_FILE);
  const registry = readFileSync(registryPath, 'utf8');
  if (!registry.includes(REGISTRY_MARKER))
    throw CliErrors.NOT_IN_WORKSPACE(
      `${registryPath} has no "${REGISTRY_MARKER}" line: add it as the last line of the module list, then run again`,
    );
  const protoDir = join(root, 'proto');
  const ctx: TemplateContext = { names, ...protoFacts(protoDir) };
  const moduleName = `${names.camel}Module`;
  if (new RegExp(`\\b${moduleName}\\b`).test(registry))
    throw CliErrors.ALREADY_EXISTS(`${names.name} is already registered in ${REGISTRY_FILE} (${moduleName})`);

  const protoFile = join('proto', ctx.protoRoot, names.protoPackage, 'v1', `${names.protoPackage}.proto`);
  const folder = join('src', names.folder);
  const files: [string, string][] = [
    [protoFile, protoTemplate(ctx)],
    [join(folder, 'migrations.ts'), migrationsTemplate(ctx)],
    [join(folder, 'module.ts'), moduleTemplate(ctx)],
    [join(folder, `${names.folder}.test.ts`), testTemplate(ctx)],
  ];
  for (const path of [folder, join('proto', ctx.protoRoot, names.protoPackage)])
    if (existsSync(join(root, path))) throw CliErrors.ALREADY_EXISTS(`${join(root, path)} already exists`);

  const updated = register(registry, names.folder, moduleName);
  for (const [path, text] of files) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text, { flag: 'wx' });
  }
  writeFileSync(registryPath, updated);
  const written = [...files.map(([p]) => p), REGISTRY_FILE];
  const formatted = format(root, written);
  return { root, files: written, moduleName, formatted, hook: runServicesHook(root) };
}

/**
 * Runs the workspace's {@link SERVICES_HOOK} script, if one is declared from `root` up, after
 * generating the contracts (what the registry's modules import must exist for it to load them).
 *
 * @throws RefrontError `CLI_TOOL_FAILED` with the script's output when it fails (the service is
 *   written and registered: fix the cause and run `npm run refront:services` again).
 */
function runServicesHook(root: string): string | undefined {
  const dir = hookDirectory(root);
  if (dir === undefined) return undefined;
  generate({ cwd: root });
  try {
    execFileSync('npm', ['run', '--silent', SERVICES_HOOK], { cwd: dir, stdio: 'pipe', encoding: 'utf8' });
  } catch (e: unknown) {
    const { stdout = '', stderr = '' } = e as { stdout?: string; stderr?: string };
    throw CliErrors.TOOL_FAILED(`npm run ${SERVICES_HOOK} (in ${dir})`, `${stdout}${stderr}`.trim());
  }
  return dir;
}

function hookDirectory(root: string): string | undefined {
  for (let d = root; ; d = dirname(d)) {
    const manifest = join(d, 'package.json');
    if (existsSync(manifest)) {
      const scripts = (JSON.parse(readFileSync(manifest, 'utf8')) as { scripts?: Record<string, string> })
        .scripts;
      if (scripts?.[SERVICES_HOOK] !== undefined) return d;
    }
    if (dirname(d) === d) return undefined;
  }
}

/** Formats the written TypeScript with the workspace's own Biome, when it has one. */
function format(root: string, files: readonly string[]): boolean {
  let biome: string;
  try {
    biome = dirname(createRequire(join(root, 'package.json')).resolve('@biomejs/biome/package.json'));
  } catch {
    return false;
  }
  const ts = files.filter((f) => f.endsWith('.ts'));
  try {
    execFileSync(process.execPath, [join(biome, 'bin', 'biome'), 'check', '--write', ...ts], {
      cwd: root,
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

/** The nearest directory from `dir` up holding the service registry. */
function findRegistryRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, REGISTRY_FILE))) return d;
    if (dirname(d) === d)
      throw CliErrors.NOT_IN_WORKSPACE(
        `no ${REGISTRY_FILE} in ${dir} or above: run refront new service inside a workspace package laid out like examples/refront-demo`,
      );
  }
}

/** The first segment of the existing contracts' packages, and whether they use protovalidate. */
function protoFacts(protoDir: string): Pick<TemplateContext, 'protoRoot' | 'validate'> {
  const roots = existsSync(protoDir)
    ? readdirSync(protoDir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && e.name !== 'buf' && e.name !== 'google')
        .map((e) => e.name)
    : [];
  const protoRoot = roots.length === 1 ? (roots[0] as string) : 'refront';
  const validate =
    existsSync(protoDir) &&
    readdirSync(protoDir, { recursive: true, withFileTypes: true }).some(
      (e) =>
        e.isFile() &&
        e.name.endsWith('.proto') &&
        readFileSync(join(e.parentPath, e.name), 'utf8').includes('import "buf/validate/validate.proto"'),
    );
  return { protoRoot, validate };
}

/**
 * The registry with the module's import (among the other module imports, in the order biome keeps
 * them) and its entry above the marker.
 */
export function register(registry: string, folder: string, moduleName: string): string {
  const lines = registry.split('\n');
  const importLine = `import { ${moduleName} } from '../${folder}/module.js';`;
  const moduleImports = lines
    .map((line, i) => ({
      line,
      i,
      from: /^import \{ \w+ \} from '\.\.\/([^/']+)\/module\.js';$/.exec(line)?.[1],
    }))
    .filter((l) => l.from !== undefined);
  const after = moduleImports.filter((l) => (l.from as string) < folder).at(-1);
  const before = moduleImports.find((l) => (l.from as string) > folder);
  const lastImport = lines.findLastIndex((l) => l.startsWith('import '));
  const at = before ? before.i : after ? after.i + 1 : lastImport + 1;
  lines.splice(at, 0, importLine);
  const marker = lines.findIndex((l) => l.trim().startsWith(REGISTRY_MARKER));
  const indent = /^\s*/.exec(lines[marker] as string)?.[0] ?? '  ';
  lines.splice(marker, 0, `${indent}${moduleName},`);
  return lines.join('\n');
}

/** Paths of `files` relative to `from`, for printing. */
export function relativeTo(from: string, root: string, files: readonly string[]): string[] {
  return files.map((f) => relative(from, join(root, f)) || '.');
}
