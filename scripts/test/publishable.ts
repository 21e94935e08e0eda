import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

/** The repository root. */
export const ROOT = normalize(join(dirname(new URL(import.meta.url).pathname), '..', '..'));

/** The fields of a package.json these tests read. */
export interface Manifest {
  readonly name: string;
  readonly private?: boolean;
  readonly license?: string;
  readonly files?: readonly string[];
  readonly repository?: { readonly type?: string; readonly url?: string; readonly directory?: string };
  readonly homepage?: string;
  readonly bugs?: { readonly url?: string };
  readonly exports?: unknown;
  readonly main?: string;
  readonly module?: string;
  readonly types?: string;
  readonly bin?: string | Readonly<Record<string, string>>;
}

/** A workspace of `packages/*`: its folder (from the root) and manifest. */
export interface Workspace {
  readonly dir: string;
  readonly manifest: Manifest;
}

export const readManifest = (dir: string): Manifest =>
  JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as Manifest;

/** Every workspace under `packages/`. */
export const packageWorkspaces: readonly Workspace[] = readdirSync(join(ROOT, 'packages'), {
  withFileTypes: true,
})
  .filter((d) => d.isDirectory())
  .flatMap((d) => {
    try {
      return [{ dir: `packages/${d.name}`, manifest: readManifest(`packages/${d.name}`) }];
    } catch {
      return []; // a folder without a package.json (left behind by a build) is no workspace
    }
  });

/** The workspaces published to npm: those not marked private. */
export const publishable: readonly Workspace[] = packageWorkspaces.filter((w) => w.manifest.private !== true);

/**
 * The repository's web address, from the root package.json's `repository` (the one place it is
 * written): `git+https://github.com/o/r.git` → `https://github.com/o/r`.
 */
export function repositoryWebUrl(): string {
  const url = readManifest('.').repository?.url ?? '';
  return url.replace(/^git\+/, '').replace(/\.git$/, '');
}
