import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REGISTRIES } from '../errors/registries.js';
import { renderErrorsDoc, sectionAnchor } from '../errors/render.js';

const doc = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('docs/errors.md', () => {
  it('is what the registries say (run `npm run errors -w docs` after changing one)', () => {
    expect(doc('../errors.md')).toBe(renderErrorsDoc(REGISTRIES));
  });

  it('lists every reason once, under its own anchor', () => {
    const reasons = REGISTRIES.flatMap((p) => Object.values(p.errors).map((f) => f.reason));
    expect(new Set(reasons).size).toBe(reasons.length);
    const page = doc('../errors.md');
    for (const p of REGISTRIES) {
      for (const f of Object.values(p.errors)) {
        expect(f.docs).toBe(`docs/errors.md#${f.reason.toLowerCase()}`);
        expect(page).toContain(`<a id="${f.reason.toLowerCase()}"></a>\`${f.reason}\``);
      }
    }
  });

  it("is linked from each listed package's README", () => {
    for (const p of REGISTRIES) {
      const folder = p.name.replace('@refront/', '');
      expect(doc(`../../packages/${folder}/README.md`)).toContain(`docs/errors.md#${sectionAnchor(p.name)}`);
    }
  });
});
