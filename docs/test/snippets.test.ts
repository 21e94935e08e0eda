/**
 * The TypeScript blocks of the guides and the root README, typechecked against the workspace packages (their sources,
 * through the `@refront/source` condition) with the repository's compiler options, so a renamed or
 * changed API breaks the build instead of the docs. A block imports contracts from `./gen/…`, as
 * an app does; here that folder holds the demo's generated contracts. ```` ```ts peer ```` blocks
 * (another framework's code in the migration guides) are not checked.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { extractSnippets, type Snippet } from '../snippets/extractSnippets.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The pages whose ```ts blocks are checked. */
const PAGES = [
  'docs/error-model.md',
  'docs/observability.md',
  'docs/migrating-from-nestjs.md',
  'docs/migrating-from-moleculer.md',
  'docs/transports.md',
  'README.md',
];

const snippets: Snippet[] = PAGES.flatMap((page) =>
  extractSnippets(page, readFileSync(join(ROOT, page), 'utf8')),
);
const dir = join(ROOT, 'tmp', `doc-snippets-${process.pid}`);

/** Each snippet's file, by its index: padded so that tsc's line numbers are the page's. */
const fileOf = (i: number): string => `snippet-${i}.ts`;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the TypeScript blocks of the guides', () => {
  it('finds blocks on every page', () => {
    for (const page of PAGES)
      expect(
        snippets.some((s) => s.page === page),
        page,
      ).toBe(true);
  });

  it('typecheck against the workspace packages', async () => {
    mkdirSync(dir, { recursive: true });
    cpSync(join(ROOT, 'examples/refront-demo/src/gen'), join(dir, 'gen'), { recursive: true });
    snippets.forEach((s, i) => {
      writeFileSync(join(dir, fileOf(i)), `${'\n'.repeat(s.line - 1)}${s.code}\nexport {};\n`);
    });
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../tsconfig.base.json',
        compilerOptions: {
          composite: false,
          incremental: false,
          noEmit: true,
          declaration: false,
          declarationMap: false,
          sourceMap: false,
        },
        include: ['*.ts', 'gen/**/*.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const failure = await promisify(execFile)(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    }).then(
      () => undefined,
      (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}` || String(e),
    );
    // `snippet-3.ts(57,3): error …` → `docs/error-model.md:57:3 error …`
    const errors = (failure ?? '')
      .split('\n')
      .filter((l) => /error TS/.test(l))
      .map((l) =>
        l.replace(
          /^.*?snippet-(\d+)\.ts\((\d+),(\d+)\):/,
          (_, i: string, line: string, col: string) => `${snippets[Number(i)]?.page}:${line}:${col}`,
        ),
      );
    // A failure that is no type error (tsc crashed, a bad tsconfig) fails the test with its output.
    expect(errors.length > 0 ? errors : failure === undefined ? [] : [failure]).toEqual([]);
  }, 120_000);
});
