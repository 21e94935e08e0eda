import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type PeerCertificate, type TLSSocket } from 'node:tls';
import { defaultPeerIdentity } from '@refront/core/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevCertificates, type DevCertificates } from './devCertificates.js';
import { mutualTls } from './serviceTls.js';
import { serviceOfSpiffeId } from './spiffe.js';

let dir: string;
let certs: DevCertificates;
let strangers: DevCertificates;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'refront-identity-'));
  certs = await createDevCertificates({ dir: join(dir, 'a'), services: ['gateway', 'tickets'] });
  strangers = await createDevCertificates({ dir: join(dir, 'b'), services: ['gateway'] });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function pem(file: string): Promise<X509Certificate> {
  return new X509Certificate(await readFile(file));
}

/** Serves `tickets` with mutual TLS; resolves with what the server saw of one client, or the client's error. */
async function handshake(client: {
  readonly caFile: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly serverName: string;
}): Promise<{ peer?: string; error?: string }> {
  const tls = mutualTls(certs.files('tickets')).server;
  const seen: string[] = [];
  const server = createServer(
    {
      cert: await readFile(tls.certFile),
      key: await readFile(tls.keyFile),
      ca: await readFile(tls.clientCaFile),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket: TLSSocket) => {
      seen.push(defaultPeerIdentity(socket.getPeerCertificate() as PeerCertificate) ?? '');
      socket.end('ok');
    },
  );
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port,
        servername: client.serverName,
        ca: readFileSync(client.caFile),
        ...(client.certFile && client.keyFile
          ? { cert: readFileSync(client.certFile), key: readFileSync(client.keyFile) }
          : {}),
      });
      let data = '';
      socket.on('data', (d) => {
        data += String(d);
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    return answer === 'ok' ? { peer: seen[0] as string } : { error: `server closed (${answer})` };
  } catch (e) {
    return { error: (e as Error).message };
  } finally {
    await new Promise((r) => server.close(r));
  }
}

describe('createDevCertificates', () => {
  it('issues each service a certificate from the CA, naming its SPIFFE id first and its DNS name', async () => {
    const ca = await pem(certs.caFile);
    const leaf = await pem(certs.files('tickets').certFile);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe('URI:spiffe://refront.local/tickets, DNS:tickets');
    expect(leaf.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    expect(leaf.checkIssued(await pem(strangers.caFile))).toBe(false);
  });

  it('writes keys readable by their owner only, and never the CA key', async () => {
    expect((await stat(certs.files('tickets').keyFile)).mode & 0o777).toBe(0o600);
    await expect(stat(join(certs.dir, 'ca.key'))).rejects.toThrow(/ENOENT/);
  });

  it("gives the server its caller's SPIFFE id over mutual TLS", async () => {
    const client = mutualTls(certs.files('gateway')).client('tickets');
    const { peer, error } = await handshake(client);
    expect(error).toBeUndefined();
    expect(peer).toBe('spiffe://refront.local/gateway');
    expect(serviceOfSpiffeId()(peer as string)).toBe('gateway');
  });

  it('refuses a client without a certificate, or with one from another CA', async () => {
    const noCert = await handshake({ caFile: certs.caFile, serverName: 'tickets' });
    expect(noCert.peer).toBeUndefined();
    const stranger = await handshake({
      ...strangers.files('gateway'),
      caFile: certs.caFile,
      serverName: 'tickets',
    });
    expect(stranger.peer).toBeUndefined();
    expect(stranger.error).toBeDefined();
  });

  it('lets a client refuse a server whose certificate names another service', async () => {
    const client = mutualTls(certs.files('gateway')).client('invoicing');
    const { peer, error } = await handshake(client);
    expect(peer).toBeUndefined();
    expect(error).toMatch(/invoicing/);
  });

  it('refuses names that are not plain, and an empty list', async () => {
    for (const services of [['Tickets'], ['a/b'], []]) {
      await expect(createDevCertificates({ dir: join(dir, 'c'), services })).rejects.toMatchObject({
        reason: 'CORE_INVALID_OPTION',
      });
    }
    await expect(
      createDevCertificates({ dir: join(dir, 'c'), services: ['x'], trustDomain: 'Bad Domain' }),
    ).rejects.toMatchObject({ reason: 'CORE_INVALID_OPTION' });
    expect(() => certs.files('ai')).toThrow(/no development certificate/);
  });
});
