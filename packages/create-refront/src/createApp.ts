import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appManifest } from './appManifest.js';
import { checkAppName } from './appName.js';
import { CreateRefrontError } from './errors.js';
import { refrontTarballs } from './refrontFrom.js';

/** Options of {@link createApp}. */
export interface CreateAppOptions {
  /** Folder of the new app (created; must be absent or empty). Its last segment names the app. */
  readonly directory: string;
  /** Folder of `@refront/*` tarballs to install instead of the registry's. @default none: the registry */
  readonly refrontFrom?: string | undefined;
  /** Run `npm install` and `npm run generate` in the new app. @default true */
  readonly install?: boolean;
  /** Where progress lines go. @default console.log */
  readonly log?: (line: string) => void;
}

/** What {@link createApp} made. */
export interface CreatedApp {
  /** Absolute path of the app. */
  readonly directory: string;
  /** Its package name. */
  readonly name: string;
  /** Whether its dependencies were installed and its contracts generated. */
  readonly installed: boolean;
}

/** Files npm would drop or rename when publishing, kept under another name in the template. */
const RENAMED: Readonly<Record<string, string>> = { gitignore: '.gitignore', dockerignore: '.dockerignore' };
const NAME_PLACEHOLDER = '__APP_NAME__';
const TEXT_WITH_NAME = ['README.md', 'Dockerfile'];

/** This package's folder: `dist/` and `src/` both sit beside `template/`. */
function packageRoot(): string {
  return resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
}

function ownVersion(): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

function run(cwd: string, args: readonly string[], log: (line: string) => void): void {
  log(`$ npm ${args.join(' ')}`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, args, { cwd, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) {
    throw new CreateRefrontError(
      'COMMAND_FAILED',
      `npm ${args.join(' ')} failed in ${cwd} (exit ${result.status ?? result.signal}); fix the problem above and run it again there`,
    );
  }
}

/**
 * Makes a new Refront app in `directory`: one service (`notes`) with its `.proto` contract and the
 * contract pipeline (buf + ts-proto with the options Refront needs), a handler, an event
 * subscriber, a migration, typed config, tests, a README and a Dockerfile; then, unless
 * `install: false`, installs its dependencies and generates its contract code, so that
 * `npm run dev`, `npm test` and `npm run build` work at once.
 *
 * @throws CreateRefrontError `INVALID_NAME`, `DIRECTORY_NOT_EMPTY`, `BAD_REFRONT_FROM` before
 *   anything is written; `COMMAND_FAILED` when npm fails (the files stay, to fix and rerun).
 * @example
 * await createApp({ directory: 'my-app' });
 * await createApp({ directory: '/tmp/try', refrontFrom: '/tmp/packs', install: false });
 */
export async function createApp(options: CreateAppOptions): Promise<CreatedApp> {
  const log = options.log ?? ((line: string) => console.log(line));
  const directory = resolve(options.directory);
  const name = basename(directory);
  checkAppName(name);
  if (existsSync(directory) && readdirSync(directory).length > 0) {
    throw new CreateRefrontError(
      'DIRECTORY_NOT_EMPTY',
      `${directory} exists and is not empty: choose a new folder name, or empty it first`,
    );
  }
  const tarballs = options.refrontFrom === undefined ? undefined : refrontTarballs(options.refrontFrom);
  const manifest = appManifest({ name, refrontVersion: ownVersion(), tarballs });

  mkdirSync(directory, { recursive: true });
  cpSync(join(packageRoot(), 'template'), directory, { recursive: true });
  for (const [from, to] of Object.entries(RENAMED)) {
    if (existsSync(join(directory, from))) renameSync(join(directory, from), join(directory, to));
  }
  for (const file of TEXT_WITH_NAME) {
    const path = join(directory, file);
    writeFileSync(path, readFileSync(path, 'utf8').replaceAll(NAME_PLACEHOLDER, name));
  }
  writeFileSync(join(directory, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  log(
    `Created ${name} in ${directory}${tarballs ? ` (Refront from ${resolve(options.refrontFrom ?? '')})` : ''}`,
  );

  const install = options.install ?? true;
  if (install) {
    run(directory, ['install', '--no-audit', '--no-fund'], log);
    run(directory, ['run', 'generate'], log);
  }
  return { directory, name, installed: install };
}
