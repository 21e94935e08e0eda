import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { refrontTarballs } from './refrontFrom.js';

function folderWith(files: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'create-refront-packs-'));
  for (const f of files) writeFileSync(join(dir, f), '');
  return dir;
}

describe('refrontTarballs', () => {
  it('maps each @refront/* tarball npm pack made to a file: spec, and nothing else', () => {
    const dir = folderWith([
      'refront-core-0.1.0.tgz',
      'refront-transport-grpc-0.1.0.tgz',
      'refront-data-1.2.3-rc.1.tgz',
      'create-refront-0.1.0.tgz',
      'notes.txt',
    ]);
    expect(refrontTarballs(dir)).toEqual({
      '@refront/core': `file:${join(dir, 'refront-core-0.1.0.tgz')}`,
      '@refront/data': `file:${join(dir, 'refront-data-1.2.3-rc.1.tgz')}`,
      '@refront/transport-grpc': `file:${join(dir, 'refront-transport-grpc-0.1.0.tgz')}`,
    });
  });

  it('refuses a folder without tarballs, and a missing folder', () => {
    expect(() => refrontTarballs(folderWith(['create-refront-0.1.0.tgz']))).toThrow(
      expect.objectContaining({ reason: 'BAD_REFRONT_FROM', message: expect.stringMatching(/no @refront/) }),
    );
    expect(() => refrontTarballs(join(tmpdir(), 'create-refront-no-such-folder'))).toThrow(
      expect.objectContaining({ reason: 'BAD_REFRONT_FROM', message: expect.stringMatching(/not a folder/) }),
    );
  });
});
