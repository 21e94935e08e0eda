import { PLATFORM_MODULES, type ServiceModule } from '@refront/demo/deploy';
import { describe, expect, it } from 'vitest';
import { derivedFiles } from '../derived/derivedFiles.js';
import { renderRegions, serviceManifest } from '../derived/render.js';
import { readRepoFile } from './paths.js';

const ROOT = new URL('../../', import.meta.url);

describe('the deploy files the service registry decides', () => {
  it('are committed as generated (run `npm run generate -w deploy` after changing src/platform/services.ts)', () => {
    const files = derivedFiles(PLATFORM_MODULES, ROOT);
    expect(Object.keys(files).length).toBe(8 + PLATFORM_MODULES.length);
    for (const [path, text] of Object.entries(files))
      expect({ path, text: readRepoFile(path) }).toEqual({ path, text });
  });

  it('give a new service its Compose service, manifests, certificate, policy, secret key and DNS names', () => {
    const extra: ServiceModule = {
      ...(PLATFORM_MODULES[0] as ServiceModule),
      name: 'billing-alerts',
      callers: { gateway: '*' },
    };
    const files = derivedFiles([...PLATFORM_MODULES, extra], ROOT);
    expect(files['deploy/k8s/billing-alerts.yaml']).toBe(serviceManifest('billing-alerts'));
    expect(files['deploy/compose.yaml']).toContain('  billing-alerts:\n    <<: *refront-service');
    expect(files['deploy/compose.yaml']).toContain(', billing-alerts, console]\n');
    expect(files['deploy/compose.yaml']).toContain(';billing-alerts=billing-alerts:9464\n');
    expect(files['deploy/k8s/console.yaml']).toContain(
      ';billing-alerts=billing-alerts-ops.refront.svc.cluster.local:9464\n',
    );
    expect(files['deploy/k8s/kustomization.yaml']).toContain('  - billing-alerts.yaml\n');
    expect(files['deploy/k8s/certificates.yaml']).toContain('spiffe://refront.local/billing-alerts');
    expect(files['deploy/k8s/secret.yaml']).toContain('AMQP_URL_BILLING_ALERTS: amqp://billing-alerts:');
    expect(files['deploy/k8s/config.yaml']).toContain(
      'billing-alerts-mux=billing-alerts.refront.svc.cluster.local:51051',
    );
    expect(files['deploy/rabbitmq/definitions.json']).toContain('"name": "billing-alerts"');
    const regions = renderRegions([...PLATFORM_MODULES, extra])['deploy/k8s/network-policies.yaml'];
    expect(regions?.services).toContain(
      '# billing-alerts: its lanes from its declared callers and the operators (console, gateway);',
    );
  });
});
