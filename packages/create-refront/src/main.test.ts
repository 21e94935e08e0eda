import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main, USAGE } from './main.js';

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'create-refront-main-'));
}

afterEach(() => {
  vi.restoreAllMocks();
});

function capture() {
  const out = vi.spyOn(console, 'log').mockImplementation(() => {});
  const err = vi.spyOn(console, 'error').mockImplementation(() => {});
  return {
    out: () => out.mock.calls.map((c) => c.join(' ')).join('\n'),
    err: () => err.mock.calls.map((c) => c.join(' ')).join('\n'),
  };
}

describe('create-refront', () => {
  it('prints its usage with --help (0), and with no folder or an unknown option (2)', async () => {
    const io = capture();
    expect(await main(['--help'], {})).toBe(0);
    expect(io.out()).toContain(USAGE);
    expect(await main([], {})).toBe(2);
    expect(io.err()).toContain('Name the folder of the new app.');
    expect(await main(['app', '--frobnicate'], {})).toBe(2);
    expect(io.err()).toMatch(/--frobnicate/);
  });

  it('exits 1 with a clear message for a bad name', async () => {
    const io = capture();
    expect(await main([join(scratch(), 'Bad Name'), '--no-install'], {})).toBe(1);
    expect(io.err()).toMatch(/^create-refront: "Bad Name" cannot name the app/);
  });

  it('writes the app with --no-install and tells what to run next', async () => {
    const io = capture();
    const dir = join(scratch(), 'next-steps');
    expect(await main([dir, '--no-install'], {})).toBe(0);
    expect(io.out()).toMatch(/npm install\n\s+npm run dev/);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name).toBe('next-steps');
  });

  it('takes the tarball folder from REFRONT_FROM, --refront-from first', async () => {
    capture();
    const packs = scratch();
    const other = scratch();
    for (const p of ['core', 'data', 'testing', 'transport-amqp', 'transport-grpc']) {
      writeFileSync(join(packs, `refront-${p}-0.1.0.tgz`), '');
      writeFileSync(join(other, `refront-${p}-0.1.0.tgz`), '');
    }
    const fromEnv = join(scratch(), 'from-env');
    expect(await main([fromEnv, '--no-install'], { REFRONT_FROM: packs })).toBe(0);
    const core = (dir: string) =>
      JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies['@refront/core'];
    expect(core(fromEnv)).toBe(`file:${join(packs, 'refront-core-0.1.0.tgz')}`);
    const fromFlag = join(scratch(), 'from-flag');
    expect(await main([fromFlag, '--no-install', '--refront-from', other], { REFRONT_FROM: packs })).toBe(0);
    expect(core(fromFlag)).toBe(`file:${join(other, 'refront-core-0.1.0.tgz')}`);
  });
});
