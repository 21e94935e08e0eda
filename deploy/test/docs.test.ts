import { describe, expect, it } from 'vitest';
import { readRepoFile } from './paths.js';
import { serveEnvNames } from './sourceFacts.js';

describe('docs/deploy.md', () => {
  it('describes every variable the code of a service process reads, in its configuration table', () => {
    const doc = readRepoFile('docs/deploy.md');
    const rows = new Set([...doc.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
    const missing = [...serveEnvNames()].filter((name) => !rows.has(name));
    expect(missing).toEqual([]);
    expect(rows.size).toBeGreaterThanOrEqual(25);
  });

  it('is linked from the README and the architecture', () => {
    expect(readRepoFile('README.md')).toContain('docs/deploy.md');
    expect(readRepoFile('docs/architecture.md')).toContain('(deploy.md)');
  });
});
