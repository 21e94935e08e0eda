/**
 * The links of the guides lead somewhere: each relative link names a file of the repository and,
 * with an anchor into a Markdown page, a heading (GitHub's slug) or an `<a id>` of that page.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The pages whose links are checked. */
const PAGES = [
  'README.md',
  'docs/getting-started.md',
  'docs/config.md',
  'docs/deploy.md',
  'docs/error-model.md',
  'docs/observability.md',
  'docs/migrating-from-nestjs.md',
  'docs/migrating-from-moleculer.md',
];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a Markdown page has: its headings' slugs and its `<a id="…">`s. */
function anchorsOf(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6} (.*)$/.exec(line);
    if (heading?.[1]) out.add(slug(heading[1]));
  }
  for (const m of markdown.matchAll(/<a id="([^"]+)"/g)) if (m[1]) out.add(m[1]);
  return out;
}

/** The relative link targets of a page, outside code blocks and spans. */
function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] as string)
    .filter((t) => !/^[a-z]+:/i.test(t));
}

describe('the links of the guides', () => {
  for (const page of PAGES) {
    it(`${page}: every relative link and anchor resolves`, () => {
      const markdown = readFileSync(join(ROOT, page), 'utf8');
      const broken: string[] = [];
      for (const link of linksOf(markdown)) {
        const [path = '', anchor] = link.split('#');
        const target = path === '' ? join(ROOT, page) : join(ROOT, dirname(page), path);
        if (!existsSync(target)) {
          broken.push(`${link}: no such file`);
          continue;
        }
        if (anchor && target.endsWith('.md') && !anchorsOf(readFileSync(target, 'utf8')).has(anchor)) {
          broken.push(`${link}: no such anchor`);
        }
      }
      expect(broken).toEqual([]);
    });
  }
});
