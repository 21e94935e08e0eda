import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A contract of the fixture workspace: a unary method, a streaming one, an enum, a 64-bit field. */
export const ECHO_PROTO = `syntax = "proto3";

package acme.echo.v1;

${'import "google/protobuf/timestamp.proto";'}

// EchoService answers what it is sent.
service EchoService {
  // Echo answers the text, upper-cased when asked.
  rpc Echo(EchoRequest) returns (EchoResponse);
  // Count streams numbers.
  rpc Count(CountRequest) returns (stream CountResponse);
}

// Mode says how to echo.
enum Mode {
  MODE_UNSPECIFIED = 0;
  MODE_UPPER = 1;
}

message EchoRequest {
  string text = 1;
  Mode mode = 2;
  int64 big = 3;
}

message EchoResponse {
  string text = 1;
  string tenant = 2;
  int64 big = 3;
  google.protobuf.Timestamp at = 4;
  bytes raw = 5;
}

message CountRequest {
  int32 to = 1;
}

message CountResponse {
  int32 n = 1;
}
`;

/**
 * A new workspace outside the repository with one buf module (`proto/`) holding {@link ECHO_PROTO}:
 * what `npm create refront` makes, reduced to its contracts.
 */
export function echoWorkspace(): string {
  const root = mkdtempSync(join(tmpdir(), 'refront-cli-ws-'));
  mkdirSync(join(root, 'proto', 'acme', 'echo', 'v1'), { recursive: true });
  writeFileSync(join(root, 'proto', 'acme', 'echo', 'v1', 'echo.proto'), ECHO_PROTO);
  writeFileSync(
    join(root, 'buf.yaml'),
    'version: v2\nmodules:\n  - path: proto\nlint:\n  use:\n    - STANDARD\n',
  );
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'ws', private: true, type: 'module' }));
  return root;
}
