import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { checkRun, type ExampleEntry, type ReadmeExample } from './extract.js';
import { type InfraEnv, provisionInfra } from './infra.js';

/** One README's example to run, under a folder name of its own. */
export interface ExampleToRun {
  /** The folder of its project under the work folder (the package's folder name). */
  readonly name: string;
  readonly example: ReadmeExample;
}

/** How one README's example went: no problem means it ran and printed what it says. */
export interface ExampleOutcome {
  readonly name: string;
  readonly problems: readonly string[];
  /** Entries skipped for a server that does not answer (never with REFRONT_REQUIRE_INFRA=1). */
  readonly skipped: readonly string[];
  readonly ms: number;
}

/** Options of {@link runExamples}. */
export interface RunOptions {
  /** Where the projects go, one folder each; the dependencies are installed once in its node_modules. */
  readonly work: string;
  /** A node_modules folder to link as `<work>/node_modules` instead of an installed one (tests). */
  readonly modules?: string;
  /** Longest run of one entry. @default 120 000 */
  readonly timeoutMs?: number;
  /** Examples generated, then run, at once (each on free ports, in its own folder). @default 2 */
  readonly concurrency?: number;
  /** Where progress goes. @default console.log */
  readonly log?: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The TypeScript settings of every example project: what a new Node ESM project would use
 * (strict, nodenext, top-level await, `await using`).
 */
const TSCONFIG = {
  compilerOptions: {
    target: 'es2022',
    lib: ['es2023', 'esnext.disposable'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  },
  include: ['*/**/*.ts'],
  exclude: ['node_modules', '*/node_modules'],
};

/**
 * Writes each example's files into `<work>/<name>/` (its `node_modules` linked to the shared
 * one), runs its `generate` commands, typechecks every project in one `tsc` run, then runs each
 * entry and checks its exit code and the lines it must print.
 *
 * @example
 * const outcomes = await runExamples([{ name: 'core', example }], { work });
 */
export async function runExamples(
  examples: readonly ExampleToRun[],
  options: RunOptions,
): Promise<ExampleOutcome[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const env = options.env ?? process.env;
  const modules = join(options.work, 'node_modules');
  if (options.modules && !existsSync(modules)) symlinkSync(resolve(options.modules), modules, 'dir');
  writeFileSync(join(options.work, 'tsconfig.json'), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
  const state = new Map(
    examples.map((e) => [e.name, { problems: [...e.example.problems], skipped: [] as string[], ms: 0 }]),
  );
  const at = (name: string) => state.get(name) as { problems: string[]; skipped: string[]; ms: number };

  const concurrency = options.concurrency ?? 2;
  const started = performance.now();
  await eachLimited(examples, concurrency, async ({ name, example }) => {
    const t = performance.now();
    at(name).problems.push(
      ...(await writeProject(join(options.work, name), example, env, options.timeoutMs)),
    );
    at(name).ms += performance.now() - t;
  });

  log(`   projects written, contracts generated: ${seconds(performance.now() - started)}`);
  const t1 = performance.now();
  const tsc = await sh('npx tsc -p tsconfig.json --pretty false', options.work, env, options.timeoutMs);
  log(`   tsc --noEmit over ${examples.length} example projects: ${seconds(performance.now() - t1)}`);
  for (const [name, errors] of tscErrors(
    tsc.output,
    examples.map((e) => e.name),
  ))
    at(name).problems.push(`tsc --noEmit:\n${indent(errors.join('\n'))}`);
  if (tsc.code !== 0 && !tsc.output.includes('error TS')) throw new Error(`tsc failed:\n${tsc.output}`);

  await eachLimited(examples, concurrency, async ({ name, example }) => {
    const s = at(name);
    if (s.problems.length > 0) return; // not run: it would fail for what is already reported
    const t0 = performance.now();
    for (const entry of example.entries)
      await runEntry(name, entry, join(options.work, name), s, { ...options, env, log });
    s.ms += performance.now() - t0;
  });
  return examples.map((e) => ({ name: e.name, ...at(e.name) }));
}

/** Writes one example's files, links its node_modules and runs its `generate` commands; what failed. */
async function writeProject(
  dir: string,
  example: ReadmeExample,
  env: NodeJS.ProcessEnv,
  timeoutMs: number | undefined,
): Promise<string[]> {
  for (const [path, text] of example.files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  if (!existsSync(join(dir, 'node_modules')))
    symlinkSync('../node_modules', join(dir, 'node_modules'), 'dir');
  const problems: string[] = [];
  for (const command of example.generate) {
    const r = await sh(command, dir, env, timeoutMs);
    if (r.code !== 0) problems.push(`\`${command}\` exited ${r.code}:\n${indent(r.output)}`);
  }
  return problems;
}

async function runEntry(
  name: string,
  entry: ExampleEntry,
  dir: string,
  s: { problems: string[]; skipped: string[] },
  options: RunOptions & { env: NodeJS.ProcessEnv; log: (line: string) => void },
): Promise<void> {
  let infra: InfraEnv;
  try {
    infra = await provisionInfra(entry.needs, options.work, options.env);
  } catch (e: unknown) {
    s.problems.push(`${entry.file}: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  try {
    if (infra.missing.length > 0) {
      s.skipped.push(`${entry.file} (${infra.missing.join('; ')})`);
      options.log(`   ${name}/${entry.file}: skipped, ${infra.missing.join('; ')}`);
      return;
    }
    const t = performance.now();
    const r = await sh(entry.run, dir, { ...options.env, ...infra.env }, options.timeoutMs);
    const problems = checkRun(r, entry.expect);
    options.log(
      `   ${name}/${entry.file}: ${problems.length === 0 ? 'ok' : 'FAILED'} in ${seconds(performance.now() - t)}`,
    );
    if (problems.length > 0)
      s.problems.push(
        `${entry.file} (\`${entry.run}\`): ${problems.join('; ')}; its output:\n${indent(r.output)}`,
      );
  } finally {
    await infra.release();
  }
}

/** Calls `fn` on every item, at most `limit` at once. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** `tsc --pretty false` errors grouped by the example folder their file is in. */
export function tscErrors(output: string, names: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^([^\s(]+)\(\d+,\d+\): error TS/.exec(line) ?? /^error TS/.exec(line);
    if (!m) {
      current?.push(line);
      continue;
    }
    const folder = m[1]?.split('/')[0];
    const name = folder !== undefined && names.includes(folder) ? folder : (names[0] ?? '');
    current = out.get(name) ?? [];
    out.set(name, current);
    current.push(line);
  }
  return out;
}

/** The result of a shell command: its exit code, stdout, and stdout and stderr interleaved. */
export interface ShellResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly output: string;
}

/** Runs `command` with `sh -c` in `cwd`; killed (its process group) after `timeoutMs`. */
export function sh(
  command: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 120_000,
): Promise<ShellResult> {
  return new Promise((done, fail) => {
    const child = spawn('sh', ['-c', command], {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
      output += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c;
    });
    const timer = setTimeout(() => {
      output += `\n[killed after ${timeoutMs} ms]`;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, output });
    });
  });
}

const indent = (text: string): string =>
  text
    .trimEnd()
    .split('\n')
    .slice(-60)
    .map((l) => `      ${l}`)
    .join('\n');

/** `ms` as seconds with one decimal. */
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
