#!/usr/bin/env node
/**
 * `npm run build`: builds every workspace that has a `build` script, each after the workspaces it
 * depends on. `npm run build --workspaces` builds in folder order, so a package whose name sorts
 * before `core` (console, cli) had its types built against a core `dist/` that did not exist yet on
 * a clean clone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rootManifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/** Folders the root's `workspaces` globs name (`dir/*` or a plain folder). */
function workspaceDirs() {
  return rootManifest.workspaces.flatMap((glob) => {
    if (!glob.endsWith('/*')) return [path.join(root, glob)];
    const parent = path.join(root, glob.slice(0, -2));
    return readdirSync(parent, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => path.join(parent, d.name));
  });
}

const workspaces = new Map();
for (const dir of workspaceDirs()) {
  const file = path.join(dir, 'package.json');
  if (!existsSync(file)) continue;
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  workspaces.set(manifest.name, { dir, manifest });
}

/** Workspace names in an order where each comes after every workspace it depends on. */
function buildOrder() {
  const order = [];
  const state = new Map();
  const visit = (name, trail) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`dependency cycle: ${[...trail, name].join(' → ')}`);
    state.set(name, 'visiting');
    const { manifest } = workspaces.get(name);
    const deps = { ...manifest.dependencies, ...manifest.devDependencies, ...manifest.peerDependencies };
    for (const dep of Object.keys(deps).sort()) if (workspaces.has(dep)) visit(dep, [...trail, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of [...workspaces.keys()].sort()) visit(name, []);
  return order;
}

for (const name of buildOrder()) {
  if (!workspaces.get(name).manifest.scripts?.build) continue;
  console.log(`\n> build ${name}`);
  const result = spawnSync('npm', ['run', 'build', '-w', name], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
