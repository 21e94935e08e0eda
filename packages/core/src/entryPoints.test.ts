import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as main from './index.js';
import * as transport from './transport.js';

/** The names an entry point's source exports, types included (read from the file). */
function exportedNames(file: string): string[] {
  const source = readFileSync(new URL(file, import.meta.url), 'utf8');
  const names: string[] = [];
  for (const m of source.matchAll(/export (?:type )?\{([^}]*)\}/g)) {
    for (const item of m[1]!.split(',')) {
      const name = item
        .trim()
        .replace(/^type /, '')
        .split(' as ')
        .pop()
        ?.trim();
      if (name) names.push(name);
    }
  }
  return names;
}

describe('core entry points', () => {
  it('keeps the application entry small: under 70 names, types included', () => {
    const names = exportedNames('./index.ts');
    expect(names.length).toBeGreaterThan(40);
    expect(names.length).toBeLessThan(70);
  });

  it('exports each name from one entry only', () => {
    const inMain = new Set(exportedNames('./index.ts'));
    expect(exportedNames('./transport.ts').filter((n) => inMain.has(n))).toEqual([]);
  });

  it('shares one module graph: values from either entry are the same objects', () => {
    expect(transport.invalidOption('x')).toBeInstanceOf(main.RefrontError);
    expect(Object.keys(main)).toContain('createService');
    expect(Object.keys(transport)).toContain('createDispatcher');
  });
});
