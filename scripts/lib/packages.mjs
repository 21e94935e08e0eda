// The publishable packages of the repository and their tarballs: the one implementation of
// packing, shared by `npm run try:user` (scripts/try-as-user.mjs) and `npm run try:readmes`
// (scripts/readme-examples/main.ts). Types: packages.d.mts.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The repository root. */
export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

/** The workspace folders of the repository that are published (not private), from the root package.json. */
export function publishableWorkspaces() {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const folders = manifest.workspaces.flatMap((glob) =>
    glob.endsWith('/*')
      ? readdirSync(path.join(root, glob.slice(0, -2)))
          .map((d) => path.join(glob.slice(0, -2), d))
          .filter((d) => existsSync(path.join(root, d, 'package.json')))
      : [glob],
  );
  return folders
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8')) }))
    .filter((w) => w.manifest.private !== true);
}

/** The publishable workspaces that have no dist/ (run `npm run build` first). */
export function unbuiltWorkspaces(workspaces = publishableWorkspaces()) {
  return workspaces.filter((w) => !existsSync(path.join(root, w.dir, 'dist')));
}

/** Packs `workspaces` into `destination` with `npm pack`, as the registry would get them. */
export function packWorkspaces(workspaces, destination) {
  const out = execFileSync(
    'npm',
    ['pack', '--json', '--pack-destination', destination, ...workspaces.flatMap((w) => ['-w', w.dir])],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(out).map((p) => ({
    name: p.name,
    dir: workspaces.find((w) => w.manifest.name === p.name)?.dir ?? '',
    file: path.join(destination, p.filename),
    files: new Set(p.files.map((f) => f.path)),
  }));
}

/**
 * The `@refront/*` packages a package-lock.json installed from anywhere but a tarball (`file:`):
 * an app tried against the tarballs must not have fetched one of them from the registry.
 */
export function notFromTarballs(lockFile) {
  return Object.entries(JSON.parse(readFileSync(lockFile, 'utf8')).packages)
    .filter(
      ([where, p]) =>
        where.includes('node_modules/@refront/') && !String(p.resolved ?? '').startsWith('file:'),
    )
    .map(([where]) => where);
}
