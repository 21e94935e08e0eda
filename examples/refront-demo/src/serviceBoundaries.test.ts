/**
 * The rule that lets a service folder be lifted into its own repository: a service depends only on
 * the Refront packages, its own folder and the generated contracts (README, "Each service on its
 * own"). Checked on every import, `import type` and `export … from` included.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = dirname(new URL(import.meta.url).pathname);
const DEMO = resolve(SRC, '..');

/** Folders of src that are not services: the hosts' wiring, the generated contracts, ambient types. */
const NOT_SERVICES = new Set(['platform', 'gen', 'types']);

/** Every service folder: each directory of src but the ones above, so a new service is covered at once. */
const SERVICES = readdirSync(SRC, { withFileTypes: true })
  .filter((e) => e.isDirectory() && !NOT_SERVICES.has(e.name))
  .map((e) => e.name)
  .sort();

/** What a service's tests may use besides what its code may: the demo's test harness and test infrastructure. */
const TEST_SUPPORT = [join(SRC, 'platform', 'testing'), join(DEMO, 'test')];

function inside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir + sep);
}

/**
 * Why `specifier`, imported by `file` of service `service`, breaks the rule, or undefined when it
 * keeps to it:
 * - a package: `@refront/*` (but the demo itself), a third-party package the service declares, a
 *   Node built-in;
 * - a relative path: the service's own folder, or the generated contracts (`src/gen`: in a
 *   repository of its own, the published contracts package of the services it talks to);
 * - in a test (`*.test.ts`), also the demo's test support (`src/platform/testing`, `test/`) and
 *   the `module.ts` of another service, to run the service beside the real ones it calls.
 */
function violation(service: string, file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.') && !specifier.startsWith('/')) {
    return specifier === '@refront/demo' || specifier.startsWith('@refront/demo/')
      ? 'imports the demo package itself'
      : undefined;
  }
  const target = resolve(dirname(file), specifier);
  if (inside(target, join(SRC, service)) || inside(target, join(SRC, 'gen'))) return undefined;
  if (file.endsWith('.test.ts')) {
    if (TEST_SUPPORT.some((dir) => inside(target, dir))) return undefined;
    const other = relative(SRC, target).split(sep);
    if (other.length === 2 && SERVICES.includes(other[0] as string) && other[1] === 'module.js')
      return undefined;
  }
  return `imports ${relative(DEMO, target)}, outside ${service}/`;
}

/** The module specifiers of a TypeScript source: imports, `export … from`, dynamic imports, references. */
function specifiersOf(source: string): string[] {
  const info = ts.preProcessFile(source, true, true);
  return [...info.importedFiles, ...info.referencedFiles].map((f) => f.fileName);
}

function filesOf(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesOf(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('service boundaries', () => {
  it('finds the service folders', () => {
    // At least the demo's own; a service `refront new service` added is covered as well.
    expect(SERVICES).toEqual(
      expect.arrayContaining([
        'ai',
        'gateway',
        'invoicing',
        'notifications',
        'reporting',
        'tickets',
        'timetracking',
      ]),
    );
  });

  it('refuses what a lifted service could not import, and allows what it could', () => {
    const file = join(SRC, 'tickets', 'module.ts');
    const test = join(SRC, 'tickets', 'tickets.test.ts');
    for (const ok of [
      '@refront/core',
      'node:crypto',
      'fastify',
      './store.js',
      '../gen/refront/ai/v1/events.js',
    ])
      expect(violation('tickets', file, ok), ok).toBeUndefined();
    for (const ok of ['../platform/testing/harness.js', '../../test/topology.js', '../invoicing/module.js'])
      expect(violation('tickets', test, ok), ok).toBeUndefined();
    expect(violation('tickets', file, '../platform/errors.js')).toBe(
      'imports src/platform/errors.js, outside tickets/',
    );
    expect(violation('tickets', file, '../invoicing/module.js')).toBe(
      'imports src/invoicing/module.js, outside tickets/',
    );
    expect(violation('tickets', file, '../platform/testing/harness.js')).toBeDefined();
    expect(violation('tickets', file, '../../test/topology.js')).toBeDefined();
    expect(violation('tickets', file, '@refront/demo')).toBeDefined();
    expect(violation('tickets', test, '../platform/startPlatform.js')).toBeDefined();
    expect(violation('tickets', test, '../invoicing/store.js')).toBeDefined();
    expect(
      specifiersOf(
        "import type { A } from '../a.js';\nexport { b } from './b.js';\nawait import('../c.js');",
      ),
    ).toEqual(['../a.js', './b.js', '../c.js']);
  });

  it.each(SERVICES)('%s imports only @refront/*, its own folder and the generated contracts', (service) => {
    const broken = filesOf(join(SRC, service)).flatMap((file) =>
      specifiersOf(readFileSync(file, 'utf8')).flatMap((specifier) => {
        const why = violation(service, file, specifier);
        return why === undefined ? [] : [`${relative(SRC, file)}: ${why}`];
      }),
    );
    expect(broken).toEqual([]);
  });
});
