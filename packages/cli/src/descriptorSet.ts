import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contractModule, runBuf } from './workspace.js';

/**
 * The google.protobuf.FileDescriptorSet of a workspace's contracts, imports included
 * (what `refront call`'s contract catalog reads), built by `buf build`.
 * @throws RefrontError `CLI_NOT_IN_WORKSPACE` when the contracts are not found, `CLI_TOOL_FAILED` when they do not compile.
 */
export function buildDescriptorSet(options: { readonly cwd: string; readonly proto?: string }): Buffer {
  const m = contractModule(options.cwd, options.proto);
  const tmp = mkdtempSync(join(tmpdir(), 'refront-call-'));
  try {
    const out = join(tmp, 'set.binpb');
    runBuf(m, ['build', m.module, '--exclude-source-info', '-o', out]);
    return readFileSync(out);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
