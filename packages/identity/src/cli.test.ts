import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function capture() {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: { log: (l: string) => lines.push(l), error: (l: string) => errors.push(l) } };
}

describe('refront-dev-certs', () => {
  it('writes the CA and one certificate per service named', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'refront-cli-'));
    dirs.push(dir);
    const c = capture();
    const code = await runCli(
      ['--dir', dir, '--trust-domain', 'demo.test', '--dns', 'localhost', 'gateway', 'ai'],
      c.out,
    );
    expect({ code, errors: c.errors }).toEqual({ code: 0, errors: [] });
    const ai = new X509Certificate(await readFile(join(dir, 'ai.crt')));
    expect(ai.subjectAltName).toBe('URI:spiffe://demo.test/ai, DNS:ai, DNS:localhost');
    expect(c.lines).toContain(`spiffe://demo.test/gateway: ${join(dir, 'gateway.crt')}`);
  });

  it('prints the usage with exit code 2 when the folder or the services are missing', async () => {
    for (const argv of [['tickets'], ['--dir', '/tmp/x'], ['--nope']]) {
      const c = capture();
      expect(await runCli(argv, c.out)).toBe(2);
      expect(c.errors.join('\n')).toMatch(/usage: refront-dev-certs/);
    }
  });

  it('fails with exit code 1 and the reason for a bad name', async () => {
    const c = capture();
    expect(await runCli(['--dir', join(tmpdir(), 'refront-never'), 'Bad_Name'], c.out)).toBe(1);
    expect(c.errors.join('\n')).toMatch(/not a service name/);
  });
});
