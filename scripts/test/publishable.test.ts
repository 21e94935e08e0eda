import { existsSync, readFileSync } from 'node:fs';
import { join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishable, ROOT, readManifest, repositoryWebUrl } from './publishable.js';

/**
 * What every package published to npm carries besides its code: the license text, where it
 * comes from, and a README that works on the registry (no link into the repository by relative
 * path, no example importing a package that is not published). The repository address is
 * written once, in the root package.json's `repository`; everything here is checked against it.
 */
const root = readManifest('.');
const web = repositoryWebUrl();

describe('the root package.json', () => {
  it('names the repository, its home page and where to report bugs', () => {
    expect(root.repository?.url).toMatch(/^git\+https:\/\/github\.com\/[^/]+\/[^/]+\.git$/);
    expect(root.homepage).toBe(`${web}#readme`);
    expect(root.bugs?.url).toBe(`${web}/issues`);
  });

  it('has the Apache-2.0 license text at the root', () => {
    const text = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(root.license).toBe('Apache-2.0');
    expect(text).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(text).toContain('END OF TERMS AND CONDITIONS');
    expect(text).toContain('APPENDIX: How to apply the Apache License to your work.');
  });

  it('finds publishable packages', () => {
    expect(publishable.map((w) => w.manifest.name)).toContain('@refront/core');
  });
});

describe.each(publishable)('$manifest.name', ({ dir, manifest }) => {
  it('ships the root LICENSE and declares Apache-2.0', () => {
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.files).toContain('LICENSE');
    expect(readFileSync(join(ROOT, dir, 'LICENSE'), 'utf8')).toBe(
      readFileSync(join(ROOT, 'LICENSE'), 'utf8'),
    );
  });

  it('points at its folder of the repository, its README and the issue tracker', () => {
    expect(manifest.repository).toEqual({ type: 'git', url: root.repository?.url, directory: dir });
    expect(manifest.homepage).toBe(`${web}/tree/main/${dir}#readme`);
    expect(manifest.bugs).toEqual({ url: root.bugs?.url });
  });

  const readme = readFileSync(join(ROOT, dir, 'README.md'), 'utf8');

  it('README: no relative link leaves the package; links into the repository name existing files', () => {
    const problems: string[] = [];
    for (const target of linksOf(readme)) {
      const path = target.split('#')[0] ?? '';
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
        const repoPath = repositoryPathOf(target);
        if (repoPath === 'other-repository') problems.push(`${target}: not ${web}`);
        else if (repoPath !== undefined && !existsSync(join(ROOT, repoPath)))
          problems.push(`${target}: ${repoPath} does not exist`);
      } else if (path !== '' && relative(dir, normalize(join(dir, path))).startsWith('..')) {
        problems.push(`${target}: relative, leaves the package (use ${web}/blob/main/…)`);
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('README: examples import published packages only', () => {
    const published = new Set(publishable.map((w) => w.manifest.name));
    const imported = codeBlocksOf(readme).flatMap((code) =>
      [...code.matchAll(/(?:from\s*|import\s*\(?\s*)['"](@refront\/[^'"/]+)/g)].map((m) => m[1] as string),
    );
    const unpublished = imported.filter((name) => !published.has(name));
    expect(unpublished, `not published: ${unpublished.join(', ')}`).toEqual([]);
  });
});

/** The targets of the Markdown links and images of `md` (outside code blocks). */
function linksOf(md: string): string[] {
  const prose = md.replace(/^```[\s\S]*?^```/gm, '');
  return [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)|^\s*\[[^\]]+\]:\s*(\S+)/gm)].map(
    (m) => (m[1] ?? m[2]) as string,
  );
}

/** The bodies of the fenced code blocks of `md`. */
function codeBlocksOf(md: string): string[] {
  return [...md.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].map((m) => m[1] as string);
}

/**
 * For a link to a file of this repository on GitHub (`<web>/blob|tree/<ref>/<path>`), its path;
 * `other-repository` for a GitHub link that names this project under another address (a stale
 * or mistyped repository URL); undefined for any other address.
 */
function repositoryPathOf(url: string): string | undefined {
  const clean = url.split('#')[0] ?? '';
  if (clean.startsWith(`${web}/`) || clean === web) {
    const m = /^\/(?:blob|tree)\/[^/]+\/(.+)$/.exec(clean.slice(web.length));
    return m ? decodeURIComponent(m[1] as string) : undefined;
  }
  return /^https:\/\/github\.com\/[^/]+\/refront(?:[/#?]|$)/.test(url) ? 'other-repository' : undefined;
}
