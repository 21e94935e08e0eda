import { writeFileSync } from 'node:fs';
import { renderConfigDoc } from './render.js';
import { CONFIG_SOURCES } from './sources.js';

/** Writes docs/config.md from the config schemas (`npm run config -w docs`). */
writeFileSync(new URL('../config.md', import.meta.url), renderConfigDoc(CONFIG_SOURCES));
