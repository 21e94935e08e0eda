import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoreCopy, DUPLICATE_CORE_WARNING, registerCoreCopy } from './copies.js';

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('registerCoreCopy', () => {
  it('warns with its code once a second copy registers, naming both', async () => {
    const warnings: Error[] = [];
    const listen = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', listen);
    try {
      const target = {};
      const first: CoreCopy = { format: 'esm', version: '1.0.0' };
      expect(registerCoreCopy(first, target)).toEqual([]);
      await new Promise((r) => setImmediate(r));
      expect(warnings).toEqual([]);
      expect(registerCoreCopy({ format: 'cjs', version: '1.0.0' }, target)).toEqual([first]);
      await new Promise((r) => setImmediate(r));
      expect(warnings.map((w) => (w as Error & { code?: string }).code)).toEqual([DUPLICATE_CORE_WARNING]);
      expect(warnings[0]?.message).toContain('esm 1.0.0, cjs 1.0.0');
    } finally {
      process.off('warning', listen);
    }
  });
});

/**
 * The built package, as a user loads it: `import` gives dist/index.js, `require` dist/index.cjs.
 * Built with the package's own tsup config into a folder of this test (inside the package, so
 * its dependencies resolve), not into dist/, which another test may be reading.
 */
describe('the ESM and CommonJS builds loaded in one process', () => {
  let out = '';
  beforeAll(() => {
    out = mkdtempSync(join(PACKAGE, '.tsbuild', 'copies-'));
    execFileSync('npx', ['tsup', '--out-dir', out, '--no-dts', '--no-sourcemap'], {
      cwd: PACKAGE,
      stdio: 'pipe',
    });
  });
  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  /** Runs `body` (an ES module) in a child process; returns the warnings it emitted and its output. */
  function run(body: string): { warnings: { code: string; message: string }[]; lines: string[] } {
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(${JSON.stringify(pathToFileURL(join(out, 'x.js')).href)});
      const dist = ${JSON.stringify(pathToFileURL(out).href)};
      const distPath = ${JSON.stringify(out)};
      process.on('warning', (w) => console.log('WARNING ' + JSON.stringify({ code: w.code, message: w.message })));
      ${body}
      await new Promise((r) => setImmediate(r));`;
    const stdout = execFileSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
      cwd: PACKAGE,
      encoding: 'utf8',
    });
    const lines = stdout.split('\n').filter(Boolean);
    return {
      warnings: lines.filter((l) => l.startsWith('WARNING ')).map((l) => JSON.parse(l.slice(8))),
      lines: lines.filter((l) => !l.startsWith('WARNING ')),
    };
  }

  it('warns with REFRONT_DUPLICATE_CORE, naming both formats and the version', () => {
    const { warnings, lines } = run(`
      const esm = await import(dist + '/index.js');
      const cjs = require(distPath + '/index.cjs');
      console.log(String(new cjs.RefrontError('INTERNAL', 'X', 'x') instanceof esm.RefrontError));`);
    // The defect the warning is about: two classes, so instanceof is false across the copies.
    expect(lines).toEqual(['false']);
    expect(warnings.map((w) => w.code)).toEqual([DUPLICATE_CORE_WARNING]);
    expect(warnings[0]?.message).toMatch(/loaded 2 times \(esm \d+\.\d+\.\d+[^,]*, cjs \d+\.\d+\.\d+/);
  });

  it('stays silent for one copy reached through both of its entry points', () => {
    const { warnings } = run(`
      await import(dist + '/index.js');
      await import(dist + '/transport.js');`);
    expect(warnings).toEqual([]);
  });

  it('stays silent for the CommonJS build alone, through both entry points', () => {
    const { warnings } = run(`
      require(distPath + '/index.cjs');
      require(distPath + '/transport.cjs');`);
    expect(warnings).toEqual([]);
  });
});
