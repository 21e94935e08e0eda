/**
 * Writes the deploy files the service registry decides (`npm run generate -w deploy`, and
 * `npm run refront:services` at the root, which `refront new service` runs): see derivedFiles.
 */
import { writeFileSync } from 'node:fs';
import { PLATFORM_MODULES } from '@refront/demo/deploy';
import { derivedFiles } from './derivedFiles.js';

const root = new URL('../../', import.meta.url);
const files = derivedFiles(PLATFORM_MODULES, root);
for (const [path, text] of Object.entries(files)) writeFileSync(new URL(path, root), text);
console.log(`deploy: wrote ${Object.keys(files).length} files from ${PLATFORM_MODULES.length} services`);
