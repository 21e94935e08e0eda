import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkRun, extractExample, undeclaredImports } from '../readme-examples/extract.js';
import { provisionInfra } from '../readme-examples/infra.js';
import { runExamples } from '../readme-examples/run.js';
import { publishable, ROOT } from './publishable.js';

/**
 * The README example runner (`npm run try:readmes`, scripts/readme-examples): how it reads a
 * README's example, and that it fails an example that does not typecheck, exits non-zero or does
 * not print the line its README states, run for real in a folder outside the repository.
 */
const fence = (info: string, body: string): string => `\`\`\`${info}\n${body}\n\`\`\`\n`;
const readme = (...parts: string[]): string => `# pkg\n\nSome prose.\n\n${parts.join('\n')}`;

describe('extractExample', () => {
  it('reads files from titled blocks, entries from the comment before one, installs from sh blocks', () => {
    const ex = extractExample(
      readme(
        fence(
          'sh',
          'npm install @refront/core zod@4 # the core\nnpm i -D @refront/cli\nnpx refront generate',
        ),
        fence('proto title="proto/a/v1/a.proto"', 'syntax = "proto3";'),
        fence('yaml', '# untitled: not a file'),
        '<!-- example\ngenerate: npx refront generate\nexpect: hello, Ada\nexpect: done\nneeds: postgres, rabbitmq\n-->',
        fence(
          'ts title="src/main.ts"',
          "import { createService } from '@refront/core';\nconsole.log('hello, Ada');",
        ),
        '<!-- example run: npx vitest run ; expect: 1 passed -->\n',
        fence('ts title="src/a.test.ts"', "import { it } from 'vitest';"),
      ),
    );
    expect([...ex.files.keys()]).toEqual(['proto/a/v1/a.proto', 'src/main.ts', 'src/a.test.ts']);
    expect(ex.files.get('proto/a/v1/a.proto')).toBe('syntax = "proto3";\n');
    expect(ex.installs).toEqual(['@refront/core', 'zod', '@refront/cli']);
    expect(ex.generate).toEqual(['npx refront generate']);
    expect(ex.entries).toEqual([
      {
        file: 'src/main.ts',
        run: 'npx tsx src/main.ts',
        expect: ['hello, Ada', 'done'],
        needs: ['postgres', 'rabbitmq'],
      },
      { file: 'src/a.test.ts', run: 'npx vitest run', expect: ['1 passed'], needs: [] },
    ]);
    expect(ex.problems).toEqual([]);
    expect(undeclaredImports(ex)).toEqual(['vitest']);
  });

  it('fails a README without a runnable example', () => {
    const ex = extractExample(readme(fence('ts', "console.log('not marked');")));
    expect(ex.problems).toEqual([expect.stringMatching(/^no runnable example/)]);
  });

  it('fails an example that states no expected line, so its run would prove nothing', () => {
    const ex = extractExample(readme('<!-- example\nneeds: postgres\n-->', fence('ts title="src/a.ts"', '')));
    expect(ex.problems).toEqual([expect.stringContaining('states no "expect:" line')]);
  });

  it('fails a comment not right before a titled block, an unknown key and a path out of the project', () => {
    const ex = extractExample(
      readme(
        '<!-- example expect: x -->',
        fence('ts', ''),
        '<!-- example\nexpect: y\nwait: 3\nneeds: consul\n-->',
        fence('ts title="src/b.ts"', ''),
        fence('ts title="../outside.ts"', ''),
      ),
    );
    expect(ex.problems).toEqual([
      expect.stringContaining('not right before a titled block'),
      expect.stringContaining('unknown or empty key "wait"'),
      expect.stringContaining('needs "consul"'),
      expect.stringContaining('title="../outside.ts"'),
    ]);
  });

  it('finds a runnable example, with no problem, in every publishable package README', () => {
    const problems = publishable.flatMap(({ dir }) => {
      const ex = extractExample(readFileSync(join(ROOT, dir, 'README.md'), 'utf8'));
      const undeclared = undeclaredImports(ex).map((p) => `imports ${p}, not in an npm install line`);
      return [...ex.problems, ...undeclared].map((p) => `${dir}: ${p}`);
    });
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

describe('checkRun', () => {
  it('passes a run that exits 0 and prints every expected line', () => {
    expect(checkRun({ code: 0, stdout: 'a\nhello, Ada!\n' }, ['hello, Ada'])).toEqual([]);
  });

  it('fails a missing line and a non-zero exit', () => {
    expect(checkRun({ code: 1, stdout: 'hello\n' }, ['hello', 'bye'])).toEqual([
      'exited 1',
      'expected a line with "bye", not printed',
    ]);
  });
});

describe('runExamples, for real outside the repository', () => {
  const work = mkdtempSync(join(realpathSync(tmpdir()), 'refront-readme-test-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('runs a good example and fails a broken one, a silent one and one that exits non-zero', async () => {
    const example = (code: string, expected = 'hello, Ada') =>
      extractExample(readme(`<!-- example expect: ${expected} -->`, fence('ts title="src/main.ts"', code)));
    const lines: string[] = [];
    const outcomes = await runExamples(
      [
        { name: 'good', example: example("const name: string = 'Ada';\nconsole.log('hello, ' + name);") },
        { name: 'broken', example: example("const name: number = 'Ada';\nconsole.log('hello, ' + name);") },
        { name: 'silent', example: example("console.log('hello, Bob');") },
        { name: 'failing', example: example("console.log('hello, Ada');\nprocess.exitCode = 3;") },
      ],
      { work, modules: join(ROOT, 'node_modules'), log: (l) => lines.push(l) },
    );
    const byName = Object.fromEntries(outcomes.map((o) => [o.name, o.problems.join('\n')]));
    expect(byName.good).toBe('');
    expect(byName.broken).toMatch(/tsc --noEmit:\n.*broken\/src\/main\.ts\(1,7\): error TS2322/);
    expect(byName.silent).toMatch(
      /expected a line with "hello, Ada", not printed; its output:\n\s+hello, Bob/,
    );
    expect(byName.failing).toMatch(/^src\/main\.ts \(`npx tsx src\/main\.ts`\): exited 3/);
    expect(lines.filter((l) => l.includes('FAILED')).length).toBe(2); // broken never ran
  }, 180_000);
});

describe('provisionInfra', () => {
  const down = { REFRONT_TEST_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres' };

  it('skips an example whose server does not answer, or fails it with REFRONT_REQUIRE_INFRA=1', async () => {
    const skipped = await provisionInfra(['postgres'], ROOT, { ...down, REFRONT_REQUIRE_INFRA: '0' });
    expect(skipped.missing).toEqual(['postgres at 127.0.0.1:1 does not answer']);
    expect(skipped.env).toEqual({});
    await expect(provisionInfra(['postgres'], ROOT, { ...down, REFRONT_REQUIRE_INFRA: '1' })).rejects.toThrow(
      'PostgreSQL at 127.0.0.1:1 does not answer and REFRONT_REQUIRE_INFRA=1',
    );
  });

  it('gives a run a PostgreSQL database of its own and drops it after', async (t) => {
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    if (
      !(await admin.connect().then(
        () => true,
        () => false,
      ))
    ) {
      if (process.env.REFRONT_REQUIRE_INFRA === '1')
        throw new Error('PostgreSQL does not answer on 127.0.0.1:5432');
      return t.skip('PostgreSQL does not answer on 127.0.0.1:5432');
    }
    try {
      const infra = await provisionInfra(['postgres'], ROOT, {});
      const name = new URL(infra.env.DATABASE_URL ?? '').pathname.slice(1);
      expect(name).toMatch(/^refront_readme_[0-9a-f]{8}$/);
      const exists = async () =>
        (await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount;
      expect(await exists()).toBe(1);
      await infra.release();
      expect(await exists()).toBe(0);
    } finally {
      await admin.end();
    }
  });
});
