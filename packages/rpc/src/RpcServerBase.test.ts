import type { PeerCertificate } from 'node:tls';
import { createLogger, defineErrors, type ServiceDefinition } from '@refront/core';
import { EchoServiceDefinition } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { RpcServerBase, type RpcServerOptions } from './RpcServerBase.js';

const FakeErrors = defineErrors('FAKE', {
  BIND_FAILED: {
    status: 'UNAVAILABLE',
    message: (address: string) => `cannot bind ${address}`,
    description: 'The fake server could not bind.',
  },
});

const logger = createLogger({ service: 'test', level: 'silent' });

/** A server without a socket: `listen` binds `port || 4321` or fails with `bindError`; it logs the hooks. */
class FakeServer extends RpcServerBase<RpcServerOptions> {
  readonly name = 'fake';
  readonly log: string[] = [];
  bindError: Error | undefined;

  constructor(options: Partial<RpcServerOptions> = {}) {
    super({ service: 'echo', logger, ...options }, { system: 'fake', bindFailed: FakeErrors.BIND_FAILED });
  }

  identify(cert: Partial<PeerCertificate>): string | undefined {
    return this.peerIdentity?.(cert as PeerCertificate);
  }

  protected async listen(_host: string, port: number): Promise<number> {
    this.log.push('listen');
    if (this.bindError) throw this.bindError;
    return port || 4321;
  }

  protected override added(definition: ServiceDefinition): void {
    this.log.push(`added ${definition.fullName}`);
  }

  protected override started(): void {
    this.log.push('started');
  }

  protected draining(): void {
    this.log.push(`draining (${this.state})`);
  }

  protected async release(started: boolean): Promise<void> {
    this.log.push(`release started=${started} (${this.state})`);
  }
}

const implementation = {
  echo: async () => ({}),
  sleep: async () => ({ aborted: false }),
  fail: async () => ({}),
};

describe('RpcServerBase', () => {
  it('adds before start, binds once, then drains and releases once', async () => {
    const server = new FakeServer();
    server.add(EchoServiceDefinition, implementation);
    expect(server.ready()).toBe(false);
    await Promise.all([server.start(), server.start()]);
    expect(server.ready()).toBe(true);
    expect(server.port).toBe(4321);
    expect(server.address).toBe('127.0.0.1:4321');
    expect(() => server.add(EchoServiceDefinition, implementation)).toThrow('add() must come before start()');
    await server.drain();
    expect(server.ready()).toBe(false);
    await Promise.all([server.close(), server[Symbol.asyncDispose]()]);
    expect(server.log).toEqual([
      'added refront.testing.v1.EchoService',
      'listen',
      'started',
      'draining (draining)',
      'draining (draining)',
      'release started=true (closed)',
    ]);
    await expect(server.start()).resolves.toBeUndefined(); // the first start's outcome, kept
  });

  it("fails start() with UNAVAILABLE and the lane's reason when the address cannot be bound", async () => {
    const server = new FakeServer({ host: '::1', port: 80 });
    server.bindError = new Error('EACCES');
    await expect(server.start()).rejects.toMatchObject({
      status: 'UNAVAILABLE',
      reason: 'FAKE_BIND_FAILED',
      message: 'cannot bind [::1]:80',
    });
    await server.close();
    expect(server.log).toEqual(['listen', 'draining (created)', 'release started=false (closed)']);
  });

  it('refuses to start once closed, and a negative close timeout', async () => {
    const server = new FakeServer();
    await server.close();
    await expect(server.start()).rejects.toMatchObject({
      status: 'UNAVAILABLE',
      reason: 'CORE_CLOSED',
      retryable: false,
    });
    expect(() => new FakeServer({ closeTimeoutMs: -1 })).toThrow(/closeTimeoutMs/);
  });

  it('reads client certificates only under mutual TLS, with the auth option’s reader first', () => {
    const cert = {
      subject: { CN: 'billing' } as PeerCertificate['subject'],
      subjectaltname: 'URI:spiffe://t/billing',
    };
    const tls = { certFile: 'unused', keyFile: 'unused' };
    expect(new FakeServer({ tls }).identify(cert)).toBeUndefined();
    expect(new FakeServer({ tls: { ...tls, clientCaFile: 'ca' } }).identify(cert)).toBe('spiffe://t/billing');
    const custom = new FakeServer({
      tls: { ...tls, clientCaFile: 'ca' },
      auth: { peerIdentity: () => 'custom' },
    });
    expect(custom.identify(cert)).toBe('custom');
  });
});
