import { createPrivateKey, X509Certificate } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import { counterOf, type Logger, type MetricsRegistry } from '@refront/core';
import { invalidOption } from '@refront/core/transport';
import { RpcErrors } from './errors.js';
import type { UnreadablePem } from './tls.js';

/** How often the files are read again even when no change was reported, in ms (a backstop for file systems without inotify). */
export const DEFAULT_TLS_RECHECK_MS = 60_000;
/**
 * Wait after a reported change before reading, in ms: a rotation is a burst of events (kubelet
 * writes a new directory, then swaps the `..data` link), read once when it settles.
 */
const SETTLE_MS = 25;

/** The PEM files a server or client uses; the ones not given are not read. */
export interface TlsFilePaths {
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
}

/** The contents of {@link TlsFilePaths}, read together and checked: the key matches the certificate. */
export interface TlsMaterial {
  readonly ca: Buffer | undefined;
  readonly cert: Buffer | undefined;
  readonly key: Buffer | undefined;
}

/** Options of {@link TlsReloader}. */
export interface TlsReloaderOptions {
  readonly files: TlsFilePaths;
  /** The lane's error for a file that cannot be read at construction (`GrpcErrors.BAD_CREDENTIALS`…). */
  readonly unreadable: UnreadablePem;
  /** Where a rotation that is refused is reported (warn). */
  readonly logger: Logger;
  /** Registry of `refront_tls_reloads_total{outcome}` (`loaded`, `rejected`). @default none */
  readonly metrics?: MetricsRegistry | undefined;
  /** See {@link DEFAULT_TLS_RECHECK_MS}. @default 60000 */
  readonly recheckMs?: number;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.equals(b));
}

/** Why `m` is not a usable set (a torn or half-written rotation), or undefined when it is. */
function defectOf(m: TlsMaterial): string | undefined {
  try {
    if (m.ca !== undefined) {
      const blocks = m.ca.toString('latin1').match(PEM_CERTIFICATE) ?? [];
      if (blocks.length === 0) return 'caFile holds no PEM certificate';
      for (const block of blocks) new X509Certificate(block);
    }
    if (m.cert !== undefined && m.key !== undefined) {
      const leaf = new X509Certificate(m.cert);
      if (!leaf.checkPrivateKey(createPrivateKey(m.key))) return 'keyFile does not match certFile';
    }
    return undefined;
  } catch (e: unknown) {
    return e instanceof Error ? e.message : String(e);
  }
}

/**
 * The TLS files of one server or channel, kept current without a restart: read and checked at
 * construction, then read again whenever their directory reports a change (an in-place write or
 * the `..data` link swap with which Kubernetes updates a Secret volume) and every `recheckMs`. A
 * new set is used only when it is whole: the certificate and the CA bundle parse and the key
 * matches the certificate; otherwise the current set stays, a warning is logged and the next
 * change is tried again. Files are watched only while someone listens.
 *
 * @throws RefrontError `unreadable` when a file cannot be read, `RPC_BAD_TLS_MATERIAL` when the
 *   files do not make a usable set, `CORE_INVALID_OPTION` for a bad `recheckMs` or when only one
 *   of certFile and keyFile is given.
 * @example
 * const reloader = new TlsReloader({ files: tls, unreadable: MuxErrors.BAD_CREDENTIALS, logger, metrics });
 * const stop = reloader.subscribe((m) => server.setSecureContext({ cert: m.cert, key: m.key, ca: m.ca }));
 */
export class TlsReloader {
  private material: TlsMaterial;
  private readonly listeners = new Set<(material: TlsMaterial) => void>();
  private readonly recheckMs: number;
  private watchers: FSWatcher[] = [];
  private recheck: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;

  constructor(private readonly options: TlsReloaderOptions) {
    this.recheckMs = options.recheckMs ?? DEFAULT_TLS_RECHECK_MS;
    if (!(this.recheckMs > 0)) throw invalidOption('recheckMs must be > 0');
    const { files, unreadable } = options;
    if ((files.certFile === undefined) !== (files.keyFile === undefined)) {
      throw invalidOption('tls.certFile and tls.keyFile go together');
    }
    const read = (label: string, file: string | undefined): Buffer | undefined => {
      if (file === undefined) return undefined;
      try {
        return readFileSync(file);
      } catch (e: unknown) {
        throw unreadable.with({ cause: e }, label, file);
      }
    };
    this.material = {
      ca: read('caFile', files.caFile),
      cert: read('certFile', files.certFile),
      key: read('keyFile', files.keyFile),
    };
    const defect = defectOf(this.material);
    if (defect !== undefined) throw RpcErrors.BAD_TLS_MATERIAL(this.describe(), defect);
  }

  /** The set in use: what a new connection or handshake presents and trusts. */
  get current(): TlsMaterial {
    return this.material;
  }

  /**
   * Calls `listener` with each new set once it is loaded; the files are watched while at least
   * one listener is subscribed. Returns the unsubscribe function.
   */
  subscribe(listener: (material: TlsMaterial) => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.startWatching();
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.stopWatching();
    };
  }

  /** Unsubscribes everyone and stops watching; idempotent. */
  close(): void {
    this.listeners.clear();
    this.stopWatching();
  }

  private describe(): string {
    const { caFile, certFile, keyFile } = this.options.files;
    return [caFile, certFile, keyFile].filter((f) => f !== undefined).join(', ');
  }

  private startWatching(): void {
    const { caFile, certFile, keyFile } = this.options.files;
    const dirs = new Set([caFile, certFile, keyFile].filter((f) => f !== undefined).map((f) => dirname(f)));
    const changed = (): void => {
      if (this.settle === undefined) this.settle = setTimeout(() => this.reload(), SETTLE_MS);
    };
    for (const dir of dirs) {
      try {
        const watcher = watch(dir, { persistent: false }, changed);
        watcher.on('error', (e: unknown) =>
          this.options.logger.warn({ err: e, dir }, 'TLS directory watch failed'),
        );
        this.watchers.push(watcher);
      } catch (e: unknown) {
        // The periodic read still notices rotations, only later.
        this.options.logger.warn({ err: e, dir }, 'cannot watch TLS directory %s', dir);
      }
    }
    this.recheck = setInterval(() => this.reload(), this.recheckMs);
    this.recheck.unref();
  }

  private stopWatching(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    clearInterval(this.recheck);
    clearTimeout(this.settle);
    this.recheck = undefined;
    this.settle = undefined;
  }

  /** Reads the files again; loads them when they changed and make a usable set. */
  private reload(): void {
    this.settle = undefined;
    if (this.listeners.size === 0) return;
    const { caFile, certFile, keyFile } = this.options.files;
    let next: TlsMaterial;
    try {
      next = {
        ca: caFile === undefined ? undefined : readFileSync(caFile),
        cert: certFile === undefined ? undefined : readFileSync(certFile),
        key: keyFile === undefined ? undefined : readFileSync(keyFile),
      };
    } catch (e: unknown) {
      this.refuse(e instanceof Error ? e.message : String(e));
      return;
    }
    const now = this.material;
    if (sameBytes(now.ca, next.ca) && sameBytes(now.cert, next.cert) && sameBytes(now.key, next.key)) return;
    const defect = defectOf(next);
    if (defect !== undefined) {
      this.refuse(defect);
      return;
    }
    this.material = next;
    this.count('loaded');
    this.options.logger.info({ files: this.describe() }, 'TLS files reloaded');
    for (const listener of this.listeners) {
      try {
        listener(next);
      } catch (e: unknown) {
        this.options.logger.error({ err: e, files: this.describe() }, 'applying reloaded TLS files failed');
      }
    }
  }

  private refuse(why: string): void {
    this.count('rejected');
    this.options.logger.warn(
      { files: this.describe(), reason: why },
      'TLS files changed but are not a usable set, keeping the current ones: %s',
      why,
    );
  }

  private count(outcome: 'loaded' | 'rejected'): void {
    if (!this.options.metrics) return;
    counterOf(
      this.options.metrics,
      'refront_tls_reloads_total',
      'TLS certificate, key and CA files read again after a change, by outcome',
      ['outcome'],
    ).inc({ outcome });
  }
}
