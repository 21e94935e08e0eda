/**
 * Writes deploy/rabbitmq/definitions.json from the demo's modules (`npm run definitions -w deploy`):
 * one broker user per service with the permissions of `servicePermissions`, development placeholder
 * passwords, and the Compose console's administrator. deploy/test/rabbitmq.test.ts fails when the
 * committed file differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { PLATFORM_MODULES } from '@refront/demo/deploy';
import { committedDefinitions } from '../test/rabbitmqFacts.js';

writeFileSync(new URL('./definitions.json', import.meta.url), committedDefinitions(PLATFORM_MODULES));
