import { builtinModules } from 'node:module';
import { posix } from 'node:path';

/**
 * What a package README's runnable example is made of, read from its Markdown (the convention is
 * in CONTRIBUTING.md, "Package READMEs"):
 *
 * - a fenced block whose info string has `title="<path>"` is a file of the example's project,
 *   written at that path (relative, inside the project): ```` ```ts title="src/example.ts" ````;
 * - an `<!-- example … -->` comment right before a titled block makes that file an entry point;
 *   its lines are `key: value`: `expect:` (repeatable: a line the run must print, matched as a
 *   substring of one stdout line), `generate:` (a command run in the project before the
 *   typecheck, e.g. `npx buf generate`), `run:` (the command; default `npx tsx <file>`),
 *   `needs:` (`postgres`, `rabbitmq`: the run gets `DATABASE_URL` / `AMQP_URL` of its own);
 * - `npm install`/`npm i` lines of `sh` blocks are the dependencies the README tells its reader
 *   to install; every package the example imports must be one of them.
 */
export interface ReadmeExample {
  /** The files of the project, by path. */
  readonly files: ReadonlyMap<string, string>;
  /** The entry points, in README order. */
  readonly entries: readonly ExampleEntry[];
  /** The packages the README says to install, in order, without versions. */
  readonly installs: readonly string[];
  /** The commands run before the typecheck (from every entry, once each, in order). */
  readonly generate: readonly string[];
  /** What is wrong with the README as an example: each makes the run fail. */
  readonly problems: readonly string[];
}

/** One file the runner runs, and what it must print. */
export interface ExampleEntry {
  /** Its path in the project. */
  readonly file: string;
  /** The command that runs it. */
  readonly run: string;
  /** Substrings each of which some line of its stdout must contain. */
  readonly expect: readonly string[];
  /** The servers it needs. */
  readonly needs: readonly Infra[];
}

/** A real server an example may need. */
export type Infra = 'postgres' | 'rabbitmq';

const INFRA: readonly Infra[] = ['postgres', 'rabbitmq'];
const FENCE = /^(`{3,}|~{3,})([^\n`]*)\n([\s\S]*?)^\1[ \t]*$/gm;
const DIRECTIVE = /<!--\s*example\b([\s\S]*?)-->\s*$/;
const INSTALL = /^\s*(?:\$\s+)?npm\s+(?:install|i|add)\b([^#\n]*)/gm;

/**
 * Reads the runnable example of one README.
 *
 * @example
 * const example = extractExample(readFileSync('packages/core/README.md', 'utf8'));
 * example.entries[0]?.expect; // ['hello, Ada']
 */
export function extractExample(markdown: string): ReadmeExample {
  const files = new Map<string, string>();
  const entries: ExampleEntry[] = [];
  const generate: string[] = [];
  const problems: string[] = [];
  const installs: string[] = [];
  let last = 0;
  for (const m of markdown.matchAll(FENCE)) {
    const directive = DIRECTIVE.exec(markdown.slice(last, m.index))?.[0];
    last = m.index + m[0].length;
    const info = m[2] ?? '';
    const body = m[3] ?? '';
    const lang = info.trim().split(/\s+/)[0] ?? '';
    if (/^(sh|bash|shell|console)$/.test(lang)) installs.push(...installsOf(body));
    const title = /\btitle="([^"]+)"/.exec(info)?.[1];
    if (title === undefined) {
      if (directive)
        problems.push(
          `an <!-- example --> comment is not right before a titled block: ${oneLine(directive)}`,
        );
      continue;
    }
    const path = posix.normalize(title);
    if (path.startsWith('..') || posix.isAbsolute(path) || path.split('/').includes('node_modules')) {
      problems.push(`title="${title}": a path inside the project, please`);
      continue;
    }
    if (files.has(path)) problems.push(`${path}: two blocks have this title`);
    files.set(path, body);
    if (!directive) continue;
    const entry = entryOf(path, directive, problems);
    entries.push(entry.entry);
    for (const g of entry.generate) if (!generate.includes(g)) generate.push(g);
  }
  if (entries.length === 0)
    problems.push(
      'no runnable example: no titled code block with an <!-- example expect: … --> comment before it',
    );
  return { files, entries, installs: [...new Set(installs)], generate, problems };
}

function entryOf(
  file: string,
  directive: string,
  problems: string[],
): { entry: ExampleEntry; generate: string[] } {
  const expect: string[] = [];
  const needs: Infra[] = [];
  const generate: string[] = [];
  let run = `npx tsx ${file}`;
  const body = (DIRECTIVE.exec(directive)?.[1] ?? '').trim();
  // One `key: value` per line, or several on one line separated by ` ; `.
  for (const part of body.split(/\n|\s;\s/)) {
    const kv = /^\s*([a-z]+)\s*:\s*(.*?)\s*$/.exec(part);
    if (!kv) {
      if (part.trim() !== '')
        problems.push(`${file}: not a "key: value" line in its <!-- example --> comment: ${part}`);
      continue;
    }
    const [, key, value = ''] = kv;
    if (key === 'expect' && value !== '') expect.push(value);
    else if (key === 'generate' && value !== '') generate.push(value);
    else if (key === 'run' && value !== '') run = value;
    else if (key === 'needs')
      for (const n of value.split(/[\s,]+/).filter(Boolean)) {
        if ((INFRA as readonly string[]).includes(n)) needs.push(n as Infra);
        else problems.push(`${file}: needs "${n}": one of ${INFRA.join(', ')}`);
      }
    else problems.push(`${file}: unknown or empty key "${key}" in its <!-- example --> comment`);
  }
  if (expect.length === 0)
    problems.push(
      `${file}: its <!-- example --> comment states no "expect:" line, so its run would prove nothing`,
    );
  return { entry: { file, run, expect, needs }, generate };
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** The package names of the `npm install` lines of one shell block. */
function installsOf(script: string): string[] {
  return [...script.matchAll(INSTALL)].flatMap((m) =>
    (m[1] ?? '')
      .split(/\s+/)
      .filter((t) => t !== '' && !t.startsWith('-'))
      .map((t) => t.replace(/(.)@[^/]*$/, '$1')),
  );
}

/**
 * The packages the example's TypeScript files import that its README does not say to install
 * (`node:` and built-in modules, relative paths and `@types/*` aside).
 */
export function undeclaredImports(example: ReadmeExample): string[] {
  const stated = new Set(example.installs);
  const missing = new Set<string>();
  for (const [path, text] of example.files) {
    if (!/\.(c|m)?tsx?$/.test(path)) continue;
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)) {
      const spec = m[1] as string;
      if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
      const parts = spec.split('/');
      const name = spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string);
      if (!stated.has(name)) missing.add(name);
    }
  }
  return [...missing];
}

/**
 * Whether a run printed what its README says: a problem per `expect` line no line of `stdout`
 * contains, and one for a non-zero exit.
 *
 * @example
 * checkRun({ code: 0, stdout: 'hello, Ada\n' }, ['hello, Ada']); // []
 */
export function checkRun(
  run: { readonly code: number | null; readonly signal?: string | null; readonly stdout: string },
  expect: readonly string[],
): string[] {
  const lines = run.stdout.split('\n');
  const problems = expect
    .filter((e) => !lines.some((l) => l.includes(e)))
    .map((e) => `expected a line with "${e}", not printed`);
  if (run.code !== 0) problems.unshift(`exited ${run.code ?? run.signal}`);
  return problems;
}
