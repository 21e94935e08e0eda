/**
 * Validated contracts on the real transports: the tickets service wired as `serve.ts` wires it
 * (runDistributed: gRPC, RabbitMQ, PostgreSQL) checks requests and events against the
 * `buf.validate` rules of its `.proto` files before any handler. A gRPC client built from those
 * files at run time (no Refront, no generated code) calling GetTicket with an empty or malformed
 * id gets INVALID_ARGUMENT naming the field; a TicketClassified without a ticket id is
 * dead-lettered at once, the field named in the dead letter. Own database, AMQP namespace and
 * port per run. Needs the local PostgreSQL and RabbitMQ.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createLogger, createService } from '@refront/core';
import { createAmqpEventBus } from '@refront/transport-amqp';
import { describe, expect, it } from 'vitest';
import { TicketClassified, Urgency } from '../src/gen/refront/ai/v1/events.js';
import { registryFor, runDistributed } from '../src/platform/distributed.js';
import { ticketsModule } from '../src/tickets/module.js';
import { freePortBlock } from './ports.js';
import { AMQP_URL, infrastructure, isolatedInfrastructure, until } from './topology.js';

const infra = await infrastructure('the validated contracts test');
const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const DEMO_PROTO = path.resolve(here, '../proto');
const VALIDATE_PROTO = path.resolve(
  path.dirname(createRequire(import.meta.url).resolve('@refront/validate/proto/buf/validate/validate.proto')),
  '../..',
);
const GOOGLE_RPC_PROTO = path.resolve(
  path.dirname(
    createRequire(import.meta.url).resolve('@refront/transport-grpc/proto/google/rpc/status.proto'),
  ),
  '../..',
);

type Unary = (req: object, md: Metadata, opts: object, cb: (err: ServiceError | null) => void) => void;

/** A TicketsService client from tickets.proto, as any gRPC client in any language would build it. */
function ticketsClient(address: string) {
  const definition = loadSync('refront/tickets/v1/tickets.proto', {
    includeDirs: [DEMO_PROTO, VALIDATE_PROTO],
    defaults: true,
  });
  const pkg = loadPackageDefinition(definition) as GrpcObject;
  const tickets = ((pkg.refront as GrpcObject).tickets as GrpcObject).v1 as GrpcObject;
  const Client = tickets.TicketsService as unknown as new (
    address: string,
    creds: ReturnType<typeof credentials.createInsecure>,
  ) => Record<string, Unary> & { close(): void };
  return new Client(address, credentials.createInsecure());
}

function getTicket(client: Record<string, Unary>, id: string): Promise<ServiceError | undefined> {
  const md = new Metadata();
  md.set('x-refront-tenant', 'acme');
  return new Promise((resolve) => {
    client.GetTicket!.call(client, { id }, md, { deadline: Date.now() + 5_000 }, (err) =>
      resolve(err ?? undefined),
    );
  });
}

/** The field violations of a `grpc-status-details-bin` trailer, read with protobufjs from the vendored protos. */
function fieldViolations(err: ServiceError): { field: string; description: string; reason: string }[] {
  const protobuf = require('protobufjs') as typeof import('protobufjs');
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) =>
    target.startsWith('google/protobuf/') ? target : path.join(GOOGLE_RPC_PROTO, target);
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
  const status = root
    .lookupType('google.rpc.Status')
    .decode(err.metadata.get('grpc-status-details-bin')[0] as Buffer);
  const details = (
    status as unknown as { details: { typeUrl?: string; type_url?: string; value: Uint8Array }[] }
  ).details;
  const BadRequest = root.lookupType('google.rpc.BadRequest');
  const bad = details.find((d) => (d.typeUrl ?? d.type_url) === 'type.googleapis.com/google.rpc.BadRequest');
  if (!bad) return [];
  return (BadRequest.toObject(BadRequest.decode(bad.value)) as { fieldViolations: never[] }).fieldViolations;
}

describe.skipIf(!infra)('validated contracts (distributed: gRPC, RabbitMQ, PostgreSQL)', () => {
  it('refuses bad requests on gRPC and dead-letters bad events before any handler, naming the field', {
    timeout: 60_000,
  }, async () => {
    await using run = await isolatedInfrastructure('refront_contracts');
    const logger = createLogger({ service: 'tickets', level: 'silent' });
    const host = createService({
      name: 'tickets',
      version: '0',
      logger,
      opsPort: false,
      handleSignals: false,
    });
    const port = await freePortBlock(1);
    const registry = registryFor(host, {});
    host.use({ name: 'registry', close: () => registry.close() });
    await runDistributed(
      host,
      ticketsModule,
      {
        databaseUrl: run.databaseUrl,
        amqpUrl: AMQP_URL,
        amqpNamespace: run.namespace,
        grpcHost: '127.0.0.1',
        grpcPort: port,
        advertiseHost: '127.0.0.1',
        muxPort: 'off',
        env: {},
      },
      registry,
    );
    await using _host = { [Symbol.asyncDispose]: () => host.stop() };
    await host.start();

    const client = ticketsClient(`127.0.0.1:${port}`);
    try {
      const empty = await getTicket(client, '');
      expect(empty?.code).toBe(3); // INVALID_ARGUMENT
      expect(empty?.details).toBe(
        'refront.tickets.v1.GetTicketRequest is invalid: id: value is empty, which is not a valid UUID [string.uuid_empty]',
      );
      expect(fieldViolations(empty as ServiceError)).toEqual([
        {
          field: 'id',
          description: 'value is empty, which is not a valid UUID',
          reason: 'string.uuid_empty',
        },
      ]);
      const malformed = await getTicket(client, 'nope');
      expect([malformed?.code, fieldViolations(malformed as ServiceError)]).toEqual([
        3,
        [{ field: 'id', description: 'must be a valid UUID', reason: 'string.uuid' }],
      ]);
      // A well-formed id reaches the handler: this tenant has no such ticket.
      expect((await getTicket(client, randomUUID()))?.code).toBe(5); // NOT_FOUND
    } finally {
      client.close();
    }

    await using ai = createAmqpEventBus({ url: AMQP_URL, service: 'ai', logger, namespace: run.namespace });
    await ai.publish(
      TicketClassified,
      { ticketId: '', category: 'billing', urgency: Urgency.URGENCY_LOW, confidence: 0.9, provider: 'local' },
      { tenant: 'acme' },
    );
    let dead: Awaited<ReturnType<typeof ai.deadLetters>> = [];
    await until('the dead letter', async () => {
      dead = await ai.deadLetters('tickets');
      return dead.length > 0;
    });
    // Refused by the contract, not by the handler's own check (TICKETS_BAD_CLASSIFICATION), at once.
    expect(dead.map((d) => [d.reason, d.error, d.attempts])).toEqual([
      [
        'CORE_INVALID_MESSAGE',
        'refront.ai.v1.TicketClassified is invalid: ticket_id: value is empty, which is not a valid UUID [string.uuid_empty]',
        1,
      ],
    ]);
  });
});
