import { X509Certificate } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { createClient } from '@refront/core';
import { createDevCertificates, type DevCertificates, type ServiceTlsFiles } from '@refront/identity';
import { capturingLogger } from '@refront/rpc-testing';
import { EchoServiceDefinition } from '@refront/test-contracts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEchoProbe } from './echoProbe.js';
import { CONFORMANCE_CALLER, served } from './environment.js';
import type { TransportFactory } from './TransportFactory.js';

/** The DNS name every test certificate carries; clients dial 127.0.0.1 and check this name. */
const NAME = 'echo.test';
/** A reload happens within a few ms of the swap; this only bounds a hang. */
const RELOAD = { timeout: 10_000, interval: 20 };

interface Pems {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

const pems = (f: ServiceTlsFiles, ca: Buffer = readFileSync(f.caFile)): Pems => ({
  ca,
  cert: readFileSync(f.certFile),
  key: readFileSync(f.keyFile),
});

const serialOf = (cert: Buffer): string => new X509Certificate(cert).serialNumber.toUpperCase();

/**
 * A Secret volume as kubelet writes it: the files link into `..data`, a link to a versioned
 * directory; an update writes a new directory and renames a new `..data` link over the old one.
 */
function secretVolume(root: string, name: string, first: Pems) {
  const dir = join(root, name);
  mkdirSync(dir);
  let n = 0;
  const swap = (m: Pems): void => {
    const version = `..2026_${n++}`;
    mkdirSync(join(dir, version));
    writeFileSync(join(dir, version, 'ca.crt'), m.ca);
    writeFileSync(join(dir, version, 'tls.crt'), m.cert);
    writeFileSync(join(dir, version, 'tls.key'), m.key);
    symlinkSync(version, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  swap(first);
  const files = {
    caFile: join(dir, 'ca.crt'),
    certFile: join(dir, 'tls.crt'),
    keyFile: join(dir, 'tls.key'),
  };
  for (const f of ['ca.crt', 'tls.crt', 'tls.key']) symlinkSync(`..data/${f}`, join(dir, f));
  return {
    swap,
    server: { certFile: files.certFile, keyFile: files.keyFile, clientCaFile: files.caFile },
    client: { ...files, serverName: NAME },
  };
}

/** The serial of the certificate a server presents to a new TLS connection from `client`. */
function presentedSerial(address: string, client: Pems): Promise<string> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host,
        port,
        servername: NAME,
        ca: client.ca,
        cert: client.cert,
        key: client.key,
        ALPNProtocols: ['h2'],
      },
      () => {
        resolve(socket.getPeerCertificate().serialNumber.toUpperCase());
        socket.destroy();
      },
    );
    socket.once('error', reject);
  });
}

/** Two CAs (`a`, `b`) and their certificates, made once per test file (signing takes seconds). */
let issued: Promise<{ a: DevCertificates; b: DevCertificates }> | undefined;

function certificates(): Promise<{ a: DevCertificates; b: DevCertificates }> {
  issued ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refront-rotation-certs-'));
    const [a, b] = await Promise.all([
      createDevCertificates({
        dir: join(dir, 'a'),
        services: ['echo', 'echo-next', 'billing'],
        extraDnsNames: [NAME],
      }),
      createDevCertificates({ dir: join(dir, 'b'), services: ['echo', 'billing'], extraDnsNames: [NAME] }),
    ]);
    return { a, b };
  })();
  return issued;
}

async function fixture() {
  const root = mkdtempSync(join(tmpdir(), 'refront-rotation-'));
  const { a, b } = await certificates();
  const cap = capturingLogger('info');
  const reloads = (): number => cap.lines.filter((l) => l.msg === 'TLS files reloaded').length;
  return { root, a, b, cap, reloads, [Symbol.dispose]: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * Registers the certificate rotation cases (capability `tls`, network lanes: `addressOf`): TLS
 * files swapped the way kubelet updates a Secret volume reach new connections of a running
 * server and channel, open connections keep going, and a torn rotation is refused.
 */
export function describeRotationCases<H>(factory: TransportFactory<H>): void {
  const addressOf = factory.addressOf?.bind(factory);
  if (!addressOf) return;

  async function serve(
    tls: { certFile: string; keyFile: string; clientCaFile: string },
    logger: ReturnType<typeof capturingLogger>['logger'],
    port?: number,
  ) {
    const probe = createEchoProbe();
    return factory.startServer({
      service: 'echo',
      logger,
      contracts: [served(probe.implementation)],
      auth: {},
      tls,
      ...(port === undefined ? {} : { port }),
    });
  }

  describe('TLS rotation without a restart', () => {
    beforeAll(() => certificates().then(() => undefined));
    afterAll(async () => {
      const { a } = await certificates();
      rmSync(join(a.dir, '..'), { recursive: true, force: true });
    });
    it('a new handshake gets the rotated server certificate, the open connection keeps serving, a mismatched key is refused', async () => {
      using f = await fixture();
      const echo = pems(f.a.files('echo'));
      const next = pems(f.a.files('echo-next'));
      const billing = pems(f.a.files('billing'));
      const serverVolume = secretVolume(f.root, 'server', echo);
      const clientVolume = secretVolume(f.root, 'client', billing);
      const server = await serve(serverVolume.server, f.cap.logger);
      const channel = factory.channel(server.handle, { logger: f.cap.logger, tls: clientVolume.client });
      try {
        const client = createClient(EchoServiceDefinition, channel, {
          caller: CONFORMANCE_CALLER,
          ...(factory.system ? { system: factory.system } : {}),
        });
        expect((await client.echo({ message: 'before' })).seen.caller).toBe('spiffe://refront.local/billing');
        const address = addressOf(server.handle);
        expect(await presentedSerial(address, billing)).toBe(serialOf(echo.cert));

        serverVolume.swap(next);
        await vi.waitFor(
          async () => expect(await presentedSerial(address, billing)).toBe(serialOf(next.cert)),
          RELOAD,
        );
        expect((await client.echo({ message: 'open connection' })).message).toBe('open connection');

        // Half a rotation: the new certificate beside the old key. Refused; the last good set stays.
        const warnings = f.cap.lines.filter((l) => l.level === 'warn').length;
        serverVolume.swap({ ...next, cert: echo.cert, key: next.key });
        await vi.waitFor(
          () => expect(f.cap.lines.filter((l) => l.level === 'warn').length).toBeGreaterThan(warnings),
          RELOAD,
        );
        expect(await presentedSerial(address, billing)).toBe(serialOf(next.cert));
        expect((await client.echo({ message: 'after' })).message).toBe('after');
      } finally {
        await channel.close();
        await server.close();
      }
    });

    it('rotates to a new CA: bundle of both CAs first, then certificates from the new CA, on both sides', async () => {
      using f = await fixture();
      const oldCa = readFileSync(f.a.caFile);
      const newCa = readFileSync(f.b.caFile);
      const both = Buffer.concat([oldCa, newCa]);
      const serverVolume = secretVolume(f.root, 'server', pems(f.a.files('echo')));
      const clientVolume = secretVolume(f.root, 'client', pems(f.a.files('billing')));
      const server = await serve(serverVolume.server, f.cap.logger);
      const channel = factory.channel(server.handle, { logger: f.cap.logger, tls: clientVolume.client });
      let restarted: Awaited<ReturnType<typeof serve>> | undefined;
      try {
        const client = createClient(EchoServiceDefinition, channel, {
          caller: CONFORMANCE_CALLER,
          ...(factory.system ? { system: factory.system } : {}),
        });
        expect((await client.echo({ message: 'old CA' })).message).toBe('old CA');

        serverVolume.swap(pems(f.a.files('echo'), both));
        clientVolume.swap(pems(f.a.files('billing'), both));
        await vi.waitFor(() => expect(f.reloads()).toBe(2), RELOAD);
        const newEcho = pems(f.b.files('echo'), both);
        const newBilling = pems(f.b.files('billing'), both);
        serverVolume.swap(newEcho);
        clientVolume.swap(newBilling);
        await vi.waitFor(() => expect(f.reloads()).toBe(4), RELOAD);

        const address = addressOf(server.handle);
        expect(await presentedSerial(address, newBilling)).toBe(serialOf(newEcho.cert));
        expect((await client.echo({ message: 'open connection' })).message).toBe('open connection');

        // A server that trusts only the new CA on the same port: the channel's next connection
        // must present its rotated certificate (the old one would be refused).
        await server.close();
        const onlyNew = secretVolume(f.root, 'server-new-ca-only', { ...newEcho, ca: newCa });
        restarted = await serve(
          onlyNew.server,
          f.cap.logger,
          Number(address.slice(address.lastIndexOf(':') + 1)),
        );
        await vi.waitFor(
          async () =>
            expect((await client.echo({ message: 'new CA' }, { timeoutMs: 1_000 })).seen.caller).toBe(
              'spiffe://refront.local/billing',
            ),
          RELOAD,
        );
      } finally {
        await channel.close();
        await server.close();
        await restarted?.close();
      }
    });
  });
}
