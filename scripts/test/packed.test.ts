import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Manifest, publishable, ROOT } from './publishable.js';

/**
 * Every file a published package.json names (`exports` under every condition, `main`, `module`,
 * `types`, `bin`) is in what `npm pack` puts in the tarball, so no import, no condition and no
 * executable of an installed package points at a file that was left out (decision 0106: the
 * `@refront/source` condition's `src/` is shipped).
 */

/** The paths a manifest names, without their leading `./`; a pattern keeps its `*`. */
function namedPaths(manifest: Manifest): string[] {
  const out: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(manifest.exports);
  walk(manifest.main);
  walk(manifest.module);
  walk(manifest.types);
  walk(manifest.bin);
  return [...new Set(out.map((p) => p.replace(/^\.\//, '')))];
}

interface PackResult {
  readonly files: readonly { readonly path: string }[];
}

/** What `npm pack` would put in the tarball of `dir` (no scripts run, nothing written). */
function packList(dir: string): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: join(ROOT, dir),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return (JSON.parse(out) as PackResult[])[0]?.files.map((f) => f.path) ?? [];
}

/** `path` (with at most one `*`) matches a file of `files`. */
function inPack(path: string, files: readonly string[]): boolean {
  if (!path.includes('*')) return files.includes(path);
  const [before, after] = path.split('*') as [string, string];
  return files.some(
    (f) => f.startsWith(before) && f.endsWith(after) && f.length > before.length + after.length,
  );
}

describe.each(publishable)('$manifest.name packed', ({ dir, manifest }) => {
  it('contains every file its package.json names', () => {
    const paths = namedPaths(manifest);
    // The build writes dist/; build once when what the manifest names is not there yet.
    if (paths.some((p) => !p.includes('*') && !existsSync(join(ROOT, dir, p))))
      execFileSync('npm', ['run', 'build', '-w', manifest.name], { cwd: ROOT, stdio: 'pipe' });
    const files = packList(dir);
    expect(files).toContain('package.json');
    expect(files).toContain('LICENSE');
    expect(files).toContain('README.md');
    const missing = paths.filter((p) => !inPack(p, files));
    expect(missing, `named by package.json, not packed: ${missing.join(', ')}`).toEqual([]);
    // Tests and test helpers stay in the repository; create-refront's template/ is a new app's
    // source, its tests included.
    const appTemplate = (f: string) => manifest.name === 'create-refront' && f.startsWith('template/');
    expect(files.filter((f) => !appTemplate(f) && /\.test\.ts$|(^|\/)testing\//.test(f))).toEqual([]);
  }, 120_000);
});
