import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { appManifest } from './appManifest.js';
import {
  APP_DEPENDENCIES,
  APP_DEV_DEPENDENCIES,
  REFRONT_DEV_PACKAGES,
  REFRONT_PACKAGES,
} from './versions.js';

type Manifest = {
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  overrides?: Record<string, string>;
};
const require = createRequire(import.meta.url);
const core = require('@refront/core/package.json') as Manifest;
const data = require('@refront/data/package.json') as Manifest;
const own = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as Manifest;
const repository = JSON.parse(
  readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
) as Manifest;

const rangeIn = (m: Manifest, name: string) =>
  m.dependencies?.[name] ?? m.peerDependencies?.[name] ?? m.optionalDependencies?.[name];

describe('appManifest', () => {
  it('takes @refront/* from the registry at this release by default', () => {
    const manifest = appManifest({ name: 'my-app', refrontVersion: '1.4.0' }) as Manifest;
    for (const p of REFRONT_PACKAGES) expect(manifest.dependencies?.[p]).toBe('^1.4.0');
    expect(manifest.overrides).toBeUndefined();
    expect(manifest.dependencies).toMatchObject(APP_DEPENDENCIES);
    // The testing kit is what the app's tests import: a devDependency, at the same release.
    expect(REFRONT_DEV_PACKAGES).toEqual(['@refront/testing']);
    expect(manifest.devDependencies).toEqual({ ...APP_DEV_DEPENDENCIES, '@refront/testing': '^1.4.0' });
    expect(manifest.dependencies?.['@refront/testing']).toBeUndefined();
  });

  it('takes every @refront/* package from the tarballs when given, transitive ones through overrides', () => {
    const tarballs = Object.fromEntries(
      [...REFRONT_PACKAGES, ...REFRONT_DEV_PACKAGES, '@refront/rpc'].map((p) => [
        p,
        `file:/packs/${p.slice(1).replace('/', '-')}.tgz`,
      ]),
    );
    const manifest = appManifest({ name: 'my-app', refrontVersion: '0.1.0', tarballs }) as Manifest;
    for (const p of REFRONT_PACKAGES) expect(manifest.dependencies?.[p]).toBe(tarballs[p]);
    for (const p of REFRONT_DEV_PACKAGES) expect(manifest.devDependencies?.[p]).toBe(tarballs[p]);
    expect(manifest.overrides).toEqual(tarballs);
  });

  it('refuses tarballs that lack a package the app imports', () => {
    expect(() =>
      appManifest({ name: 'my-app', refrontVersion: '0.1.0', tarballs: { '@refront/core': 'file:/x.tgz' } }),
    ).toThrow(
      expect.objectContaining({
        reason: 'BAD_REFRONT_FROM',
        message: expect.stringMatching(/@refront\/data/),
      }),
    );
  });
});

describe('versions a new app gets', () => {
  it('@refront/* at the version of create-refront, released with them', () => {
    expect(own.version).toBe(core.version);
    expect(own.version).toBe(data.version);
  });

  it('runtime packages in the ranges the @refront/* packages use', () => {
    expect(APP_DEPENDENCIES.zod).toBe(rangeIn(core, 'zod'));
    expect(APP_DEPENDENCIES['@bufbuild/protobuf']).toBe(rangeIn(core, '@bufbuild/protobuf'));
    expect(APP_DEPENDENCIES['@electric-sql/pglite']).toBe(rangeIn(data, '@electric-sql/pglite'));
  });

  it('tools in the ranges this repository builds and tests with', () => {
    for (const [name, range] of Object.entries(APP_DEV_DEPENDENCIES)) {
      expect({ name, range }).toEqual({ name, range: repository.devDependencies?.[name] });
    }
  });
});
