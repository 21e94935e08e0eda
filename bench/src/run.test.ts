import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResults } from './results.js';

const dir = mkdtempSync(join(tmpdir(), 'refront-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench -- --quick', () => {
  it('runs a scenario and writes every contender with its figures and ratio to the results file', async () => {
    const out = join(dir, 'latest.json');
    await promisify(execFile)(
      process.execPath,
      ['--conditions=@refront/source', '--import', 'tsx', 'src/run.ts', '--quick', 'inproc-rpc'],
      {
        cwd: new URL('..', import.meta.url).pathname,
        // A smoke run: a few thousand calls per round; the figures are not looked at, only their shape.
        env: { ...process.env, REFRONT_BENCH_OUT: out, INPROC_BENCH_ITERATIONS: '2000' },
        timeout: 60_000,
      },
    );
    const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
    expect(results.quick).toBe(true);
    expect(results.scenarios).toEqual(['inproc-rpc']);
    expect(results.failures).toEqual([]);
    expect(results.load.start).toHaveLength(3);
    expect(results.machine.cpus).toBeGreaterThan(0);
    expect(results.cases).toHaveLength(1);
    const [c] = results.cases;
    expect(c?.scenario).toBe('inproc-rpc');
    expect(c?.contenders.map((x) => x.contender)).toEqual([
      'direct function call',
      'Refront in-process (defaults)',
      'Refront in-process (copyMessages: false)',
      'Moleculer local call, metrics+tracing on',
      'Moleculer local call (its defaults: off)',
    ]);
    for (const x of c?.contenders ?? []) {
      expect(x.opsPerSec).toBeGreaterThan(0);
      expect(x.p99Us).toBeGreaterThanOrEqual(x.p50Us ?? Number.NaN);
      expect(x.ratio).toBeCloseTo(x.opsPerSec / (c?.contenders[0]?.opsPerSec ?? Number.NaN), 2);
    }
    expect(c?.contenders[0]?.ratio).toBe(1);
  });
});
