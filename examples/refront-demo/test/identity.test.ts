/**
 * Zero trust between services, tried from outside against the distributed topology (issue 20):
 * every service port is mutual TLS, and a service serves only the callers its module declares and
 * the platform's operators (the console, issue 24, decision 0146): a certificate of the same CA for
 * any other identity is refused, from a client or from a real process presenting it.
 * The gRPC clients are built at run time from the `.proto` files by @grpc/proto-loader, with no
 * Refront on the calling side; mux has no other client than Refront's own.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ChannelCredentials,
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createClient, isRefrontError } from '@refront/core';
import { createDevCertificates, type DevCertificates } from '@refront/identity';
import { createMuxChannel } from '@refront/transport-mux';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketsServiceDefinition } from '../src/gen/refront/tickets/v1/tickets.js';
import type { LocalProcess, LocalTopology } from '../src/platform/localTopology.js';
import { type SystemUnderTest, startSystem } from './fixtures.js';
import { freePortBlock } from './ports.js';
import { Session } from './session.js';
import { infrastructure } from './topology.js';

const infra = await infrastructure('the service identity tests');
const PROTO_DIR = fileURLToPath(new URL('../proto', import.meta.url));
/** buf.validate's rules, which the demo's contracts import. */
const VALIDATE_PROTO_DIR = path.resolve(
  path.dirname(createRequire(import.meta.url).resolve('@refront/validate/proto/buf/validate/validate.proto')),
  '../..',
);

/** `refront.tickets.v1.TicketsService` as any gRPC client builds it: from tickets.proto, at run time. */
function ticketsClient(address: string, creds: ChannelCredentials) {
  const pkg = loadPackageDefinition(
    loadSync('refront/tickets/v1/tickets.proto', {
      includeDirs: [PROTO_DIR, VALIDATE_PROTO_DIR],
      keepCase: false,
      defaults: true,
    }),
  ) as GrpcObject;
  const Tickets = ((pkg.refront as GrpcObject).tickets as GrpcObject).v1 as GrpcObject;
  const Ctor = Tickets.TicketsService as unknown as new (
    address: string,
    creds: ChannelCredentials,
    options: Record<string, unknown>,
  ) => Record<
    string,
    (req: unknown, md: Metadata, opts: unknown, cb: (e: ServiceError | null, r: unknown) => void) => void
  > & {
    close(): void;
  };
  // Dialled by address: the certificate names the service, as discovery dials by IP.
  return new Ctor(address, creds, { 'grpc.ssl_target_name_override': 'tickets' });
}

/** Calls `method` and settles with the status code and details, or the response. */
function grpcCall(
  client: ReturnType<typeof ticketsClient>,
  method: string,
  request: unknown,
  metadata: Record<string, string>,
): Promise<{ code: number; details: string } | { response: unknown }> {
  const md = new Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve) => {
    client[method]?.(request, md, { deadline: Date.now() + 10_000 }, (e, r) =>
      resolve(e ? { code: e.code, details: e.details } : { response: r }),
    );
  });
}

/** gRPC status codes as numbers (what a client outside Refront sees). */
const UNAVAILABLE = 14;
const PERMISSION_DENIED = 7;

function pem(file: string): Buffer {
  return readFileSync(file);
}

describe.skipIf(!infra)(
  'service identity on the distributed topology: mutual TLS and declared callers',
  () => {
    let system: SystemUnderTest;
    let topology: LocalTopology;
    let certs: DevCertificates;
    let strangersDir: string;
    let strangers: DevCertificates;
    let tickets: LocalProcess;
    let session: Session;
    let ticketId: string;

    const as = (service: string, from: DevCertificates = certs) => {
      const f = from.files(service);
      return credentials.createSsl(pem(certs.caFile), pem(f.keyFile), pem(f.certFile));
    };
    const grpcTickets = (creds: ChannelCredentials) => ticketsClient(`127.0.0.1:${tickets.grpcPort}`, creds);
    const muxTickets = (service: string, from: DevCertificates = certs) => {
      const { caFile } = certs;
      const f = from.files(service);
      const channel = createMuxChannel({
        target: `127.0.0.1:${tickets.muxPort}`,
        policy: false,
        tls: { caFile, certFile: f.certFile, keyFile: f.keyFile, serverName: 'tickets' },
      });
      return { channel, client: createClient(TicketsServiceDefinition, channel, { caller: service }) };
    };
    /**
     * Reads and writes as `identity`'s certificate with `metadata`: both PERMISSION_DENIED, naming
     * its SPIFFE id as not a declared caller, and no ticket made.
     */
    const expectRefused = async (identity: string, metadata: Record<string, string>) => {
      const before = await ticketRows();
      const client = grpcTickets(as(identity));
      const read = await grpcCall(client, 'getTicket', { id: ticketId }, metadata);
      const write = await grpcCall(
        client,
        'createTicket',
        { customerId: ticketId, title: 'forged' },
        metadata,
      );
      client.close();
      expect(read).toMatchObject({ code: PERMISSION_DENIED });
      expect((read as { details: string }).details).toContain(
        `spiffe://refront.local/${identity} is not a declared caller`,
      );
      expect(write).toMatchObject({ code: PERMISSION_DENIED });
      expect(await ticketRows()).toBe(before);
    };
    const ticketRows = () =>
      system.count('tickets', 'select count(*)::int as n from tickets where tenant_id = $1', [
        session.tenant,
      ]);

    beforeAll(async () => {
      // With the console (an operator identity), and a certificate of the same CA for an identity
      // no process runs and no service declares: what a stolen signing request would get.
      system = await startSystem('refront_identity', {
        instances: {},
        output: 'capture',
        consolePort: await freePortBlock(1),
        identities: ['intruder'],
      });
      topology = system.topology;
      certs = (await topology.certificates()) as DevCertificates;
      strangersDir = await mkdtemp(join(tmpdir(), 'refront-strangers-'));
      // Same names, another CA: what an attacker can make for itself.
      strangers = await createDevCertificates({ dir: strangersDir, services: ['gateway'] });
      tickets = topology.one('tickets');
      session = await Session.open(topology.gatewayUrl, `identity-${Date.now().toString(36)}`);
      const customer = await session.customer('Initech', 9_000);
      ticketId = (await session.ok('POST', '/v1/tickets', { customerId: customer, title: 'TPS report' })).id;
    }, 180_000);

    afterAll(async () => {
      await system?.[Symbol.asyncDispose]();
      if (strangersDir) await rm(strangersDir, { recursive: true, force: true });
    }, 60_000);

    it('the walk of calls through the gateway works over mutual TLS (the declared callers suffice)', async () => {
      expect(await ticketRows()).toBe(1);
      const body = await session.ok('GET', `/v1/tickets/${ticketId}`);
      expect(body.title).toBe('TPS report');
    });

    it('gRPC: a client without a certificate cannot connect, plaintext or TLS', async () => {
      for (const creds of [credentials.createInsecure(), credentials.createSsl(pem(certs.caFile))]) {
        const client = grpcTickets(creds);
        const r = await grpcCall(
          client,
          'getTicket',
          { id: ticketId },
          { 'x-refront-tenant': session.tenant },
        );
        client.close();
        expect(r).toMatchObject({ code: UNAVAILABLE });
      }
    });

    it('gRPC: a certificate from another CA cannot connect, even naming a declared caller', async () => {
      const client = grpcTickets(as('gateway', strangers));
      const r = await grpcCall(client, 'getTicket', { id: ticketId }, { 'x-refront-tenant': session.tenant });
      client.close();
      expect(r).toMatchObject({ code: UNAVAILABLE });
    });

    it("gRPC: a service's certificate that is not a declared caller gets PERMISSION_DENIED, whatever caller it claims, and changes nothing", async () => {
      await expectRefused('ai', { 'x-refront-tenant': session.tenant, 'x-refront-caller': 'gateway' });
    });

    it('gRPC: a declared caller may call only the methods declared for it', async () => {
      const client = grpcTickets(as('time-tracking'));
      const md = { 'x-refront-tenant': session.tenant };
      const read = await grpcCall(client, 'getTicket', { id: ticketId }, md);
      const write = await grpcCall(client, 'resolveTicket', { id: ticketId }, md);
      client.close();
      expect(read).toMatchObject({ response: { ticket: { id: ticketId, title: 'TPS report' } } });
      expect(write).toMatchObject({ code: PERMISSION_DENIED });
      expect((await session.ok('GET', `/v1/tickets/${ticketId}`)).status).toBe('open');
    });

    it('gRPC: the gateway, a caller of every method, is served', async () => {
      const client = grpcTickets(as('gateway'));
      const r = await grpcCall(client, 'getTicket', { id: ticketId }, { 'x-refront-tenant': session.tenant });
      client.close();
      expect(r).toMatchObject({ response: { ticket: { id: ticketId } } });
    });

    it('gRPC: the console, an operator, is served; a certificate of the same CA for an undeclared identity is PERMISSION_DENIED and changes nothing', async () => {
      const md = { 'x-refront-tenant': session.tenant, 'x-refront-caller': 'console' };
      const console = grpcTickets(as('console'));
      const served = await grpcCall(console, 'getTicket', { id: ticketId }, md);
      console.close();
      expect(served).toMatchObject({ response: { ticket: { id: ticketId } } });
      await expectRefused('intruder', md);
    });

    it("the console process's API explorer calls a service with its own certificate; the same process with an intruder's certificate is refused", async () => {
      const consoleProcess = topology.one('console');
      const explore = async (target: string, body: unknown) => {
        const res = await fetch(`${topology.consoleUrl}/api/explorer/call`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${topology.consoleToken}` },
          body: JSON.stringify({
            kind: 'rpc',
            target: `refront.tickets.v1.TicketsService/${target}`,
            body: JSON.stringify(body),
            tenant: session.tenant,
            roles: 'admin',
          }),
        });
        expect(res.status).toBe(200);
        return (await res.json()) as { ok: boolean; response?: { ticket?: { id: string } }; error?: unknown };
      };
      const served = await explore('GetTicket', { id: ticketId });
      expect(served).toMatchObject({ ok: true, response: { ticket: { id: ticketId } } });

      const before = await ticketRows();
      const intruder = certs.files('intruder');
      await topology.stop(consoleProcess);
      try {
        topology.start(consoleProcess, { TLS_CERT_FILE: intruder.certFile, TLS_KEY_FILE: intruder.keyFile });
        await topology.waitReady(consoleProcess);
        for (const [target, body] of [
          ['GetTicket', { id: ticketId }],
          ['CreateTicket', { customerId: ticketId, title: 'forged' }],
        ] as const) {
          const refused = await explore(target, body);
          expect(refused).toMatchObject({
            ok: false,
            error: { status: 'PERMISSION_DENIED', reason: 'CORE_CALLER_NOT_ALLOWED' },
          });
        }
        expect(await ticketRows()).toBe(before);
      } finally {
        await topology.stop(consoleProcess);
        topology.start(consoleProcess);
        await topology.waitReady(consoleProcess);
      }
    }, 60_000);

    it('mux: no certificate or another CA cannot connect; an undeclared caller is PERMISSION_DENIED; a declared one is served', async () => {
      const md = { metadata: { 'x-refront-tenant': session.tenant }, timeoutMs: 10_000 };
      const outcome = async (service: string, from?: DevCertificates) => {
        const { channel, client } = muxTickets(service, from);
        try {
          return await client.getTicket({ id: ticketId }, md).then(
            (r) => `OK ${r.ticket?.id}`,
            (e: unknown) => (isRefrontError(e) ? `${e.status} ${e.reason}` : String(e)),
          );
        } finally {
          await channel.close();
        }
      };
      const plain = createMuxChannel({ target: `127.0.0.1:${tickets.muxPort}`, policy: false });
      const noCert = await createClient(TicketsServiceDefinition, plain, { caller: 'gateway' })
        .getTicket({ id: ticketId }, md)
        .then(
          () => 'OK',
          (e: unknown) => (isRefrontError(e) ? e.status : String(e)),
        );
      await plain.close();
      expect(noCert).toBe('UNAVAILABLE');
      expect(await outcome('gateway', strangers)).toMatch(/^UNAVAILABLE /);
      expect(await outcome('reporting')).toBe('PERMISSION_DENIED CORE_CALLER_NOT_ALLOWED');
      expect(await outcome('gateway')).toBe(`OK ${ticketId}`);
    });
  },
);
