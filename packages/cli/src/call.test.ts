import { rmSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { RefrontError } from '@refront/core';
import { toGrpcStatus } from '@refront/transport-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { buildDescriptorSet } from './descriptorSet.js';
import { collect } from './testing/infra.js';
import { echoWorkspace } from './testing/workspace.js';

let root: string;
let server: grpc.Server;
let port: number;
/** Every call the server got: its request and the metadata it came with. */
const received: { request: unknown; metadata: Record<string, unknown> }[] = [];

beforeAll(async () => {
  root = echoWorkspace();
  // A real gRPC server of the contract, as any service (Refront or not) would serve it.
  const definition = protoLoader.loadFileDescriptorSetFromBuffer(buildDescriptorSet({ cwd: root }), {
    longs: String,
    enums: String,
    defaults: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    acme: { echo: { v1: { EchoService: grpc.ServiceClientConstructor } } };
  };
  server = new grpc.Server();
  server.addService(loaded.acme.echo.v1.EchoService.service, {
    echo(
      call: grpc.ServerUnaryCall<{ text: string; mode: string; big: string }, unknown>,
      done: grpc.sendUnaryData<unknown>,
    ) {
      received.push({ request: call.request, metadata: call.metadata.getMap() });
      if (call.request.text === 'fail') {
        // What a Refront server answers: the reason and the fields in grpc-status-details-bin.
        const refused = new RefrontError('INVALID_ARGUMENT', 'ECHO_REFUSED', 'echo refuses to fail', {
          details: { fieldViolations: [{ field: 'text', description: 'must not be "fail"' }] },
        });
        done(toGrpcStatus(refused, 'echo'));
        return;
      }
      if (call.request.text === 'foreign') {
        done({ code: grpc.status.FAILED_PRECONDITION, details: 'a server without Refront details' });
        return;
      }
      const text = call.request.mode === 'MODE_UPPER' ? call.request.text.toUpperCase() : call.request.text;
      done(null, {
        text,
        tenant: call.metadata.get('x-refront-tenant')[0] ?? '',
        big: call.request.big,
        at: { seconds: 1_700_000_000, nanos: 0 },
        raw: Buffer.from('hi'),
      });
    },
    count(call: grpc.ServerWritableStream<unknown, unknown>) {
      call.end();
    },
  });
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
}, 60_000);
afterAll(async () => {
  await new Promise<void>((r) => server?.tryShutdown(() => r()));
  rmSync(root, { recursive: true, force: true });
});

async function refront(argv: string[], env: Record<string, string> = {}) {
  const out = collect();
  const code = await runCli(argv, out, { cwd: root, env });
  return { code, out: out.out.join('\n'), err: out.err.join('\n') };
}

describe('refront call (a real gRPC server)', () => {
  it('encodes the JSON by the contract, sends tenant and caller, and prints the response as JSON', async () => {
    const before = received.length;
    const r = await refront([
      'call',
      'echo/Echo',
      '{"text":"hello","mode":"MODE_UPPER","big":"9007199254740993"}',
      '--address',
      `127.0.0.1:${port}`,
      '--tenant',
      'acme',
      '-H',
      'x-request-id=r-1',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      text: 'HELLO',
      tenant: 'acme',
      big: '9007199254740993',
      at: '2023-11-14T22:13:20Z',
      raw: Buffer.from('hi').toString('base64'),
    });
    expect(received).toHaveLength(before + 1);
    expect(received.at(-1)?.metadata).toMatchObject({
      'x-refront-tenant': 'acme',
      'x-refront-caller': 'refront-cli',
      'x-request-id': 'r-1',
    });
  });

  it('finds the address in REFRONT_ENDPOINTS and the method by its full service name', async () => {
    const r = await refront(['call', 'acme.echo.v1.EchoService/echo', '{"text":"x"}'], {
      REFRONT_ENDPOINTS: `other=127.0.0.1:1;echo=127.0.0.1:${port},127.0.0.1:2`,
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ text: 'x', tenant: '' });
  });

  it("prints the server's status, reason, message and refused fields, exit 1", async () => {
    const r = await refront(['call', 'echo/Echo', '{"text":"fail"}', '--address', `127.0.0.1:${port}`]);
    expect([r.code, r.err]).toEqual([
      1,
      'refront: INVALID_ARGUMENT ECHO_REFUSED: echo refuses to fail\n  text: must not be "fail"',
    ]);
    const foreign = await refront([
      'call',
      'echo/Echo',
      '{"text":"foreign"}',
      '--address',
      `127.0.0.1:${port}`,
    ]);
    expect(foreign.err).toBe('refront: FAILED_PRECONDITION GRPC_STATUS: a server without Refront details');
  });

  it('says what is wrong before calling: method, service, JSON, streaming, address', async () => {
    const address = ['--address', `127.0.0.1:${port}`];
    const before = received.length;
    expect((await refront(['call', 'echo/Nope', '{}', ...address])).err).toBe(
      'refront: no method acme.echo.v1.EchoService/Nope in the contracts: it has Echo, Count',
    );
    expect((await refront(['call', 'billing/Echo', '{}', ...address])).err).toBe(
      'refront: no service billing in the contracts: the contracts have acme.echo.v1.EchoService',
    );
    const badJson = await refront(['call', 'echo/Echo', '{text', ...address]);
    expect(badJson.code).toBe(2);
    expect(badJson.err).toMatch(/^refront: the request is not a JSON acme.echo.v1.EchoRequest: /);
    const wrongField = await refront(['call', 'echo/Echo', '{"txt":"x"}', ...address]);
    expect(wrongField.code).toBe(2);
    expect(wrongField.err).toContain('txt');
    expect((await refront(['call', 'echo/Count', '{}', ...address])).err).toBe(
      'refront: /acme.echo.v1.EchoService/Count streams: refront call calls unary methods only',
    );
    expect((await refront(['call', 'echo/Echo', '{}'])).err).toBe(
      'refront: no address for echo: pass --address host:port, or set REFRONT_ENDPOINTS or CONSUL_HTTP_ADDR',
    );
    expect(received).toHaveLength(before);
  });

  it('fails with UNAVAILABLE on a port nothing listens on', async () => {
    const r = await refront(['call', 'echo/Echo', '{}', '--address', '127.0.0.1:1', '--timeout', '3000']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^refront: UNAVAILABLE [A-Z_]+: /);
  });
});
