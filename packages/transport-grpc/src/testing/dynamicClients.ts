/**
 * Clients built at run time by @grpc/proto-loader from `.proto` files, as any gRPC client in any
 * language would be: no ts-proto code and no Refront on the calling side.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChannelCredentials, credentials, type GrpcObject, loadPackageDefinition } from '@grpc/grpc-js';
import type { ServiceClientConstructor } from '@grpc/grpc-js/build/src/make-client.js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { protoPath as healthProto } from 'grpc-health-check';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

/** The repo's contract folder, holding `refront/testing/v1/echo.proto`. */
export const CONTRACTS_DIR = path.resolve(here, '../../../../proto');
/** The vendored buf.validate protos, which the contracts import for their validation rules. */
export const VALIDATE_DIR = path.resolve(
  path.dirname(require.resolve('@refront/validate/proto/buf/validate/validate.proto')),
  '../..',
);
/** The vendored google.rpc protos. */
export const GOOGLE_RPC_DIR = path.resolve(here, '../../proto');
const REFLECTION_DIR = path.resolve(path.dirname(require.resolve('@grpc/reflection')), '../proto');

const LOAD: Options = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true };

function ctor(files: string[], includeDirs: string[], name: string): ServiceClientConstructor {
  const pkg = loadPackageDefinition(loadSync(files, { ...LOAD, includeDirs })) as GrpcObject;
  let node: unknown = pkg;
  for (const part of name.split('.')) node = (node as Record<string, unknown>)[part];
  return node as ServiceClientConstructor;
}

/** A dynamic client of `refront.testing.v1.EchoService`, from echo.proto. */
export function dynamicEchoClient(address: string, creds: ChannelCredentials = credentials.createInsecure()) {
  const Echo = ctor(
    ['refront/testing/v1/echo.proto'],
    [CONTRACTS_DIR, VALIDATE_DIR],
    'refront.testing.v1.EchoService',
  );
  return new Echo(address, creds);
}

/** A dynamic client of `grpc.health.v1.Health`. */
export function healthClient(address: string) {
  const Health = ctor([healthProto], [], 'grpc.health.v1.Health');
  return new Health(address, credentials.createInsecure());
}

/** A dynamic client of `grpc.reflection.v1.ServerReflection`. */
export function reflectionClient(address: string) {
  const Reflection = ctor(
    ['grpc/reflection/v1/reflection.proto'],
    [REFLECTION_DIR],
    'grpc.reflection.v1.ServerReflection',
  );
  return new Reflection(address, credentials.createInsecure());
}

/**
 * Decodes the google.rpc.Status of a `grpc-status-details-bin` trailer with protobufjs (what
 * proto-loader runs on) from the vendored `.proto` files: how a non-Refront JS client reads it.
 */
export function statusDecoder(): (bytes: Buffer) => {
  code: number;
  message: string;
  details: Record<string, unknown>[];
} {
  const protobuf = require('protobufjs') as typeof import('protobufjs');
  const root = new protobuf.Root();
  // google/protobuf/* come bundled with protobufjs; google/rpc/* from the vendored folder.
  root.resolvePath = (_origin, target) =>
    target.startsWith('google/protobuf/') ? target : path.join(GOOGLE_RPC_DIR, target);
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: false });
  const Status = root.lookupType('google.rpc.Status');
  return (bytes) => {
    const out = Status.toObject(Status.decode(bytes), { longs: Number }) as {
      code: number;
      message: string;
      details?: { type_url?: string; typeUrl?: string; value: Uint8Array }[];
    };
    const details = (out.details ?? []).map((any) => {
      const url = any.typeUrl ?? any.type_url ?? '';
      const type = root.lookupType(url.replace('type.googleapis.com/', ''));
      return { '@type': type.fullName.slice(1), ...type.toObject(type.decode(any.value), { longs: Number }) };
    });
    return { code: out.code, message: out.message, details };
  };
}
