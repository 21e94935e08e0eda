import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { serviceNames } from './names.js';
import { REGISTRY_FILE, register } from './newService.js';
import { collect } from './testing/infra.js';

const REGISTRY = `import { aiModule } from '../ai/module.js';
import { ticketsModule } from '../tickets/module.js';
import type { ServiceModule } from './module.js';

export const PLATFORM_MODULES: readonly ServiceModule[] = [
  ticketsModule,
  aiModule,
  // refront:services (added above this line)
];
`;

describe('service names', () => {
  it('spells a name for each place it goes', () => {
    expect(serviceNames('billing-alerts')).toEqual({
      name: 'billing-alerts',
      folder: 'billingalerts',
      protoPackage: 'billing_alerts',
      pascal: 'BillingAlerts',
      camel: 'billingAlerts',
      upper: 'BILLING_ALERTS',
    });
  });

  it('refuses what is not a service name, or is reserved', () => {
    for (const bad of ['Billing', 'billing_alerts', '-x', 'x-', 'a--b', '1abc', ''])
      expect(serviceNames(bad), bad).toMatch(/is not a service name/);
    expect(serviceNames('gateway')).toMatch(/is reserved/);
    expect(serviceNames(`a${'b'.repeat(40)}`)).toMatch(/longer than 40/);
  });
});

describe('the registry edit', () => {
  it('adds the import in sorted place and the entry above the marker', () => {
    const out = register(REGISTRY, 'billingalerts', 'billingAlertsModule');
    expect(out).toBe(`import { aiModule } from '../ai/module.js';
import { billingAlertsModule } from '../billingalerts/module.js';
import { ticketsModule } from '../tickets/module.js';
import type { ServiceModule } from './module.js';

export const PLATFORM_MODULES: readonly ServiceModule[] = [
  ticketsModule,
  aiModule,
  billingAlertsModule,
  // refront:services (added above this line)
];
`);
    expect(register(REGISTRY, 'aaa', 'aaaModule').split('\n')[0]).toBe(
      "import { aaaModule } from '../aaa/module.js';",
    );
    expect(register(REGISTRY, 'zzz', 'zzzModule').split('\n')[2]).toBe(
      "import { zzzModule } from '../zzz/module.js';",
    );
  });
});

describe('refront new service refusals', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function run(cwd: string, name: string) {
    const out = collect();
    const code = await runCli(['new', 'service', name], out, { cwd });
    return { code, err: out.err.join('\n') };
  }

  it('refuses outside a workspace, a bad name, a registry without its marker, and an existing folder', async () => {
    root = mkdtempSync(join(tmpdir(), 'refront-new-'));
    expect(await run(root, 'notes')).toEqual({
      code: 1,
      err: `refront: no ${REGISTRY_FILE} in ${root} or above: run refront new service inside a workspace package laid out like examples/refront-demo`,
    });
    mkdirSync(join(root, 'src', 'platform'), { recursive: true });
    writeFileSync(join(root, REGISTRY_FILE), REGISTRY.replace('// refront:services', '// the end'));
    expect((await run(root, 'notes')).err).toMatch(/has no "\/\/ refront:services" line/);
    expect((await run(root, 'Notes')).code).toBe(2);
    writeFileSync(join(root, REGISTRY_FILE), REGISTRY);
    mkdirSync(join(root, 'src', 'notes'));
    expect(await run(root, 'notes')).toEqual({
      code: 1,
      err: `refront: ${join(root, 'src', 'notes')} already exists`,
    });
    // Nothing was written by the refusals.
    expect(readFileSync(join(root, REGISTRY_FILE), 'utf8')).toBe(REGISTRY);
  });
});
