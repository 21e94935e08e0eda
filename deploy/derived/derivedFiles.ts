import { readFileSync } from 'node:fs';
import type { ServiceModule } from '@refront/demo/deploy';
import { committedDefinitions } from '../test/rabbitmqFacts.js';
import { replaceRegions } from './regions.js';
import { consoleManifest, renderRegions, serviceManifest } from './render.js';

/**
 * Every deploy file the service registry decides, as it must be committed (path from the
 * repository root → text): the services' regions of compose.yaml and the Kubernetes files,
 * one `k8s/<service>.yaml` per service, `k8s/console.yaml` (its ops Services list them), and the broker's users (rabbitmq/definitions.json).
 * `npm run generate -w deploy` writes them; `refront new service` runs it (the root package's
 * `refront:services` script); deploy/test/derived.test.ts fails when one differs.
 */
export function derivedFiles(modules: readonly ServiceModule[], root: URL): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [path, regions] of Object.entries(renderRegions(modules)))
    files[path] = replaceRegions(path, readFileSync(new URL(path, root), 'utf8'), regions);
  for (const m of modules) files[`deploy/k8s/${m.name}.yaml`] = serviceManifest(m.name);
  files['deploy/k8s/console.yaml'] = consoleManifest(modules);
  files['deploy/rabbitmq/definitions.json'] = committedDefinitions(modules);
  return files;
}
