import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevCertificates, type DevCertificates } from '@refront/identity';
import { findInfra } from '@refront/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { checkCertificates, checkNode } from './doctor.js';
import { collect } from './testing/infra.js';

const pgUrl = await findInfra('postgres');
const amqpUrl = await findInfra('rabbitmq');
const up = pgUrl !== undefined && amqpUrl !== undefined;
const PG_URL = pgUrl ?? '';
const AMQP_URL = amqpUrl ?? '';
let dir: string;
let a: DevCertificates;
let b: DevCertificates;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'refront-doctor-'));
  a = await createDevCertificates({ dir: join(dir, 'a'), services: ['tickets'] });
  b = await createDevCertificates({ dir: join(dir, 'b'), services: ['tickets'], validityDays: 3 });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tlsEnv(certs: DevCertificates, ca = certs.caFile, key = certs.files('tickets').keyFile) {
  return { TLS_CA_FILE: ca, TLS_CERT_FILE: certs.files('tickets').certFile, TLS_KEY_FILE: key };
}

async function doctor(env: Record<string, string>) {
  const out = collect();
  const code = await runCli(['doctor', '--timeout', '2000'], out, { env });
  return { code, out: out.out.join('\n'), err: out.err.join('\n') };
}

describe.skipIf(!up)('refront doctor against the real servers', () => {
  it('passes with PostgreSQL, RabbitMQ and matching certificates', async () => {
    const r = await doctor({ DATABASE_URL: PG_URL, AMQP_URL, ...tlsEnv(a) });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ok {3}database {5}PostgreSQL \d+/m);
    expect(r.out).toMatch(/^ok {3}broker {7}RabbitMQ \d+/m);
    expect(r.out).toMatch(
      /^ok {3}certificates URI:spiffe:\/\/refront\.local\/tickets.* issued by the CA, valid \d+ more day\(s\)$/m,
    );
    expect(r.out).toContain('amqp://guest:***@');
    expect(r.out).toMatch(/doctor: no failure$/);
  });

  it('fails on wrong ports and an unreachable Consul, saying what to fix, exit 1', async () => {
    const r = await doctor({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5999/postgres',
      AMQP_URL: 'amqp://guest:guest@127.0.0.1:5998',
      CONSUL_HTTP_ADDR: '127.0.0.1:5997',
      ...tlsEnv(a),
    });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /FAIL database {5}PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:5999\/postgres: ECONNREFUSED/,
    );
    expect(r.err).toMatch(/FAIL broker {7}RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:5998: ECONNREFUSED/);
    expect(r.err).toMatch(/FAIL consul {7}Consul at http:\/\/127\.0\.0\.1:5997: .*ECONNREFUSED/);
    expect(r.err).toContain('fix: start PostgreSQL');
    expect(r.err).toContain('fix: start RabbitMQ');
    expect(r.err).toContain('fix: start the Consul agent');
    expect(r.out).toMatch(/doctor: 3 failure\(s\)$/);
  });

  it('fails on refused broker credentials with the right fix', async () => {
    const r = await doctor({
      DATABASE_URL: PG_URL,
      AMQP_URL: 'amqp://guest:wrong@127.0.0.1:5672',
      ...tlsEnv(a),
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain('fix: the broker refused the user or password');
  });
});

describe('certificates', () => {
  it('refuses a certificate from another CA, a key of another certificate, and missing files', () => {
    const otherCa = checkCertificates(tlsEnv(a, b.caFile), 14);
    expect(otherCa.status).toBe('fail');
    expect(otherCa.detail).toContain('is not signed by the CA');
    const otherKey = checkCertificates(tlsEnv(a, a.caFile, b.files('tickets').keyFile), 14);
    expect([otherKey.status, otherKey.detail]).toEqual([
      'fail',
      'TLS_KEY_FILE is not the key of TLS_CERT_FILE',
    ]);
    const missing = checkCertificates({ ...tlsEnv(a), TLS_CERT_FILE: join(dir, 'none.crt') }, 14);
    expect([missing.status, missing.detail]).toEqual([
      'fail',
      `TLS_CERT_FILE=${join(dir, 'none.crt')} does not exist`,
    ]);
  });

  it('warns on a certificate that expires soon and fails on an expired one', () => {
    const soon = checkCertificates(tlsEnv(b), 14);
    expect([soon.status, soon.fix]).toEqual(['warn', 'renew the certificate before it expires']);
    const later = new Date(Date.now() + 4 * 86_400_000);
    const expired = checkCertificates(tlsEnv(b), 14, later);
    expect(expired.status).toBe('fail');
    expect(expired.detail).toMatch(/^the CA expired on .*; the certificate expired on /);
  });

  it('refuses a file that is no certificate', () => {
    const notPem = join(dir, 'not.crt');
    copyFileSync(a.files('tickets').keyFile, notPem);
    const r = checkCertificates(tlsEnv(a, notPem), 14);
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/^not a PEM certificate/);
  });
});

describe('node', () => {
  it('compares versions numerically', () => {
    expect(checkNode('20.19.0', '20.19.0').status).toBe('ok');
    expect(checkNode('22.1.0', '20.19.0').status).toBe('ok');
    expect(checkNode('20.9.0', '20.19.0')).toMatchObject({
      status: 'fail',
      detail: 'Node.js 20.9.0 is older than 20.19.0',
    });
  });
});
