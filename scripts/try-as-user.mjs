#!/usr/bin/env node
// Tries Refront as a new user would (issue 22), from the packed tarballs only:
//   1. packs every publishable workspace package (npm pack), as the registry would get it;
//   2. lints each tarball with publint and are-the-types-wrong; any error fails the run;
//   3. in an empty folder outside the repository, runs create-refront from its tarball against
//      the other tarballs (npm install, contract generation), then builds and tests the new app;
//   4. starts it (`node dist/main.js`, what `npm start` and its Docker image run), calls it over gRPC with a client built at run time from its .proto
//      file, checks /readyz, sends SIGTERM with calls in flight and checks it drains and exits 0.
// Nothing of the repository is used after packing but the tarballs: the gRPC client is loaded
// from the new app's own node_modules.
//
//   npm run build && npm run try:user            (CI runs it after the tests: .ci/run)
//   node scripts/try-as-user.mjs --keep          keep the temp folder to look around
//
// are-the-types-wrong runs in process (its core library: the checks of `attw <tarball> --profile
// node16`, without loading TypeScript once per package). The node16 profile leaves out the node10
// resolution only: the packages need Node >= 20.19, whose users resolve with node16/nodenext or a
// bundler, while node10 (TypeScript's legacy `moduleResolution: node`) ignores `exports` and so
// cannot reach subpaths such as `@refront/core/transport`. Every other rule of both tools is on;
// publint's warnings and suggestions are printed, its errors fail the run.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { problemKindInfo } from '@arethetypeswrong/core/problems';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import {
  notFromTarballs,
  packWorkspaces,
  publishableWorkspaces,
  root,
  unbuiltWorkspaces,
} from './lib/packages.mjs';

const keep = process.argv.includes('--keep');
/** Past this the run is too slow for CI (it still passes: the machine may be loaded). */
const BUDGET_MS = 180_000;
const started = performance.now();
const timings = [];
/** Problems of the packages themselves: reported at once, failing the run at its end. */
const lintProblems = [];
let stepNo = 0;

function elapsed(since) {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

async function step(title, fn) {
  stepNo += 1;
  console.log(`\n== ${stepNo}. ${title}`);
  const t = performance.now();
  const value = await Promise.resolve()
    .then(fn)
    .catch((error) => fail(`${title}: ${error instanceof Error ? error.message : String(error)}`));
  timings.push([title, performance.now() - t]);
  console.log(`   done in ${elapsed(t)}`);
  return value;
}

function fail(message) {
  console.error(`\ntry-as-user FAILED: ${message}\n(what it made is kept in ${work}; remove it when done)`);
  process.exit(1);
}

/** Runs a command, its output shown; rejects on a non-zero exit. */
function run(command, args, options = {}) {
  console.log(`   $ ${command} ${args.join(' ')}${options.cwd ? `   (in ${options.cwd})` : ''}`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', ...options });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code ?? signal}`)),
    );
  });
}

const work = mkdtempSync(path.join(realpathSync(tmpdir()), 'refront-try-'));
if (!path.relative(root, work).startsWith('..')) fail(`the temp folder ${work} is inside the repository`);
const packs = path.join(work, 'packs');
mkdirSync(packs);
console.log(`try-as-user: working in ${work}`);

const workspaces = publishableWorkspaces();
const unbuilt = unbuiltWorkspaces(workspaces);
if (unbuilt.length > 0)
  fail(`not built: ${unbuilt.map((w) => w.dir).join(', ')}; run \`npm run build\` first`);

const tarballs = await step(`pack ${workspaces.length} publishable packages`, () => {
  const packed = packWorkspaces(workspaces, packs);
  for (const p of packed) console.log(`   ${p.name} → ${path.basename(p.file)}`);
  return packed;
});

await step('publint on each tarball (errors fail)', async () => {
  const problems = [];
  for (const t of tarballs) {
    const data = readFileSync(t.file);
    const tarball = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    const { messages, pkg } = await publint({ pack: { tarball }, level: 'suggestion' });
    for (const m of messages) {
      const line = `${t.name}: ${m.type}: ${formatMessage(m, pkg, { color: false })}`;
      console.log(`   ${line}`);
      if (m.type === 'error') problems.push(line);
    }
  }
  lintProblems.push(...problems);
  console.log(
    `   ${problems.length === 0 ? 'no errors' : `${problems.length} error(s)`} in ${tarballs.length} packages`,
  );
});

await step('are-the-types-wrong on each tarball (profile node16; any problem fails)', async () => {
  // In this process (TypeScript loads once), as `attw <tarball> --profile node16` does.
  const failed = [];
  for (const t of tarballs) {
    const analysis = await checkPackage(createPackageFromTarballData(new Uint8Array(readFileSync(t.file))));
    const problems = analysis.types
      ? analysis.problems.filter((p) => !('resolutionKind' in p) || p.resolutionKind !== 'node10')
      : [];
    if (problems.length === 0) {
      console.log(`   ${t.name}: ${analysis.types ? 'no problems' : 'no types (nothing to check)'}`);
      continue;
    }
    for (const p of problems) {
      const where = [p.entrypoint, p.resolutionKind].filter(Boolean).join(', ');
      console.log(
        `   ${t.name}: ${p.kind}${where ? ` (${where})` : ''}: ${problemKindInfo[p.kind].description}`,
      );
    }
    failed.push(t.name);
  }
  lintProblems.push(...failed.map((name) => `${name}: are-the-types-wrong found problems (above)`));
});

await step('contents of each tarball: export targets shipped, LICENSE, repository', () => {
  // What publint leaves out: it does not follow custom export conditions (a `@refront/source`
  // pointing at src/, which is not shipped), and a licence file and a repository link are not
  // its rules. A user of the registry gets nothing else than these files.
  const problems = [];
  for (const t of tarballs) {
    const manifest = JSON.parse(
      execFileSync('tar', ['-xOzf', t.file, 'package/package.json'], { encoding: 'utf8' }),
    );
    for (const target of exportTargets(manifest.exports)) {
      const file = path.posix.normalize(target);
      if (!file.includes('*') && !t.files.has(file))
        problems.push(`${t.name}: exports ${target}, which is not in the package`);
    }
    if (![...t.files].some((f) => /^(LICEN[CS]E|COPYING)(\.|$)/i.test(f)))
      problems.push(`${t.name}: no LICENSE file`);
    if (!manifest.repository) problems.push(`${t.name}: no "repository" field`);
  }
  for (const p of problems) console.log(`   ${p}`);
  if (problems.length === 0) console.log(`   ${tarballs.length} packages ship what they declare`);
  lintProblems.push(...problems);
});
if (lintProblems.length > 0)
  console.log(
    `\n   ${lintProblems.length} package problem(s) so far: the run goes on, then fails at the end`,
  );

const creator = tarballs.find((t) => t.name === 'create-refront');
if (!creator) fail('create-refront was not packed');
const appDir = path.join(work, 'try-app');

await step(
  'npm create refront (from its tarball, @refront/* from the tarballs): files, npm install, generate',
  () =>
    run(
      'npm',
      [
        'exec',
        '--yes',
        `--package=${creator.file}`,
        '--',
        'create-refront',
        'try-app',
        '--refront-from',
        packs,
      ],
      {
        cwd: work,
        // prefer-offline: what the npm cache holds is used without asking the registry again.
        env: {
          ...process.env,
          npm_config_audit: 'false',
          npm_config_fund: 'false',
          npm_config_prefer_offline: 'true',
        },
      },
    ),
);

const fromRegistry = notFromTarballs(path.join(appDir, 'package-lock.json'));
if (fromRegistry.length > 0)
  fail(`@refront/* packages not installed from the tarballs: ${fromRegistry.join(', ')}`);

await step('npm run build (generate, tsc)', () => run('npm', ['run', 'build'], { cwd: appDir }));
await step('npm test (generate, typecheck, vitest)', () => run('npm', ['test'], { cwd: appDir }));

const app = await step('start it (node dist/main.js): wait for ready', () => startApp(appDir));
// A failed check below must not leave the app running.
process.on('exit', () => app.child.exitCode === null && app.child.kill('SIGKILL'));

await step('call it from outside: gRPC client from the .proto file, /readyz', async () => {
  const appRequire = createRequire(path.join(appDir, 'package.json'));
  const grpc = appRequire('@grpc/grpc-js');
  const loader = appRequire('@grpc/proto-loader');
  const definition = loader.loadSync('notes/v1/notes.proto', {
    includeDirs: [path.join(appDir, 'proto')],
    longs: Number,
    defaults: true,
  });
  const { NotesService } = grpc.loadPackageDefinition(definition).notes.v1;
  const client = new NotesService(`127.0.0.1:${app.grpcPort}`, grpc.credentials.createInsecure());
  const call = (method, request) =>
    new Promise((resolve, reject) =>
      client[method](request, { deadline: Date.now() + 10_000 }, (error, response) =>
        error ? reject(error) : resolve(response),
      ),
    );
  app.call = call;
  app.client = client;

  const { note } = await call('CreateNote', { title: 'From outside', body: 'called over gRPC' });
  console.log(`   CreateNote → ${note.id}`);
  const got = await call('GetNote', { id: note.id });
  if (got.note.title !== 'From outside') fail(`GetNote returned ${JSON.stringify(got)}`);
  console.log(`   GetNote → "${got.note.title}"`);
  const invalid = await call('CreateNote', { title: '' }).then(
    () => fail('CreateNote with an empty title succeeded'),
    (error) => error,
  );
  if (invalid.code !== grpc.status.INVALID_ARGUMENT) fail(`empty title: ${invalid.code} ${invalid.details}`);
  console.log(`   CreateNote {title: ""} → INVALID_ARGUMENT (${invalid.details})`);
  // The event path: outbox → bus → subscriber, after commit.
  const until = Date.now() + 15_000;
  let stats = await call('GetStats', {});
  while (stats.notes < 1 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    stats = await call('GetStats', {});
  }
  if (stats.notes !== 1 || stats.words !== 5)
    fail(`GetStats: ${JSON.stringify(stats)}, expected 1 note, 5 words`);
  console.log(`   GetStats → ${stats.notes} note, ${stats.words} words (the NoteCreated subscriber ran)`);
  const ready = await fetch(`${app.opsUrl}/readyz`);
  if (ready.status !== 200) fail(`/readyz answered ${ready.status}`);
  console.log(`   GET ${app.opsUrl}/readyz → 200`);
});

await step('SIGTERM with calls in flight: drains, exits 0', async () => {
  const grpcStatus = createRequire(path.join(appDir, 'package.json'))('@grpc/grpc-js').status;
  const inFlight = Array.from({ length: 5 }, (_, i) =>
    app.call('CreateNote', { title: `In flight ${i}` }).then(
      () => 'ok',
      (error) => error,
    ),
  );
  await new Promise((r) => setTimeout(r, 20));
  app.child.kill('SIGTERM');
  const outcomes = await Promise.all(inFlight);
  // A call that arrived before the drain finishes; one that did not is refused UNAVAILABLE
  // (retryable); none is cut off.
  const bad = outcomes.filter((o) => o !== 'ok' && o.code !== grpcStatus.UNAVAILABLE);
  if (bad.length > 0)
    fail(`calls cut off by the drain: ${bad.map((e) => `${e.code} ${e.details}`).join('; ')}`);
  const finished = outcomes.filter((o) => o === 'ok').length;
  console.log(
    `   calls in flight: ${finished} finished, ${outcomes.length - finished} refused UNAVAILABLE (not yet taken)`,
  );
  app.client.close();
  const code = await app.exited;
  const log = app.output();
  if (code !== 0) fail(`the app exited ${code} after SIGTERM`);
  if (!/"state":"draining"/.test(log) || !/"state":"stopped"/.test(log))
    fail('no draining → stopped in its log');
  console.log('   log: draining → stopped; exit code 0');
});

if (!keep) rmSync(work, { recursive: true, force: true });
const total = performance.now() - started;
console.log(
  `\ntry-as-user: the app walk passed${lintProblems.length > 0 ? '' : ', and so did every package check'}`,
);
for (const [title, ms] of timings) console.log(`  ${(ms / 1000).toFixed(1).padStart(6)} s  ${title}`);
console.log(`  ${(total / 1000).toFixed(1).padStart(6)} s  total${keep ? ` (kept ${work})` : ''}`);
if (total > BUDGET_MS) console.log(`  note: over the ${BUDGET_MS / 1000} s budget (is the machine loaded?)`);
if (lintProblems.length > 0) {
  fail(`the packages have ${lintProblems.length} problem(s):\n  ${lintProblems.join('\n  ')}`);
}

/** Every path an `exports` map points at (any condition, any depth), relative to the package. */
function exportTargets(exports) {
  if (typeof exports === 'string') return [exports];
  if (exports === null || typeof exports !== 'object') return [];
  return Object.values(exports).flatMap(exportTargets);
}

/** Starts the built app on free ports; resolves once it prints its ready line. */
function startApp(dir) {
  const child = spawn('node', ['dist/main.js'], {
    cwd: dir,
    env: { ...process.env, GRPC_PORT: '0', OPS_PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the app was not ready after 120 s:\n${out}`));
    }, 120_000);
    let resolved = false;
    const onData = (chunk) => {
      out += chunk;
      if (resolved) return;
      const ready = /^ready: .* on gRPC [^\s:]+:(\d+)/m.exec(out);
      const ops = /^ops: (http:\/\/\S+?)\/healthz/m.exec(out);
      if (ready && ops) {
        resolved = true;
        clearTimeout(timer);
        console.log(`   ${ready[0]}`);
        resolve({ child, exited, grpcPort: Number(ready[1]), opsUrl: ops[1], output: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      if (resolved) return;
      clearTimeout(timer);
      reject(new Error(`the app exited ${code} before it was ready:\n${out}`));
    });
  });
}
