import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { CliErrors } from './errors.js';

/** Where a buf module sits in its buf workspace. */
export interface ContractModule {
  /** The directory holding `buf.yaml` (buf runs there, so the workspace's modules resolve imports). */
  readonly workspace: string;
  /** The module's `proto` directory, absolute. */
  readonly proto: string;
  /** The module, relative to `workspace` (`examples/refront-demo/proto`). */
  readonly module: string;
}

/**
 * The contracts a command works on: `proto` (relative to `cwd`) or the `proto/` of the nearest
 * directory from `cwd` up holding one, and the nearest `buf.yaml` from there up.
 * @throws RefrontError `CLI_NOT_IN_WORKSPACE` when either is missing.
 */
export function contractModule(cwd: string, proto?: string): ContractModule {
  const start = resolve(cwd);
  const dir = proto ? resolve(start, proto) : join(findUp(start, 'proto', 'a proto/ directory'), 'proto');
  if (!existsSync(dir)) throw CliErrors.NOT_IN_WORKSPACE(`${dir} does not exist`);
  const workspace = findUp(dirname(dir), 'buf.yaml', 'a buf.yaml');
  return { workspace, proto: dir, module: relative(workspace, dir) || '.' };
}

/**
 * The nearest directory from `dir` up that holds `name`.
 * @throws RefrontError `CLI_NOT_IN_WORKSPACE` naming `what` when there is none.
 */
export function findUp(dir: string, name: string, what: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, name))) return d;
    if (dirname(d) === d)
      throw CliErrors.NOT_IN_WORKSPACE(`no ${what} in ${dir} or above: run refront inside a workspace`);
  }
}

/**
 * The entry point of `bin` of package `pkg`: the workspace's copy, else the CLI's own dependency.
 * @throws RefrontError `CLI_NOT_IN_WORKSPACE` saying what to install when neither has it.
 */
export function toolPath(workspace: string, pkg: string, bin: string): string {
  const requires = [createRequire(join(workspace, 'package.json'))];
  try {
    requires.push(createRequire(import.meta.url));
  } catch {
    // The CommonJS build has no import.meta.url: the workspace's tools only.
  }
  for (const r of requires) {
    try {
      return join(dirname(r.resolve(`${pkg}/package.json`)), bin);
    } catch {
      // not installed there
    }
  }
  throw CliErrors.NOT_IN_WORKSPACE(`${pkg} is not installed: npm install --save-dev ${pkg}`);
}

/**
 * Runs `buf` (from `@bufbuild/buf`) in the module's workspace and returns its stdout.
 * @throws RefrontError `CLI_TOOL_FAILED` with buf's output when it fails.
 */
export function runBuf(m: ContractModule, args: readonly string[]): Buffer {
  const buf = toolPath(m.workspace, '@bufbuild/buf', 'bin/buf');
  try {
    return execFileSync(process.execPath, [buf, ...args], {
      cwd: m.workspace,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (e: unknown) {
    const err = e as { stdout?: Buffer; stderr?: Buffer; message: string };
    const said = `${err.stdout?.toString() ?? ''}${err.stderr?.toString() ?? ''}`.trim() || err.message;
    throw CliErrors.TOOL_FAILED(`buf ${args[0]} ${m.module}`, said);
  }
}
