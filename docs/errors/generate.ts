import { writeFileSync } from 'node:fs';
import { REGISTRIES } from './registries.js';
import { renderErrorsDoc } from './render.js';

/** Writes docs/errors.md from the registries (`npm run errors -w docs`). */
writeFileSync(new URL('../errors.md', import.meta.url), renderErrorsDoc(REGISTRIES));
