import type { RabbitmqDefinitions } from '@refront/demo/deploy';
import { brokerUserOf, loadServeConfig, PLATFORM_MODULES } from '@refront/demo/deploy';
import { describe, expect, it } from 'vitest';
import { containerEnv, loadCompose } from './composeFile.js';
import { deploymentOf, loadK8s } from './k8sObjects.js';
import { readRepoFile } from './paths.js';
import { amqpSecretKey, CONSOLE_ADMIN, committedDefinitions, DEAD_LETTER_OPERATOR } from './rabbitmqFacts.js';

const FILE = 'deploy/rabbitmq/definitions.json';
const committed = readRepoFile(FILE);
const definitions = JSON.parse(committed) as RabbitmqDefinitions;
const platform = PLATFORM_MODULES.map((m) => m.name);
const passwordOf = (user: string) => definitions.users.find((u) => u.name === user)?.password;

describe('deploy/rabbitmq/definitions.json: one broker user per service (decision 0049)', () => {
  it('is what the modules generate (npm run generate -w deploy), so it cannot drift from servicePermissions', () => {
    expect(committed).toBe(committedDefinitions(PLATFORM_MODULES));
  });

  it('has a user per service with development placeholder passwords, and no service administrator', () => {
    expect(definitions.users.map((u) => u.name).sort()).toEqual(
      [CONSOLE_ADMIN, DEAD_LETTER_OPERATOR, ...platform].sort(),
    );
    // The Refront console replays dead letters keeping their user-id: an impersonator that may
    // only read the DLQs and write the default exchange.
    const operator = definitions.permissions.find((p) => p.user === DEAD_LETTER_OPERATOR);
    expect(definitions.users.find((u) => u.name === DEAD_LETTER_OPERATOR)?.tags).toEqual(['impersonator']);
    expect([operator?.configure, operator?.write]).toEqual(['^$', '^amq\\.default$']);
    expect(new RegExp(operator?.read ?? '').test('refront.ai.dlq')).toBe(true);
    expect(new RegExp(operator?.read ?? '').test('refront.ai')).toBe(false);
    for (const s of platform) {
      expect(passwordOf(s), s).toMatch(/^dev-only-/);
      expect(definitions.users.find((u) => u.name === s)?.tags, s).toEqual([]);
    }
    // A service may write only its own exchanges: ai's user is not allowed tickets' exchange.
    const ai = definitions.permissions.find((p) => p.user === 'ai');
    expect(new RegExp(ai?.write ?? '').test('refront.refront.ai.v1')).toBe(true);
    expect(new RegExp(ai?.write ?? '').test('refront.refront.tickets.v1')).toBe(false);
  });

  it('Compose loads it and gives each service the URL of its own user and password', () => {
    const compose = loadCompose();
    const rabbit = compose.services.rabbitmq as { volumes?: string[] };
    expect(rabbit.volumes).toEqual(
      expect.arrayContaining([
        './rabbitmq/definitions.json:/etc/rabbitmq/definitions.json:ro',
        './rabbitmq/refront.conf:/etc/rabbitmq/conf.d/90-refront.conf:ro',
      ]),
    );
    expect(readRepoFile('deploy/rabbitmq/refront.conf')).toMatch(
      /^load_definitions = \/etc\/rabbitmq\/definitions\.json$/m,
    );
    for (const s of platform) {
      const env = containerEnv(compose.services[s] as Parameters<typeof containerEnv>[0]);
      const url = new URL(env.AMQP_URL ?? '');
      expect([s, url.username, url.password]).toEqual([s, brokerUserOf(s), passwordOf(s)]);
      // The service's own config accepts it with ownership on (the default).
      expect(loadServeConfig(env).AMQP_OWNERSHIP).toBe('on');
    }
  });

  it('Kubernetes gives each service the URL of its own user from its own Secret key', () => {
    const k8s = loadK8s('deploy/k8s');
    const secret = k8s.secrets.find((x) => x.metadata.name === 'refront-secrets');
    for (const s of platform) {
      const container = deploymentOf(k8s, s).spec.template.spec.containers[0];
      const ref = container?.env?.find((e) => e.name === 'AMQP_URL')?.valueFrom?.secretKeyRef;
      expect({ s, ref }).toEqual({ s, ref: { name: 'refront-secrets', key: amqpSecretKey(s) } });
      const url = new URL(secret?.stringData[amqpSecretKey(s)] ?? '');
      expect([s, url.username, url.password]).toEqual([s, brokerUserOf(s), 'CHANGE-ME']);
    }
    expect(secret?.stringData.AMQP_URL).toBeUndefined();
  });
});
