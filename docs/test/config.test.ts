import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configRows, renderConfigDoc } from '../config/render.js';
import { CONFIG_SOURCES } from '../config/sources.js';

const ROOT = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), 'utf8');

/** The variables of a Markdown page's tables: rows that start with `` | `NAME` | ``. */
function tableVariables(page: string): string[] {
  const rows = read(page).match(/^\| `([A-Z][A-Z0-9_]+)` \|/gm) ?? [];
  expect(rows.length, page).toBeGreaterThan(5);
  return rows.map((line) => line.slice(3, line.indexOf('`', 3)));
}

describe('docs/config.md', () => {
  it('is what the schemas say (run `npm run config -w docs` after changing one)', () => {
    expect(read('docs/config.md')).toBe(renderConfigDoc(CONFIG_SOURCES));
  });

  it('describes every variable (`.describe()` on each key)', () => {
    const undescribed = CONFIG_SOURCES.flatMap((s) =>
      configRows(s)
        .filter((r) => r.description.trim() === '')
        .map((r) => `${s.label}: ${r.name}`),
    );
    expect(undescribed).toEqual([]);
  });

  it('names files that exist, and a variable read without zod still appears in the code that reads it', () => {
    for (const source of CONFIG_SOURCES) {
      for (const file of source.files) expect(existsSync(new URL(file, ROOT)), file).toBe(true);
      if (!source.documentsOnly) continue;
      const code = source.files.map(read).join('\n');
      for (const row of configRows(source)) {
        expect(code, `${row.name} in ${source.files.join(', ')}`).toMatch(new RegExp(`\\b${row.name}\\b`));
      }
    }
  });

  it("lists every variable of docs/deploy.md's table", () => {
    const known = new Set(CONFIG_SOURCES.flatMap((s) => configRows(s).map((r) => r.name)));
    const missing = tableVariables('docs/deploy.md').filter((n) => !known.has(n));
    expect(missing).toEqual([]);
  });

  it("has the same variables as the new app's README", () => {
    const app = CONFIG_SOURCES.find((s) =>
      s.files.includes('packages/create-refront/template/src/config.ts'),
    );
    const names = configRows(app ?? CONFIG_SOURCES[0]!).map((r) => r.name);
    expect(tableVariables('packages/create-refront/template/README.md').sort()).toEqual(names.sort());
  });
});
