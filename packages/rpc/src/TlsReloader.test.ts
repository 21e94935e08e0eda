import { mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetricsRegistry, type MetricsRegistry } from '@refront/core';
import { capturingLogger, testCert } from '@refront/rpc-testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RpcErrors } from './errors.js';
import { type TlsMaterial, TlsReloader } from './TlsReloader.js';
import type { UnreadablePem } from './tls.js';

const UNREADABLE = RpcErrors.BAD_TLS_MATERIAL as unknown as UnreadablePem;
const pem = (name: Parameters<typeof testCert>[0]): Buffer => readFileSync(testCert(name));
const SERVER = { ca: pem('ca.crt'), cert: pem('server.crt'), key: pem('server.key') };
const CLIENT = { ca: pem('ca.crt'), cert: pem('client.crt'), key: pem('client.key') };

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A Secret volume as kubelet writes it: `ca.crt`, `tls.crt`, `tls.key` link into `..data`, a link
 * to a versioned directory; an update writes a new directory and renames a new link over `..data`.
 */
async function volume(first: TlsMaterial) {
  const dir = mkdtempSync(join(tmpdir(), 'refront-secret-'));
  dirs.push(dir);
  let n = 0;
  const swap = async (m: TlsMaterial): Promise<void> => {
    const version = `..2026_${n++}`;
    await mkdir(join(dir, version));
    writeFileSync(join(dir, version, 'ca.crt'), m.ca ?? '');
    writeFileSync(join(dir, version, 'tls.crt'), m.cert ?? '');
    writeFileSync(join(dir, version, 'tls.key'), m.key ?? '');
    symlinkSync(version, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  await swap(first);
  const files = {
    caFile: join(dir, 'ca.crt'),
    certFile: join(dir, 'tls.crt'),
    keyFile: join(dir, 'tls.key'),
  };
  symlinkSync('..data/ca.crt', files.caFile);
  symlinkSync('..data/tls.crt', files.certFile);
  symlinkSync('..data/tls.key', files.keyFile);
  return { files, swap };
}

function reloadsOf(metrics: MetricsRegistry, outcome: string): Promise<number> {
  return metrics
    .getSingleMetricAsString('refront_tls_reloads_total')
    .then((text) => Number(new RegExp(`outcome="${outcome}"[^ ]* (\\d+)`).exec(text)?.[1] ?? 0));
}

describe('TlsReloader', () => {
  it('loads a Secret volume swapped the way kubelet does (..data link renamed), and tells its listeners', async () => {
    const v = await volume(SERVER);
    const metrics = createMetricsRegistry({ processMetrics: false });
    const { logger } = capturingLogger('silent');
    const reloader = new TlsReloader({ files: v.files, unreadable: UNREADABLE, logger, metrics });
    expect(reloader.current.cert?.equals(SERVER.cert)).toBe(true);
    const seen: TlsMaterial[] = [];
    const stop = reloader.subscribe((m) => seen.push(m));
    try {
      await v.swap(CLIENT);
      await vi.waitFor(() => expect(seen).toHaveLength(1), { timeout: 5_000 });
      expect(seen[0]?.cert?.equals(CLIENT.cert)).toBe(true);
      expect(reloader.current.key?.equals(CLIENT.key)).toBe(true);
      expect(await reloadsOf(metrics, 'loaded')).toBe(1);
    } finally {
      stop();
    }
  });

  it('loads files written in place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refront-tls-'));
    dirs.push(dir);
    const files = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
    writeFileSync(files.certFile, SERVER.cert);
    writeFileSync(files.keyFile, SERVER.key);
    const { logger } = capturingLogger('silent');
    const reloader = new TlsReloader({ files, unreadable: UNREADABLE, logger });
    const seen: TlsMaterial[] = [];
    reloader.subscribe((m) => seen.push(m));
    try {
      writeFileSync(files.keyFile, CLIENT.key);
      writeFileSync(files.certFile, CLIENT.cert);
      await vi.waitFor(() => expect(reloader.current.cert?.equals(CLIENT.cert)).toBe(true), {
        timeout: 5_000,
      });
      expect(reloader.current.key?.equals(CLIENT.key)).toBe(true);
      // Every listener call had a key matching its certificate: a torn read is never handed out.
      for (const m of seen) expect(m.cert?.equals(CLIENT.cert) && m.key?.equals(CLIENT.key)).toBe(true);
    } finally {
      reloader.close();
    }
  });

  it('refuses a rotation whose key does not match the certificate, keeps the current files, warns, and loads the next good one', async () => {
    const v = await volume(SERVER);
    const metrics = createMetricsRegistry({ processMetrics: false });
    const { logger, lines } = capturingLogger('warn');
    const reloader = new TlsReloader({ files: v.files, unreadable: UNREADABLE, logger, metrics });
    const seen: TlsMaterial[] = [];
    reloader.subscribe((m) => seen.push(m));
    try {
      await v.swap({ ...SERVER, cert: CLIENT.cert });
      await vi.waitFor(async () => expect(await reloadsOf(metrics, 'rejected')).toBe(1), { timeout: 5_000 });
      expect(seen).toHaveLength(0);
      expect(reloader.current.cert?.equals(SERVER.cert)).toBe(true);
      expect(lines).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          reason: expect.stringMatching(/keyFile does not match certFile/),
        }),
      );
      await v.swap(CLIENT);
      await vi.waitFor(() => expect(seen).toHaveLength(1), { timeout: 5_000 });
      expect(reloader.current.cert?.equals(CLIENT.cert)).toBe(true);
      expect(await reloadsOf(metrics, 'loaded')).toBe(1);
    } finally {
      reloader.close();
    }
  });

  it('throws at construction for an unreadable file and for a key that does not match', async () => {
    const { logger } = capturingLogger('silent');
    const unreadable = RpcErrors.REQUEST_ENCODE_FAILED as unknown as UnreadablePem;
    expect(() => new TlsReloader({ files: { caFile: '/nope.crt' }, unreadable, logger })).toThrow(
      expect.objectContaining({ reason: 'RPC_REQUEST_ENCODE_FAILED' }),
    );
    const mismatched = { certFile: testCert('server.crt'), keyFile: testCert('client.key') };
    expect(() => new TlsReloader({ files: mismatched, unreadable, logger })).toThrow(
      expect.objectContaining({
        reason: 'RPC_BAD_TLS_MATERIAL',
        message: expect.stringMatching(/does not match/),
      }),
    );
    expect(() => new TlsReloader({ files: { caFile: testCert('server.key') }, unreadable, logger })).toThrow(
      expect.objectContaining({ reason: 'RPC_BAD_TLS_MATERIAL' }),
    );
    expect(() => new TlsReloader({ files: {}, unreadable, logger, recheckMs: 0 })).toThrow(/recheckMs/);
  });

  it('watches only while subscribed: after the last unsubscribe a rotation is not read', async () => {
    const v = await volume(SERVER);
    const { logger } = capturingLogger('silent');
    const reloader = new TlsReloader({ files: v.files, unreadable: UNREADABLE, logger });
    const stop = reloader.subscribe(() => undefined);
    stop();
    // A second reloader of the same files, subscribed: once it has loaded the swap, the first would have too.
    const witness = new TlsReloader({ files: v.files, unreadable: UNREADABLE, logger });
    witness.subscribe(() => undefined);
    try {
      await v.swap(CLIENT);
      await vi.waitFor(() => expect(witness.current.cert?.equals(CLIENT.cert)).toBe(true), {
        timeout: 5_000,
      });
      expect(reloader.current.cert?.equals(SERVER.cert)).toBe(true);
    } finally {
      witness.close();
    }
  });
});
