import { rootCertificates } from 'node:tls';
import type { experimental } from '@grpc/grpc-js';
import type { TlsMaterial, TlsReloader } from '@refront/rpc';

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/** Node's root certificates, for a client that names no CA bundle (what `createSsl(null)` trusts). */
let nodeRoots: Buffer | undefined;

function caUpdate(m: TlsMaterial): experimental.CaCertificateUpdate {
  nodeRoots ??= Buffer.from(rootCertificates.join('\n'));
  return { caCertificate: m.ca ?? nodeRoots };
}

function identityUpdate(m: TlsMaterial): experimental.IdentityCertificateUpdate | null {
  return m.cert && m.key ? { certificate: m.cert, privateKey: m.key } : null;
}

/**
 * grpc-js's certificate provider fed by a {@link TlsReloader}: grpc-js subscribes while a server
 * listens or a channel has connections, and uses each new set for the next handshakes. Updates
 * reach grpc-js on the next tick, as its own providers do: its credentials subscribe before they
 * register the server that applies them.
 */
export function certificateProvider(reloader: TlsReloader): experimental.CertificateProvider {
  const ca = new Map<CaListener, () => void>();
  const identity = new Map<IdentityListener, () => void>();
  const add = <L>(listeners: Map<L, () => void>, listener: L, deliver: (m: TlsMaterial) => void): void => {
    listeners.get(listener)?.();
    listeners.set(listener, reloader.subscribe(deliver));
    process.nextTick(deliver, reloader.current);
  };
  const remove = <L>(listeners: Map<L, () => void>, listener: L): void => {
    listeners.get(listener)?.();
    listeners.delete(listener);
  };
  return {
    addCaCertificateListener: (l) => add(ca, l, (m) => l(caUpdate(m))),
    removeCaCertificateListener: (l) => remove(ca, l),
    addIdentityCertificateListener: (l) => add(identity, l, (m) => l(identityUpdate(m))),
    removeIdentityCertificateListener: (l) => remove(identity, l),
  };
}
