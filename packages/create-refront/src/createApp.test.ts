import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from './createApp.js';
import { CreateRefrontError } from './errors.js';

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'create-refront-'));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

async function refusal(call: Promise<unknown>): Promise<CreateRefrontError> {
  const error = await call.then(
    () => expect.unreachable('createApp succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CreateRefrontError);
  return error as CreateRefrontError;
}

/** The `opt:` entries of a buf.gen.yaml. */
function tsProtoOptions(yaml: string): string[] {
  return [...yaml.matchAll(/^\s+- (\w+=\S+)$/gm)].map((m) => m[1] as string);
}

describe('createApp', () => {
  it('writes the app: contract, pipeline, service, tests, Dockerfile, dotfiles, named after its folder', async () => {
    const dir = join(scratch(), 'my-notes');
    const lines: string[] = [];
    const app = await createApp({ directory: dir, install: false, log: (l) => lines.push(l) });
    expect(app).toEqual({ directory: dir, name: 'my-notes', installed: false });
    expect(filesUnder(dir)).toEqual([
      '.dockerignore',
      '.gitignore',
      'Dockerfile',
      'README.md',
      'buf.gen.yaml',
      'buf.yaml',
      'package.json',
      'proto/notes/v1/notes.proto',
      'src/app.ts',
      'src/config.ts',
      'src/main.ts',
      'src/modules.ts',
      'src/notes/errors.ts',
      'src/notes/migrations.ts',
      'src/notes/module.ts',
      'src/notes/notes.test.ts',
      'tsconfig.build.json',
      'tsconfig.json',
      'vitest.config.ts',
    ]);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'my-notes', private: true, type: 'module' });
    expect(Object.keys(manifest.scripts)).toEqual(['generate', 'dev', 'build', 'start', 'test']);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toMatch(/^# my-notes\n/);
    for (const f of filesUnder(dir)) expect(readFileSync(join(dir, f), 'utf8')).not.toContain('__APP_NAME__');
    expect(lines).toEqual([`Created my-notes in ${dir}`]);
  });

  it('configures ts-proto with exactly the options Refront generates its own contracts with', async () => {
    const dir = join(scratch(), 'opts');
    await createApp({ directory: dir, install: false, log: () => {} });
    const app = tsProtoOptions(readFileSync(join(dir, 'buf.gen.yaml'), 'utf8'));
    // The repository's contracts go through `refront generate`, with @refront/cli's TS_PROTO_OPTIONS.
    const cli = readFileSync(new URL('../../cli/src/generate.ts', import.meta.url), 'utf8');
    const list = /TS_PROTO_OPTIONS: readonly string\[\] = \[([^\]]*)\]/.exec(cli)?.[1] ?? '';
    const repository = [...list.matchAll(/'([^']+)'/g)].map((m) => m[1] as string);
    expect(app).toContain('outputTypeAnnotations=static-only');
    expect(app).toEqual(repository);
  });

  it('installs @refront/* from local tarballs with refrontFrom', async () => {
    const packs = scratch();
    for (const p of ['core', 'data', 'rpc', 'testing', 'transport-amqp', 'transport-grpc'])
      writeFileSync(join(packs, `refront-${p}-0.1.0.tgz`), '');
    const dir = join(scratch(), 'local');
    await createApp({ directory: dir, install: false, refrontFrom: packs, log: () => {} });
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(manifest.dependencies['@refront/core']).toBe(`file:${join(packs, 'refront-core-0.1.0.tgz')}`);
    expect(manifest.overrides['@refront/rpc']).toBe(`file:${join(packs, 'refront-rpc-0.1.0.tgz')}`);
    expect(manifest.devDependencies['@refront/testing']).toBe(
      `file:${join(packs, 'refront-testing-0.1.0.tgz')}`,
    );
  });

  it('accepts an existing empty folder', async () => {
    const dir = join(scratch(), 'empty');
    mkdirSync(dir);
    await createApp({ directory: dir, install: false, log: () => {} });
    expect(existsSync(join(dir, 'package.json'))).toBe(true);
  });

  it('refuses a folder that is not empty, and writes nothing', async () => {
    const dir = join(scratch(), 'taken');
    mkdirSync(dir);
    writeFileSync(join(dir, 'keep.txt'), 'mine');
    const error = await refusal(createApp({ directory: dir, install: false, log: () => {} }));
    expect(error.reason).toBe('DIRECTORY_NOT_EMPTY');
    expect(filesUnder(dir)).toEqual(['keep.txt']);
  });

  it('refuses a folder name that cannot name a package, before creating it', async () => {
    const dir = join(scratch(), 'My Notes');
    const error = await refusal(createApp({ directory: dir, install: false, log: () => {} }));
    expect(error.reason).toBe('INVALID_NAME');
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a refrontFrom folder without tarballs, before creating the app', async () => {
    const dir = join(scratch(), 'nopacks');
    const error = await refusal(
      createApp({ directory: dir, install: false, refrontFrom: scratch(), log: () => {} }),
    );
    expect(error.reason).toBe('BAD_REFRONT_FROM');
    expect(existsSync(dir)).toBe(false);
  });
});
