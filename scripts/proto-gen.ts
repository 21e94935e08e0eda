// The repository's contracts through the one contract pipeline, `refront generate` (@refront/cli):
// buf lint, ts-proto with Refront's options, only the files each module needs, descriptors.
//   npm run proto:gen     regenerate the committed code
//   npm run proto:check   fail when the committed code is stale, or when a contract breaks the
//                         last release tag (v*), once one exists
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '@refront/cli';

/**
 * Each buf module and the folder its generated TypeScript is committed to: ts-proto's codecs
 * (unless `codecs: false`) and, unless `descriptors: false`, `descriptors.ts`, the module's
 * FileDescriptorSet (the buf.validate rules `@refront/validate` enforces).
 */
export const TARGETS = [
  { module: 'proto', out: 'packages/test-contracts/src/gen' },
  { module: 'examples/refront-demo/proto', out: 'examples/refront-demo/src/gen' },
  { module: 'packages/transport-grpc/proto', out: 'packages/transport-grpc/src/gen', descriptors: false },
  { module: 'packages/validate/proto', out: 'packages/validate/src/gen', codecs: false },
] as const;

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const check = process.argv.includes('--check');
const buf = join(root, 'node_modules/.bin/buf');

function lastReleaseTag(): string | undefined {
  try {
    return execFileSync('git', ['describe', '--tags', '--abbrev=0', '--match', 'v*'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const stale: string[] = [];
  for (const t of TARGETS.filter((t) => existsSync(join(root, t.module)))) {
    try {
      const r = generate({ cwd: root, proto: t.module, check, ...t });
      stale.push(...r.stale.map((f) => join(t.out, f)));
    } catch (e: unknown) {
      // What the CLI says too: buf's own output, or what is missing.
      console.error(`proto: ${t.module}: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
  }
  if (!check) {
    console.log(`proto: generated ${TARGETS.map((t) => t.out).join(', ')}`);
    return 0;
  }
  if (stale.length > 0) {
    console.error(
      `proto: generated code is stale; run \`npm run proto:gen\` and commit:\n  ${stale.join('\n  ')}`,
    );
    return 1;
  }
  const tag = lastReleaseTag();
  if (tag) {
    execFileSync(buf, ['breaking', '--against', `.git#tag=${tag}`], { cwd: root, stdio: 'inherit' });
    console.log(`proto: no breaking change against ${tag}`);
  } else {
    console.log('proto: no release tag (v*) yet, so there is nothing to check breaking changes against');
  }
  console.log('proto: lint passed, generated code is up to date');
  return 0;
}

process.exitCode = await main();
