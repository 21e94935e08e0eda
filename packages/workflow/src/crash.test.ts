import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '@refront/data';
import { afterAll, describe, expect, it } from 'vitest';
import { dropSchemas, effects, POSTGRES_URL, postgresUp, silent, uniqueSchema } from './testing/engines.js';

const FIXTURE = fileURLToPath(new URL('./testing/crashRunner.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

function runChild(
  schema: string,
  killAt: string,
): Promise<{ stdout: string; stderr: string; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@refront/source', '--import', 'tsx', FIXTURE], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: POSTGRES_URL,
        SCHEMA: schema,
        RUN_ID: 'run-1',
        KILL_AT: killAt,
        NODE_OPTIONS: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ stdout, stderr, signal }));
  });
}

describe.skipIf(!postgresUp)('workflow: SIGKILL between every pair of steps [postgres]', () => {
  const schema = uniqueSchema('wfcrash');
  afterAll(() => dropSchemas([schema]));

  it('finishes the run exactly once when a process is killed at every step boundary in turn', async () => {
    // Five steps (lock, price, issue, sleep, publish): a fresh process is killed before the first
    // and after each (after step k is the gap before step k + 1), then one runs it to the end.
    const points = ['0:before', '0:after', '1:after', '2:after', '3:after', '4:after'];
    for (const point of points) {
      const child = await runChild(schema, point);
      expect(child.signal, `${point}: ${child.stderr}`).toBe('SIGKILL');
      expect(child.stdout).toBe('');
    }
    const last = await runChild(schema, 'none');
    expect(last.signal, last.stderr).toBeNull();
    expect(JSON.parse(last.stdout)).toEqual({ total: 3_009 });

    await using db = await openDatabase({ schema, url: POSTGRES_URL, logger: silent });
    const rows = await effects(db, 'run-1');
    expect(rows.map((r) => r.step)).toEqual(['lock', 'issue', 'publish']);
    const journal = await db.query<{ name: string }>(
      'select name from refront_workflow_steps where run_id = $1 order by seq',
      ['run-1'],
    );
    expect(journal.rows.map((r) => r.name)).toEqual(['lock', 'price', 'issue', 'sleep', 'publish']);
    const run = await db.query('select state, epoch from refront_workflow_runs where id = $1', ['run-1']);
    expect(run.rows[0]).toMatchObject({ state: 'completed' });
  }, 240_000); // seven Node processes, each loading TypeScript through tsx (5-10 s each on a loaded 2-core machine)
});
