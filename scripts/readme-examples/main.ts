// Runs every publishable package's README example as its reader would (issue 22), from the
// packed tarballs only, in a folder outside the repository:
//   1. packs every publishable package (scripts/lib/packages.mjs, as `npm run try:user` does);
//   2. reads each README's example (the convention: CONTRIBUTING.md, "Package READMEs"); a README
//      without one, or whose example imports a package it does not say to install, fails;
//   3. installs every tarball and every package the READMEs say to install ONCE, in one folder;
//   4. writes each example's files into a project of its own there, runs its contract generation,
//      typechecks them all (one `tsc --noEmit`), then runs each entry point and checks its exit
//      code and the lines its README says it prints. Examples that need PostgreSQL or RabbitMQ get
//      a database or virtual host of their own on the local servers (REFRONT_REQUIRE_INFRA=1:
//      a server that does not answer fails the run instead of skipping the example).
//
//   npm run build && npm run try:readmes          (CI runs it after try:user: .ci/run)
//   npm run try:readmes -- --keep core data       keep the folder; only these packages' READMEs
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import {
  notFromTarballs,
  packWorkspaces,
  publishableWorkspaces,
  root,
  unbuiltWorkspaces,
} from '../lib/packages.mjs';
import { extractExample, undeclaredImports } from './extract.js';
import { type ExampleToRun, runExamples, seconds } from './run.js';

/** What every example project has besides what its README says to install: the tools that typecheck and run it. */
const TOOLS = ['typescript', 'tsx', '@types/node'];
const BUDGET_MS = 180_000;

const args = process.argv.slice(2);
const keep = args.includes('--keep');
const only = args.filter((a) => !a.startsWith('--'));
const work = mkdtempSync(join(realpathSync(tmpdir()), 'refront-readmes-'));
if (!relative(root, work).startsWith('..'))
  throw new Error(`the temp folder ${work} is inside the repository`);
console.log(`readme-examples: working in ${work}`);

const workspaces = publishableWorkspaces().filter(
  (w) => only.length === 0 || only.includes(basename(w.dir)) || only.includes(w.manifest.name),
);
const unbuilt = unbuiltWorkspaces(workspaces);
if (unbuilt.length > 0)
  finish(`not built: ${unbuilt.map((w) => w.dir).join(', ')}; run \`npm run build\` first`);

let t = performance.now();
mkdirSync(join(work, 'packs'));
const tarballs = packWorkspaces(publishableWorkspaces(), join(work, 'packs'));
console.log(`== packed ${tarballs.length} packages in ${seconds(performance.now() - t)}`);

const examples: ExampleToRun[] = workspaces.map((w) => {
  const example = extractExample(readFileSync(join(root, w.dir, 'README.md'), 'utf8'));
  const undeclared = undeclaredImports(example);
  const problems =
    undeclared.length === 0
      ? example.problems
      : [
          ...example.problems,
          `imports ${undeclared.join(', ')}, which no \`npm install\` line of the README names`,
        ];
  return { name: basename(w.dir), example: { ...example, problems } };
});

t = performance.now();
const versions = knownVersions();
const dependencies: Record<string, string> = {};
// Every tarball, so that a package's own @refront/* dependencies resolve to the tarballs too.
const names = [...examples.flatMap((e) => e.example.installs), ...TOOLS, ...tarballs.map((p) => p.name)];
for (const name of [...new Set(names)].sort()) {
  const tarball = tarballs.find((p) => p.name === name);
  dependencies[name] = tarball ? `file:${tarball.file}` : (versions.get(name) ?? 'latest');
}
writeFileSync(
  join(work, 'package.json'),
  `${JSON.stringify({ name: 'readme-examples', private: true, type: 'module', dependencies }, null, 2)}\n`,
);
try {
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: work,
    stdio: 'inherit',
  });
} catch {
  finish('npm install of the tarballs and of what the READMEs say to install failed (above)');
}
const fromRegistry = notFromTarballs(join(work, 'package-lock.json'));
if (fromRegistry.length > 0)
  finish(`@refront/* packages not installed from the tarballs: ${fromRegistry.join(', ')}`);
console.log(
  `== npm install of ${Object.keys(dependencies).length} packages (once) in ${seconds(performance.now() - t)}`,
);

t = performance.now();
console.log('== the examples: generate, typecheck, run');
const outcomes = await runExamples(examples, { work });
console.log(`   done in ${seconds(performance.now() - t)}`);

const failed = outcomes.filter((o) => o.problems.length > 0);
console.log('');
for (const o of outcomes) {
  const state = o.problems.length > 0 ? 'FAILED' : o.skipped.length > 0 ? 'skipped' : 'ok';
  console.log(`  ${state.padEnd(7)} ${o.name.padEnd(16)} ${seconds(o.ms).padStart(7)}`);
  for (const p of o.problems) console.log(`          ${p.replace(/\n/g, '\n          ')}`);
  for (const s of o.skipped) console.log(`          skipped: ${s}`);
}
finish(
  failed.length > 0
    ? `${failed.length} README example(s) failed: ${failed.map((f) => f.name).join(', ')}`
    : undefined,
);

function finish(failure: string | undefined): never {
  if (failure) console.error(`\nreadme-examples FAILED: ${failure}\n(the projects are kept in ${work})`);
  else if (keep) console.log(`  kept ${work}`);
  else {
    const t0 = performance.now();
    rmSync(work, { recursive: true, force: true });
    console.log(`  removed the folder in ${seconds(performance.now() - t0)}`);
  }
  const total = performance.now(); // since the process started
  const over = total > BUDGET_MS ? ` (over the ${BUDGET_MS / 1000} s budget: is the machine loaded?)` : '';
  console.log(`  total ${seconds(total)}${over}`);
  process.exit(failure ? 1 : 0);
}

/**
 * The version range the repository itself uses for each package it depends on (the root first),
 * so that the examples install the tools Refront is built and tested with.
 */
function knownVersions(): Map<string, string> {
  const out = new Map<string, string>();
  const manifests = [{ dir: '.' }, ...publishableWorkspaces()].map(
    (w) =>
      JSON.parse(readFileSync(join(root, w.dir, 'package.json'), 'utf8')) as Record<
        string,
        Record<string, string>
      >,
  );
  for (const m of manifests)
    for (const field of ['devDependencies', 'dependencies', 'peerDependencies'])
      for (const [name, range] of Object.entries(m[field] ?? {})) if (!out.has(name)) out.set(name, range);
  return out;
}
