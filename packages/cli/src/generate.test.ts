import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { collect } from './testing/infra.js';
import { echoWorkspace } from './testing/workspace.js';

let root: string;
beforeAll(() => {
  root = echoWorkspace();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function refront(cwd: string, ...argv: string[]) {
  const out = collect();
  const code = await runCli(argv, out, { cwd });
  return { code, out: out.out.join('\n'), err: out.err.join('\n') };
}

/** buf and the ts-proto plugin are processes of their own: seconds each on a loaded machine. */
const SPAWNS_MS = 120_000;

describe('refront generate', () => {
  it(
    "writes the module's TypeScript with Refront's options, its imports, and its descriptors",
    async () => {
      const r = await refront(join(root, 'proto', 'acme'), 'generate');
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toBe(`proto → ${join(root, 'src', 'gen')}: 3 files`);
      const echo = readFileSync(join(root, 'src/gen/acme/echo/v1/echo.ts'), 'utf8');
      // generic-definitions, static-only $type, .js imports, numbers for int64, shared empty bytes.
      expect(echo).toContain('export const EchoServiceDefinition = {');
      expect(echo).toContain('export const EchoRequest: MessageFns<EchoRequest, "acme.echo.v1.EchoRequest">');
      // static-only: the interface has no $type (else every call would need one to typecheck).
      expect(echo).toMatch(/export interface EchoRequest \{\n {2}text: string;/);
      expect(echo).toContain('import { Timestamp } from "../../../google/protobuf/timestamp.js";');
      expect(echo).toContain('big: number');
      expect(echo).toContain('const EMPTY_BYTES: Buffer = Buffer.alloc(0);');
      expect(echo).not.toContain('raw: Buffer.alloc(0)');
      const descriptors = readFileSync(join(root, 'src/gen/descriptors.ts'), 'utf8');
      expect(descriptors).toContain('// source: proto\n');
      expect(descriptors).toMatch(/export const FILE_DESCRIPTOR_SET = '[A-Za-z0-9+/=]+';/);
    },
    SPAWNS_MS,
  );

  it(
    '--check passes on what it wrote, and names a stale or extra file',
    async () => {
      expect((await refront(root, 'generate', '--check')).code).toBe(0);
      appendFileSync(join(root, 'src/gen/acme/echo/v1/echo.ts'), '// edited\n');
      writeFileSync(join(root, 'src/gen/extra.ts'), '');
      const stale = await refront(root, 'generate', '--check');
      expect(stale.code).toBe(1);
      expect(stale.err).toBe(
        `stale generated code in ${join(root, 'src', 'gen')} (run refront generate):\n  acme/echo/v1/echo.ts\n  extra.ts`,
      );
    },
    SPAWNS_MS,
  );

  it(
    "fails with buf's own words on a contract that does not lint",
    async () => {
      const file = join(root, 'proto/acme/echo/v1/echo.proto');
      const good = readFileSync(file, 'utf8');
      writeFileSync(
        file,
        good
          .replace('message CountResponse', 'message count_response')
          .replace('(stream CountResponse)', '(stream count_response)'),
      );
      try {
        const r = await refront(root, 'generate');
        expect(r.code).toBe(1);
        expect(r.err).toMatch(/^refront: buf lint proto failed:\n.*count_response.*PascalCase/s);
      } finally {
        writeFileSync(file, good);
      }
    },
    SPAWNS_MS,
  );

  it('says where it looked when there is no proto/ or buf.yaml', async () => {
    const r = await refront('/', 'generate');
    expect(r.code).toBe(1);
    expect(r.err).toBe('refront: no a proto/ directory in / or above: run refront inside a workspace');
  });
});
